// SPEC §8 statistics against references written here independently of core/stats.cpp: naive
// order statistics, enumeration of all 2^n sign patterns, published critical-value tables of the
// signed-rank statistic, the normal-approximation formula with O(n²) ranks, and a bootstrap on a
// different random generator.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>

#include "core/stats.h"

using namespace cascade::stats;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// k-th smallest (0-based) by counting, with no sort: x is it when fewer than k+1 values are below
// it and at least k+1 are at or below it.
double kth_smallest(const std::vector<double>& v, size_t k) {
  for (double x : v) {
    size_t below = 0, at_or_below = 0;
    for (double y : v) {
      below += y < x;
      at_or_below += y <= x;
    }
    if (below <= k && k < at_or_below) return x;
  }
  return kNaN;
}

// Hyndman–Fan type 7 from its definition: h = (n − 1)q, interpolate between x_(⌊h⌋) and x_(⌈h⌉).
double naive_quantile(const std::vector<double>& v, double q) {
  const double h = static_cast<double>(v.size() - 1) * q;
  const double lo = kth_smallest(v, static_cast<size_t>(std::floor(h)));
  const double hi = kth_smallest(v, static_cast<size_t>(std::ceil(h)));
  return lo + (h - std::floor(h)) * (hi - lo);
}

std::vector<double> normal_sample(size_t n, unsigned seed, double mean, double sd) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> dist(mean, sd);
  std::vector<double> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Differences whose |d| are the ranks 1..n (no ties) and whose positive ranks sum to w.
std::vector<double> differences_with_w_plus(int n, int w) {
  std::vector<double> d;
  for (int rank = n; rank >= 1; --rank) {
    const bool positive = rank <= w;
    if (positive) w -= rank;
    d.push_back(positive ? rank : -rank);
  }
  return d;
}

// Two-sided exact p by enumerating all 2^n sign patterns of the ranks 1..n.
double enumerated_p(int n, int w) {
  uint64_t at_most = 0, at_least = 0;
  for (uint64_t mask = 0; mask < (uint64_t{1} << n); ++mask) {
    int sum = 0;
    for (int r = 1; r <= n; ++r)
      if (mask >> (r - 1) & 1) sum += r;
    at_most += sum <= w;
    at_least += sum >= w;
  }
  const double total = std::ldexp(1.0, n);
  return std::min(1.0, 2 * std::min(at_most, at_least) / total);
}

// The normal approximation written from its formula: zeros dropped, rank = 1 + #below + (#equal − 1)/2,
// Σ(t³ − t) over tie groups = Σ over values of (t_i² − 1), continuity 0.5 (not past the mean),
// p = erfc(|z|/√2).
struct NormalReference {
  double w_plus = 0, z = 0, p = 0;
};
NormalReference normal_reference(const std::vector<double>& raw) {
  std::vector<double> d;
  for (double x : raw)
    if (x != 0) d.push_back(x);
  const double n = static_cast<double>(d.size());
  NormalReference r;
  double tie_term = 0;
  for (double x : d) {
    double below = 0, equal = 0;
    for (double y : d) {
      below += std::abs(y) < std::abs(x);
      equal += std::abs(y) == std::abs(x);
    }
    if (x > 0) r.w_plus += 1 + below + (equal - 1) / 2;
    tie_term += equal * equal - 1;
  }
  const double mean = n * (n + 1) / 4;
  const double var = n * (n + 1) * (2 * n + 1) / 24 - tie_term / 48;
  const double dev = r.w_plus - mean;
  const double corrected = std::abs(dev) < 0.5 ? 0 : dev - std::copysign(0.5, dev);
  r.z = corrected / std::sqrt(var);
  r.p = std::min(1.0, std::erfc(std::abs(r.z) / std::sqrt(2.0)));
  return r;
}

// Type 7 on already sorted values, from h = (n − 1)q (the O(n²) one is too slow for 200,000 means).
double sorted_type7(const std::vector<double>& s, double q) {
  const double h = static_cast<double>(s.size() - 1) * q;
  const auto lo = static_cast<size_t>(h);
  return lo + 1 < s.size() ? s[lo] + (h - static_cast<double>(lo)) * (s[lo + 1] - s[lo]) : s[lo];
}

// A percentile bootstrap on a different generator (mt19937 + uniform_int_distribution).
std::array<double, 2> reference_bootstrap(const std::vector<double>& v, int resamples, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, v.size() - 1);
  std::vector<double> means(resamples);
  for (auto& m : means) {
    double s = 0;
    for (size_t i = 0; i < v.size(); ++i) s += v[pick(rng)];
    m = s / static_cast<double>(v.size());
  }
  std::sort(means.begin(), means.end());
  return {sorted_type7(means, 0.025), sorted_type7(means, 0.975)};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Quantiles and describe

TEST(StatsQuantile, HandCheckedNumpyType7) {
  const std::vector<double> v = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(quantile_sorted(v, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile_sorted(v, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(quantile_sorted(v, 0.75), 3.25);
  EXPECT_DOUBLE_EQ(quantile_sorted(v, 0.0), 1);
  EXPECT_DOUBLE_EQ(quantile_sorted(v, 1.0), 4);
  // numpy.percentile([3,1,4,1,5,9,2,6], [25,50,75]) = 1.75, 3.5, 5.25 (h = 7q by hand)
  const std::vector<double> w = {1, 1, 2, 3, 4, 5, 6, 9};
  EXPECT_DOUBLE_EQ(quantile_sorted(w, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(quantile_sorted(w, 0.5), 3.5);
  EXPECT_DOUBLE_EQ(quantile_sorted(w, 0.75), 5.25);
  EXPECT_DOUBLE_EQ(quantile_sorted({7}, 0.3), 7);
  EXPECT_THROW(quantile_sorted({}, 0.5), std::invalid_argument);
}

TEST(StatsDescribe, HandCheckedSmallCase) {
  const Describe d = describe({4, 1, 3, 2}, 1);
  EXPECT_EQ(d.n, 4);
  EXPECT_DOUBLE_EQ(d.mean, 2.5);
  EXPECT_NEAR(d.sd, std::sqrt(5.0 / 3.0), 1e-15);  // Σ(x − 2.5)² = 5, over n − 1 = 3
  EXPECT_DOUBLE_EQ(d.median, 2.5);
  EXPECT_DOUBLE_EQ(d.q25, 1.75);
  EXPECT_DOUBLE_EQ(d.q75, 3.25);
  EXPECT_DOUBLE_EQ(d.min, 1);
  EXPECT_DOUBLE_EQ(d.max, 4);
  EXPECT_LE(d.ci95[0], d.mean);
  EXPECT_GE(d.ci95[1], d.mean);
  EXPECT_GE(d.ci95[0], 1);  // a resample mean cannot leave [min, max]
  EXPECT_LE(d.ci95[1], 4);
}

TEST(StatsDescribe, MatchesBruteForceOnRandomData) {
  for (unsigned seed : {1u, 2u, 3u}) {
    std::vector<double> v = normal_sample(37 + seed * 11, seed, 5.0, 2.0);
    v.push_back(v[3]);  // a tie
    const Describe d = describe(v, seed, 200);
    long double sum = 0, sum_sq = 0;
    for (double x : v) {
      sum += x;
      sum_sq += static_cast<long double>(x) * x;
    }
    const long double n = v.size();
    const double mean = static_cast<double>(sum / n);
    const double sd = static_cast<double>(std::sqrt((sum_sq - sum * sum / n) / (n - 1)));
    EXPECT_EQ(d.n, static_cast<int64_t>(v.size()));
    EXPECT_NEAR(d.mean, mean, 1e-12);
    EXPECT_NEAR(d.sd, sd, 1e-10);
    EXPECT_DOUBLE_EQ(d.median, naive_quantile(v, 0.5));
    EXPECT_DOUBLE_EQ(d.q25, naive_quantile(v, 0.25));
    EXPECT_DOUBLE_EQ(d.q75, naive_quantile(v, 0.75));
    EXPECT_DOUBLE_EQ(d.min, kth_smallest(v, 0));
    EXPECT_DOUBLE_EQ(d.max, kth_smallest(v, v.size() - 1));
  }
}

TEST(StatsDescribe, NaNLeftOut) {
  const Describe with = describe({1, kNaN, 2, 3, kNaN, 4}, 9);
  const Describe without = describe({1, 2, 3, 4}, 9);
  EXPECT_EQ(with.n, 4);
  EXPECT_DOUBLE_EQ(with.mean, without.mean);
  EXPECT_DOUBLE_EQ(with.sd, without.sd);
  EXPECT_DOUBLE_EQ(with.median, without.median);
  EXPECT_DOUBLE_EQ(with.ci95[0], without.ci95[0]);
  EXPECT_DOUBLE_EQ(with.ci95[1], without.ci95[1]);
}

TEST(StatsDescribe, EmptyAndSingle) {
  const Describe none = describe({kNaN, kNaN}, 1);
  EXPECT_EQ(none.n, 0);
  for (double x : {none.mean, none.sd, none.median, none.q25, none.q75, none.min, none.max, none.ci95[0],
                   none.ci95[1]})
    EXPECT_TRUE(std::isnan(x));
  EXPECT_EQ(describe({}, 1).n, 0);

  const Describe one = describe({3.5}, 1);
  EXPECT_EQ(one.n, 1);
  EXPECT_DOUBLE_EQ(one.mean, 3.5);
  EXPECT_TRUE(std::isnan(one.sd));
  EXPECT_DOUBLE_EQ(one.median, 3.5);
  EXPECT_DOUBLE_EQ(one.q25, 3.5);
  EXPECT_DOUBLE_EQ(one.min, 3.5);
  EXPECT_DOUBLE_EQ(one.max, 3.5);
  EXPECT_DOUBLE_EQ(one.ci95[0], 3.5);
  EXPECT_DOUBLE_EQ(one.ci95[1], 3.5);
}

// ---------------------------------------------------------------------------------------------
// Wilcoxon, exact

TEST(StatsWilcoxonExact, EveryStatisticMatchesSignEnumeration) {
  for (int n = 1; n <= 12; ++n)
    for (int w = 0; w <= n * (n + 1) / 2; ++w) {
      const Wilcoxon r = wilcoxon_signed_rank(differences_with_w_plus(n, w));
      ASSERT_TRUE(r.exact);
      ASSERT_EQ(r.n, n);
      ASSERT_DOUBLE_EQ(r.w_plus, w);
      ASSERT_NEAR(r.p, enumerated_p(n, w), 1e-15) << "n = " << n << ", W+ = " << w;
      ASSERT_EQ(r.z, 0);
    }
  for (int w : {0, 10, 29, 30, 50, 67, 68, 100, 136})
    EXPECT_NEAR(wilcoxon_signed_rank(differences_with_w_plus(16, w)).p, enumerated_p(16, w), 1e-15) << w;
}

TEST(StatsWilcoxonExact, PublishedValues) {
  // n = 10: P(W+ ≤ 8) = 25/1024 = 0.0244 one-sided (signed-rank tables), so two-sided 0.0488.
  EXPECT_NEAR(wilcoxon_signed_rank(differences_with_w_plus(10, 8)).p, 0.0488, 1e-4);
  EXPECT_NEAR(wilcoxon_signed_rank(differences_with_w_plus(10, 8)).p, 2 * 25.0 / 1024, 1e-15);
  // n = 5 can never reach 0.05: the smallest two-sided p is 2/32.
  EXPECT_DOUBLE_EQ(wilcoxon_signed_rank({1, 2, 3, 4, 5}).p, 0.0625);
  // Darwin's Zea mays differences (Fisher 1935), the example of scipy.stats.wilcoxon's documentation:
  // statistic 24, two-sided exact p 0.041259765625. W+ here is 120 − 24 = 96; the p is symmetric.
  const std::vector<double> darwin = {6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75};
  const Wilcoxon r = wilcoxon_signed_rank(darwin);
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.w_plus, 96);
  EXPECT_DOUBLE_EQ(r.p, 0.041259765625);
  EXPECT_DOUBLE_EQ(enumerated_p(15, 24), 0.041259765625);
}

TEST(StatsWilcoxonExact, PublishedCriticalValues) {
  // Critical values of the signed-rank statistic (the largest T with P(T ≤ c) ≤ α/2), from the
  // standard tables: two-sided α = 0.05 and α = 0.01. p at c is ≤ α and at c + 1 above it.
  const std::vector<std::pair<int, int>> alpha05 = {{6, 0},   {7, 2},   {8, 3},   {9, 5},   {10, 8},
                                                    {11, 10}, {12, 13}, {13, 17}, {14, 21}, {15, 25},
                                                    {16, 29}, {17, 34}, {18, 40}, {19, 46}, {20, 52},
                                                    {25, 89}, {30, 137}, {40, 264}, {50, 434}};
  const std::vector<std::pair<int, int>> alpha01 = {{8, 0},   {9, 1},   {10, 3},  {11, 5},
                                                    {12, 7},  {13, 9},  {14, 12}, {15, 15},
                                                    {16, 19}, {20, 37}, {25, 68}, {30, 109}};
  for (const auto& [table, alpha] : {std::pair{alpha05, 0.05}, std::pair{alpha01, 0.01}})
    for (const auto& [n, c] : table) {
      EXPECT_LE(wilcoxon_signed_rank(differences_with_w_plus(n, c)).p, alpha) << n;
      EXPECT_GT(wilcoxon_signed_rank(differences_with_w_plus(n, c + 1)).p, alpha) << n;
    }
}

TEST(StatsWilcoxonExact, RanksNonIntegerDifferencesAndDropsZeros) {
  // Shuffled, non-integer magnitudes with zeros: only the order of |d| matters.
  std::vector<double> d;
  for (int r = 1; r <= 14; ++r) d.push_back((r % 3 == 0 ? -1 : 1) * (0.1 + 0.37 * r));
  d.push_back(0);
  d.push_back(0);
  std::shuffle(d.begin(), d.end(), std::mt19937(4));
  int w = 0;
  for (int r = 1; r <= 14; ++r) w += r % 3 == 0 ? 0 : r;
  const Wilcoxon res = wilcoxon_signed_rank(d);
  EXPECT_TRUE(res.exact);
  EXPECT_EQ(res.n, 14);
  EXPECT_DOUBLE_EQ(res.w_plus, w);
  EXPECT_NEAR(res.p, enumerated_p(14, w), 1e-15);
}

TEST(StatsWilcoxonExact, NoNonZeroDifference) {
  const Wilcoxon r = wilcoxon_signed_rank({0, 0, 0});
  EXPECT_EQ(r.n, 0);
  EXPECT_EQ(r.p, 1);
  EXPECT_EQ(wilcoxon_signed_rank({}).p, 1);
}

// ---------------------------------------------------------------------------------------------
// Wilcoxon, normal approximation

TEST(StatsWilcoxonNormal, LargeSampleWithTiesAndZeros) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> value(-6, 8);  // shifted: a real effect, many ties and zeros
  std::vector<double> d(200);
  for (auto& x : d) x = value(rng) * 0.5;
  const NormalReference ref = normal_reference(d);
  const Wilcoxon r = wilcoxon_signed_rank(d);
  EXPECT_FALSE(r.exact);
  EXPECT_EQ(r.n, static_cast<int64_t>(std::count_if(d.begin(), d.end(), [](double x) { return x != 0; })));
  EXPECT_LT(r.n, 200);
  EXPECT_DOUBLE_EQ(r.w_plus, ref.w_plus);
  EXPECT_NEAR(r.z, ref.z, 1e-12);
  EXPECT_NEAR(r.p, ref.p, 1e-12 + 1e-9 * ref.p);
  EXPECT_LT(r.p, 0.05);
  EXPECT_GT(r.z, 0);
}

TEST(StatsWilcoxonNormal, NullSampleWithTies) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> value(-3, 3);
  std::vector<double> d(200);
  for (auto& x : d) x = value(rng);
  const NormalReference ref = normal_reference(d);
  const Wilcoxon r = wilcoxon_signed_rank(d);
  EXPECT_FALSE(r.exact);
  EXPECT_NEAR(r.z, ref.z, 1e-12);
  EXPECT_NEAR(r.p, ref.p, 1e-12);
}

TEST(StatsWilcoxonNormal, TiesBelowFiftyGoNormal) {
  const std::vector<double> d = {1, 1, 2, 3, -4, 5, 5, 5, 6, -7, 8, 9, 10, 10, -11, 12, 0};
  const NormalReference ref = normal_reference(d);
  const Wilcoxon r = wilcoxon_signed_rank(d);
  EXPECT_FALSE(r.exact);
  EXPECT_EQ(r.n, 16);
  EXPECT_DOUBLE_EQ(r.w_plus, ref.w_plus);
  EXPECT_NEAR(r.z, ref.z, 1e-12);
  EXPECT_NEAR(r.p, ref.p, 1e-12);
}

TEST(StatsWilcoxonNormal, MoreThanFiftyWithoutTiesGoNormal) {
  const std::vector<double> d = differences_with_w_plus(51, 700);
  const NormalReference ref = normal_reference(d);
  const Wilcoxon r = wilcoxon_signed_rank(d);
  EXPECT_FALSE(r.exact);
  EXPECT_DOUBLE_EQ(r.w_plus, 700);
  EXPECT_NEAR(r.p, ref.p, 1e-12);
  EXPECT_TRUE(wilcoxon_signed_rank(differences_with_w_plus(50, 700)).exact);
}

TEST(StatsWilcoxonNormal, AtTheMeanPIsOne) {
  // {1, −1, 1, −1}: four ties at rank 2.5, W+ = 5 = n(n+1)/4, so z = 0 and p = 1.
  const Wilcoxon r = wilcoxon_signed_rank({1, -1, 1, -1});
  EXPECT_FALSE(r.exact);
  EXPECT_EQ(r.z, 0);
  EXPECT_EQ(r.p, 1);
}

// ---------------------------------------------------------------------------------------------
// Bootstrap

TEST(StatsBootstrap, ReproducibleForASeed) {
  const std::vector<double> v = normal_sample(60, 3, 0.4, 0.2);
  const auto a = bootstrap_mean_ci(v, 42);
  const auto b = bootstrap_mean_ci(v, 42);
  const auto c = bootstrap_mean_ci(v, 43);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_LT(a[0], a[1]);
  EXPECT_EQ(describe(v, 42).ci95, a);
}

TEST(StatsBootstrap, StreamIsTheDocumentedOne) {
  // The file-format contract, written out: draw k of mt19937_64(seed) mapped by Lemire's
  // multiply-shift (no rejection occurs for n = 7 here: the low word would have to be < 7).
  const std::vector<double> v = {0.5, 1, 2, 4, 8, 16, 32};
  const uint64_t n = v.size();
  std::mt19937_64 rng(2024);
  std::vector<double> means;
  for (int b = 0; b < 3; ++b) {
    double sum = 0;
    for (uint64_t i = 0; i < n; ++i) {
      const unsigned __int128 m = static_cast<unsigned __int128>(rng()) * n;
      ASSERT_GE(static_cast<uint64_t>(m), n);
      sum += v[static_cast<size_t>(m >> 64)];
    }
    means.push_back(sum / n);
  }
  std::sort(means.begin(), means.end());
  const auto ci = bootstrap_mean_ci(v, 2024, 3);
  // Type 7 over 3 values: h = 2q, so 0.05 and 1.95.
  EXPECT_DOUBLE_EQ(ci[0], means[0] + 0.05 * (means[1] - means[0]));
  EXPECT_DOUBLE_EQ(ci[1], means[1] + 0.95 * (means[2] - means[1]));
}

TEST(StatsBootstrap, AgreesWithAnIndependentBootstrap) {
  for (unsigned seed : {1u, 2u}) {
    // A skewed sample (exponential), where a percentile CI is visibly asymmetric.
    std::mt19937 rng(seed + 100);
    std::exponential_distribution<double> dist(1.0);
    std::vector<double> v(50);
    for (auto& x : v) x = dist(rng);
    const auto ours = bootstrap_mean_ci(v, seed);
    const auto ref = reference_bootstrap(v, 200000, seed);
    const double width = ref[1] - ref[0];
    EXPECT_NEAR(ours[0], ref[0], 0.02 * width) << seed;
    EXPECT_NEAR(ours[1], ref[1], 0.02 * width) << seed;
  }
}

TEST(StatsBootstrap, NormalTheoryForALargeSample) {
  const std::vector<double> v = normal_sample(400, 8, 10.0, 3.0);
  const Describe d = describe(v, 5);
  const double half = 1.96 * d.sd / std::sqrt(400.0);
  EXPECT_NEAR(d.ci95[0], d.mean - half, 0.03 * 2 * half);
  EXPECT_NEAR(d.ci95[1], d.mean + half, 0.03 * 2 * half);
}

TEST(StatsBootstrap, EdgeCases) {
  const auto none = bootstrap_mean_ci({kNaN}, 1);
  EXPECT_TRUE(std::isnan(none[0]) && std::isnan(none[1]));
  EXPECT_EQ(bootstrap_mean_ci({2.0, 2.0, 2.0}, 1), (std::array<double, 2>{2.0, 2.0}));
  EXPECT_THROW(bootstrap_mean_ci({1.0, 2.0}, 1, 0), std::invalid_argument);
  const auto wide = bootstrap_mean_ci({0.0, 1.0}, 3, 10000, 0.99);
  const auto narrow = bootstrap_mean_ci({0.0, 1.0}, 3, 10000, 0.5);
  EXPECT_LE(wide[0], narrow[0]);
  EXPECT_GE(wide[1], narrow[1]);
}

// ---------------------------------------------------------------------------------------------
// Paired

TEST(StatsPaired, CountsMeanAndDroppedPairs) {
  const std::vector<double> a = {1.0, 2.0, 3.0, kNaN, 5.0, 4.0, 7.0};
  const std::vector<double> b = {1.5, 2.0, 1.0, 9.0, kNaN, 3.0, 6.5};
  const Paired p = paired(a, b, 7);
  // kept pairs: (1,1.5) (2,2) (3,1) (4,3) (7,6.5): differences −0.5, 0, 2, 1, 0.5
  EXPECT_EQ(p.n, 5);
  EXPECT_DOUBLE_EQ(p.mean_diff, 3.0 / 5);
  EXPECT_EQ(p.a_lower, 1);
  EXPECT_EQ(p.b_lower, 3);
  EXPECT_EQ(p.ties, 1);
  EXPECT_EQ(p.wilcoxon.n, 4);  // the tie carries no sign
  // |d| = 0.5, 2, 1, 0.5 → ranks 1.5, 4, 3, 1.5; W+ = 4 + 3 + 1.5
  EXPECT_DOUBLE_EQ(p.wilcoxon.w_plus, 8.5);
  EXPECT_FALSE(p.wilcoxon.exact);
  EXPECT_NEAR(p.wilcoxon.p, normal_reference({-0.5, 0, 2, 1, 0.5}).p, 1e-12);
  EXPECT_EQ(p.ci95, bootstrap_mean_ci({-0.5, 0, 2, 1, 0.5}, 7));
  EXPECT_EQ(paired(a, b, 7).ci95, p.ci95);
  EXPECT_LE(p.ci95[0], p.mean_diff);
  EXPECT_GE(p.ci95[1], p.mean_diff);
}

TEST(StatsPaired, ShiftedMethodsAndErrors) {
  const std::vector<double> b = normal_sample(30, 21, 0.5, 0.1);
  std::vector<double> a = b;
  for (size_t i = 0; i < a.size(); ++i) a[i] += 0.05 + 0.001 * static_cast<double>(i);  // a always higher
  const Paired p = paired(a, b, 1);
  EXPECT_EQ(p.b_lower, 30);
  EXPECT_EQ(p.a_lower, 0);
  EXPECT_TRUE(p.wilcoxon.exact);
  EXPECT_DOUBLE_EQ(p.wilcoxon.p, 2.0 / std::ldexp(1.0, 30));  // every sign positive
  EXPECT_GT(p.ci95[0], 0.05 - 1e-12);
  EXPECT_THROW(paired({1, 2}, {1}, 1), std::invalid_argument);
  const Paired none = paired({kNaN}, {1}, 1);
  EXPECT_EQ(none.n, 0);
  EXPECT_TRUE(std::isnan(none.mean_diff));
  EXPECT_EQ(none.wilcoxon.p, 1);
}
