#pragma once
// SPEC §8 statistics over documents: descriptive aggregates with a percentile-bootstrap CI of the
// mean, and paired comparisons (mean difference with a paired bootstrap CI, Wilcoxon signed-rank).
// Torch-free and Qt-free; the distributions come from Boost.Math.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace cascade::stats {

inline constexpr int64_t kBootstrapResamples = 10000;  // SPEC §8: B = 10,000

// n, mean, sd (n − 1), median, q25, q75, min, max and the 95% percentile-bootstrap CI of the mean.
// NaN inputs are left out (n counts the rest). With n = 0 every number is NaN; with n = 1 sd is NaN
// and the CI is [x, x].
struct Describe {
  int64_t n = 0;
  double mean = 0, sd = 0, median = 0, q25 = 0, q75 = 0, min = 0, max = 0;
  std::array<double, 2> ci95{0, 0};
};

// Quantile q ∈ [0, 1] of sorted values by linear interpolation between order statistics
// (numpy's default, Hyndman–Fan type 7). `sorted` must be non-empty and ascending.
double quantile_sorted(const std::vector<double>& sorted, double q);

// The resampling stream: index i of resample b is the (b·n + i)-th draw of mt19937_64(seed) mapped
// to 0..n−1 by Lemire's unbiased multiply-shift rejection, so a seed gives the same CI everywhere.
// The CI is [quantile 0.025, quantile 0.975] (type 7) of the B resample means.
std::array<double, 2> bootstrap_mean_ci(const std::vector<double>& values, uint64_t seed,
                                        int64_t resamples = kBootstrapResamples, double level = 0.95);

Describe describe(const std::vector<double>& values, uint64_t seed, int64_t resamples = kBootstrapResamples);

// Wilcoxon signed-rank test on paired differences (zeros dropped, Wilcoxon's convention; ties
// get average ranks). Exact two-sided p (the null distribution of W+ by counting subsets) when the
// non-zero n ≤ 50 and no |d| ties, else the normal approximation with the tie correction and a
// continuity correction of 0.5. p = 1 when no difference is non-zero.
struct Wilcoxon {
  int64_t n = 0;         // non-zero differences
  double w_plus = 0;     // sum of the ranks of positive differences
  double p = 1;          // two-sided
  bool exact = false;    // which method gave p
  double z = 0;          // the normal statistic (0 when exact)
};
Wilcoxon wilcoxon_signed_rank(const std::vector<double>& differences);

// Method A vs B on one per-document quantity (a[i], b[i] of document i; pairs with a NaN are left out).
struct Paired {
  int64_t n = 0;
  double mean_diff = 0;           // mean of a − b
  std::array<double, 2> ci95{0, 0};  // percentile bootstrap of the mean difference (as bootstrap_mean_ci)
  Wilcoxon wilcoxon;
  int64_t a_lower = 0, b_lower = 0, ties = 0;  // documents where a < b, b < a, a == b
};
Paired paired(const std::vector<double>& a, const std::vector<double>& b, uint64_t seed,
              int64_t resamples = kBootstrapResamples);

}  // namespace cascade::stats
