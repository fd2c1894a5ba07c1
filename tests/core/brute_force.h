#pragma once
// Independent references for the fast paths: plain loops in double precision over the full
// pairwise cosine table, written straight from SPEC.md with no tiling, no GEMM and no Torch ops.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "core/selection.h"

namespace bf {

using Mat = std::vector<std::vector<double>>;

Mat to_mat(const at::Tensor& x);  // [T, d] of any float dtype → double
Mat normalize(const Mat& x);      // rows / norm; rows with norm < 1e-12 stay zero
double abs_cos(const Mat& xhat, int64_t a, int64_t b);

struct PriorMax {
  std::vector<double> gamma;  // gamma[0] = -inf
  std::vector<int64_t> partner;
};
PriorMax prior_max(const Mat& xhat);
cascade::TokenSet prior_max_reps(const Mat& xhat, double theta);
cascade::TokenSet greedy_cover(const Mat& xhat, double theta);
cascade::CascadeTrace cascade_step(const Mat& xhat, const cascade::TokenSet& inherited, double theta);

// True when some pair's |cos| lies within eps of theta: a decision there depends on rounding, so
// exact-set comparisons between a float32 fast path and this double reference are not meaningful.
bool near_tie(const Mat& xhat, double theta, double eps = 1e-5);

// Clustered rows [T, d]: K centres plus relative noise, so |cos| spreads over [0, 1] and the
// sets are non-trivial. Optionally sets a few rows to zero and duplicates a few.
at::Tensor clustered(int64_t T, int64_t d, int64_t K, double noise, uint64_t seed, bool specials = true);

}  // namespace bf
