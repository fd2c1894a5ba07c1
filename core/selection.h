#pragma once
// Representative-token selection at one layer (SPEC.md §1–§3).
//
// Everything here works on LibTorch tensors of any device: the CPU path now, CUDA/ROCm unchanged
// later. Inputs of dtype float32, float16 and bfloat16 are accepted; the arithmetic is float32.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/defaults.h"
#include "core/progress.h"

namespace cascade {

// Sorted ascending list of token positions.
using TokenSet = std::vector<int64_t>;

enum class Rule { PriorMax, GreedyCover };
std::string to_string(Rule rule);
Rule parse_rule(const std::string& name);  // "prior-max" | "greedy-cover"; throws UsageError

// θ(τ) = 1 − τ². Throws UsageError unless 0 <= τ <= 1.
double theta_of_tau(double tau);


// X̂: each row divided by its norm, as float32 on the input's device. Rows whose norm is below
// 1e-12 stay zero (their cosines are 0, so they are always representative). Robust to rows whose
// squared norm would overflow or underflow float32 (rows are pre-scaled by their max |x|).
at::Tensor normalize_rows(const at::Tensor& x);

// Prior-max scan (Definition 1): γ_t = max_{s<t} |X̂_t · X̂_s|, π_t its argmax; γ_0 = −∞, π_0 = −1.
// Tiled: never allocates T×T, extra memory is O(T · tile). τ-free.
struct PriorMax {
  std::vector<float> gamma;
  std::vector<int64_t> partner;
};
PriorMax prior_max_scan(const at::Tensor& xhat, int64_t tile = kDefaultTile,
                        const JobControl& control = {});

// Representatives for one θ from γ: { t : γ_t < θ }. O(T).
TokenSet reps_from_gamma(const std::vector<float>& gamma, double theta);

// Greedy cover (§2.5): scan t = 0..T−1, t is representative iff its max |cos| with the
// representatives chosen so far is < θ. Blocked: one GEMM per tile against earlier reps, then an
// exact sequential pass inside the tile.
TokenSet greedy_cover(const at::Tensor& xhat, double theta, int64_t tile = kDefaultTile,
                      const JobControl& control = {});

// One cascade step, Algorithm 1 verbatim, from the (sorted) set R of layer l to layer l+1 with
// normalised activations xhat = X̂^(l+1).
struct CascadeTrace {
  TokenSet inherited;  // R^(l)
  TokenSet valid;      // s ∈ R with max_{s'∈R, s'<s} |G_R(s,s')| < θ
  TokenSet removed;    // R \ valid
  TokenSet added;      // t ∉ R with max_{s∈valid} |C(t,s)| < θ
  TokenSet result;     // valid ∪ added
  int64_t gram_entries = 0;  // r_inh² + (T − r_inh) · r_valid
};
// The Gram entries a cascade step computes (SPEC §4): the r_inh × r_inh validation block and the
// (T − r_inh) × r_valid cross block.
inline int64_t cascade_gram_entries(int64_t T, int64_t r_inh, int64_t r_valid) {
  return r_inh * r_inh + (T - r_inh) * r_valid;
}

// R̄ = {0 .. T−1} \ R: the tokens a cascade step may add. Checks that R is sorted and inside [0, T).
TokenSet non_inherited(const TokenSet& inherited, int64_t T);

CascadeTrace cascade_step(const at::Tensor& xhat, const TokenSet& inherited, double theta,
                          int64_t tile = kDefaultTile, const JobControl& control = {});

// A tensor's values on the host, converted to float32 / int64 (any device, any dtype).
std::vector<float> host_floats(const at::Tensor& t);
std::vector<int64_t> host_longs(const at::Tensor& t);

// Independent selection with either rule (prior-max uses γ, greedy-cover uses X̂).
TokenSet independent_reps(Rule rule, const at::Tensor& xhat, const std::vector<float>& gamma,
                          double theta, int64_t tile = kDefaultTile);

}  // namespace cascade
