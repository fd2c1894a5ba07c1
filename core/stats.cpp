#include "core/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>

#include <boost/math/distributions/normal.hpp>

namespace cascade::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> without_nan(const std::vector<double>& values) {
  std::vector<double> kept;
  kept.reserve(values.size());
  for (double v : values)
    if (!std::isnan(v)) kept.push_back(v);
  return kept;
}

double mean_of(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

// Two passes (mean, then squared deviations) so a large common offset does not cancel digits.
double sd_of(const std::vector<double>& v, double mean) {
  if (v.size() < 2) return kNaN;
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

// Lemire, "Fast Random Integer Generation in an Interval" (2019): the high word of x·n is uniform
// on 0..n−1 once the low word's biased region [0, 2^64 mod n) is rejected. A rejection consumes
// the next draw of the stream (probability below n / 2^64, so in practice draw k = b·n + i).
uint64_t bounded(std::mt19937_64& rng, uint64_t n) {
  unsigned __int128 m = static_cast<unsigned __int128>(rng()) * n;
  auto low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    while (low < threshold) {
      m = static_cast<unsigned __int128>(rng()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

// Average ranks (1-based) of |d|, and Σ(t³ − t) over the tie groups for the normal variance.
struct Ranked {
  std::vector<double> ranks;  // in the order of the input
  double tie_term = 0;
};

Ranked rank_abs(const std::vector<double>& d) {
  const size_t n = d.size();
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return std::abs(d[a]) < std::abs(d[b]); });
  Ranked r{std::vector<double>(n), 0};
  for (size_t lo = 0; lo < n;) {
    size_t hi = lo + 1;
    while (hi < n && std::abs(d[order[hi]]) == std::abs(d[order[lo]])) ++hi;
    const double average = (static_cast<double>(lo + 1) + static_cast<double>(hi)) / 2;
    for (size_t k = lo; k < hi; ++k) r.ranks[order[k]] = average;
    const double t = static_cast<double>(hi - lo);
    r.tie_term += t * t * t - t;
    lo = hi;
  }
  return r;
}

// The null distribution of W+ without ties: counts[s] = number of subsets of {1..n} summing to s.
// Counts are at most 2^50 for n ≤ 50, exact in uint64.
double exact_two_sided_p(int64_t n, int64_t w_plus) {
  const int64_t total = n * (n + 1) / 2;
  std::vector<uint64_t> counts(static_cast<size_t>(total + 1), 0);
  counts[0] = 1;
  for (int64_t rank = 1; rank <= n; ++rank)
    for (int64_t s = rank * (rank + 1) / 2; s >= rank; --s) counts[s] += counts[s - rank];
  uint64_t at_most = 0, at_least = 0;
  for (int64_t s = 0; s <= total; ++s) (s <= w_plus ? at_most : at_least) += counts[s];
  at_least += counts[w_plus];  // P(W+ ≥ w) includes w itself
  const double subsets = std::ldexp(1.0, static_cast<int>(n));
  const double tail = static_cast<double>(std::min(at_most, at_least)) / subsets;
  return std::min(1.0, 2 * tail);
}

// Continuity correction of 0.5 towards the mean, but never past it (|W+ − mean| < 0.5 gives z = 0).
double normal_z(double w_plus, int64_t n, double tie_term) {
  const double nn = static_cast<double>(n);
  const double mean = nn * (nn + 1) / 4;
  const double variance = nn * (nn + 1) * (2 * nn + 1) / 24 - tie_term / 48;
  const double deviation = w_plus - mean;
  const double corrected = std::copysign(std::max(0.0, std::abs(deviation) - 0.5), deviation);
  return corrected / std::sqrt(variance);
}

}  // namespace

double quantile_sorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) throw std::invalid_argument("quantile_sorted: no values");
  const double h = static_cast<double>(sorted.size() - 1) * q;
  const auto lo = static_cast<size_t>(std::floor(h));
  if (lo + 1 >= sorted.size()) return sorted.back();
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[lo + 1] - sorted[lo]);
}

// The stream, as the file-format doc states it: rng = std::mt19937_64(seed); for b = 0..B−1, for
// i = 0..n−1, index = Lemire-bounded(rng(), n), the mean of resample b is Σ values[index] / n
// (summed in draw order). The CI is the type-7 quantiles (1 − level)/2 and (1 + level)/2 of the
// B means. NaN inputs are left out first, so n is the count of the rest.
std::array<double, 2> bootstrap_mean_ci(const std::vector<double>& values, uint64_t seed, int64_t resamples,
                                        double level) {
  if (resamples < 1) throw std::invalid_argument("bootstrap_mean_ci: resamples must be ≥ 1");
  const std::vector<double> kept = without_nan(values);
  if (kept.empty()) return {kNaN, kNaN};
  const uint64_t n = kept.size();
  std::mt19937_64 rng(seed);
  std::vector<double> means(static_cast<size_t>(resamples));
  for (auto& mean : means) {
    double sum = 0;
    for (uint64_t i = 0; i < n; ++i) sum += kept[bounded(rng, n)];
    mean = sum / static_cast<double>(n);
  }
  std::sort(means.begin(), means.end());
  const double alpha = 1 - level;
  return {quantile_sorted(means, alpha / 2), quantile_sorted(means, 1 - alpha / 2)};
}

Describe describe(const std::vector<double>& values, uint64_t seed, int64_t resamples) {
  std::vector<double> kept = without_nan(values);
  Describe d;
  d.n = static_cast<int64_t>(kept.size());
  if (kept.empty()) {
    d.mean = d.sd = d.median = d.q25 = d.q75 = d.min = d.max = kNaN;
    d.ci95 = {kNaN, kNaN};
    return d;
  }
  d.mean = mean_of(kept);
  d.sd = sd_of(kept, d.mean);
  d.ci95 = bootstrap_mean_ci(kept, seed, resamples);
  std::sort(kept.begin(), kept.end());
  d.median = quantile_sorted(kept, 0.5);
  d.q25 = quantile_sorted(kept, 0.25);
  d.q75 = quantile_sorted(kept, 0.75);
  d.min = kept.front();
  d.max = kept.back();
  return d;
}

Wilcoxon wilcoxon_signed_rank(const std::vector<double>& differences) {
  std::vector<double> nonzero;  // Wilcoxon's zero_method: zeros (and NaN) carry no sign, drop them
  for (double v : differences)
    if (v != 0 && !std::isnan(v)) nonzero.push_back(v);
  Wilcoxon w;
  w.n = static_cast<int64_t>(nonzero.size());
  if (w.n == 0) return w;
  const Ranked ranked = rank_abs(nonzero);
  for (size_t i = 0; i < nonzero.size(); ++i)
    if (nonzero[i] > 0) w.w_plus += ranked.ranks[i];
  w.exact = w.n <= 50 && ranked.tie_term == 0;
  if (w.exact) {
    w.p = exact_two_sided_p(w.n, static_cast<int64_t>(w.w_plus));
    return w;
  }
  w.z = normal_z(w.w_plus, w.n, ranked.tie_term);
  const boost::math::normal standard;
  w.p = std::min(1.0, 2 * boost::math::cdf(boost::math::complement(standard, std::abs(w.z))));
  return w;
}

Paired paired(const std::vector<double>& a, const std::vector<double>& b, uint64_t seed, int64_t resamples) {
  if (a.size() != b.size()) throw std::invalid_argument("paired: a and b differ in length");
  std::vector<double> diff;
  Paired p;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) continue;
    diff.push_back(a[i] - b[i]);
    if (a[i] < b[i]) ++p.a_lower;
    else if (b[i] < a[i]) ++p.b_lower;
    else ++p.ties;
  }
  p.n = static_cast<int64_t>(diff.size());
  p.mean_diff = diff.empty() ? kNaN : mean_of(diff);
  p.ci95 = bootstrap_mean_ci(diff, seed, resamples);
  p.wilcoxon = wilcoxon_signed_rank(diff);
  return p;
}

}  // namespace cascade::stats
