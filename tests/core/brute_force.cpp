#include "brute_force.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "core/sets.h"

namespace bf {

Mat to_mat(const at::Tensor& x) {
  at::Tensor c = x.to(at::kCPU, at::kDouble).contiguous();
  const int64_t T = c.size(0), d = c.size(1);
  const double* p = c.data_ptr<double>();
  Mat m(T, std::vector<double>(d));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t k = 0; k < d; ++k) m[t][k] = p[t * d + k];
  return m;
}

Mat normalize(const Mat& x) {
  Mat out = x;
  for (auto& row : out) {
    double n = 0;
    for (double v : row) n += v * v;
    n = std::sqrt(n);
    for (double& v : row) v = n < 1e-12 ? 0.0 : v / n;
  }
  return out;
}

double abs_cos(const Mat& xhat, int64_t a, int64_t b) {
  double s = 0;
  for (size_t k = 0; k < xhat[a].size(); ++k) s += xhat[a][k] * xhat[b][k];
  return std::abs(s);
}

PriorMax prior_max(const Mat& xhat) {
  const int64_t T = static_cast<int64_t>(xhat.size());
  PriorMax out{std::vector<double>(T, -std::numeric_limits<double>::infinity()), std::vector<int64_t>(T, -1)};
  for (int64_t t = 1; t < T; ++t)
    for (int64_t s = 0; s < t; ++s) {
      const double c = abs_cos(xhat, t, s);
      if (c > out.gamma[t]) out.gamma[t] = c, out.partner[t] = s;
    }
  return out;
}

cascade::TokenSet prior_max_reps(const Mat& xhat, double theta) {
  const PriorMax pm = prior_max(xhat);
  cascade::TokenSet reps;
  for (int64_t t = 0; t < static_cast<int64_t>(xhat.size()); ++t)
    if (pm.gamma[t] < theta) reps.push_back(t);
  return reps;
}

cascade::TokenSet greedy_cover(const Mat& xhat, double theta) {
  cascade::TokenSet reps;
  for (int64_t t = 0; t < static_cast<int64_t>(xhat.size()); ++t) {
    bool covered = false;
    for (int64_t s : reps) covered = covered || abs_cos(xhat, t, s) >= theta;
    if (!covered) reps.push_back(t);
  }
  return reps;
}

cascade::CascadeTrace cascade_step(const Mat& xhat, const cascade::TokenSet& inherited, double theta) {
  cascade::CascadeTrace tr;
  tr.inherited = inherited;
  for (size_t i = 0; i < inherited.size(); ++i) {
    double m = -std::numeric_limits<double>::infinity();
    for (size_t j = 0; j < i; ++j) m = std::max(m, abs_cos(xhat, inherited[i], inherited[j]));
    (m < theta ? tr.valid : tr.removed).push_back(inherited[i]);
  }
  for (int64_t t = 0; t < static_cast<int64_t>(xhat.size()); ++t) {
    if (std::binary_search(inherited.begin(), inherited.end(), t)) continue;
    double m = -std::numeric_limits<double>::infinity();
    for (int64_t s : tr.valid) m = std::max(m, abs_cos(xhat, t, s));
    if (m < theta) tr.added.push_back(t);
  }
  tr.result = cascade::set_union(tr.valid, tr.added);
  const auto T = static_cast<int64_t>(xhat.size()), r = static_cast<int64_t>(inherited.size());
  tr.gram_entries = r * r + (T - r) * static_cast<int64_t>(tr.valid.size());
  return tr;
}

bool near_tie(const Mat& xhat, double theta, double eps) {
  for (size_t a = 0; a < xhat.size(); ++a)
    for (size_t b = 0; b < a; ++b)
      if (std::abs(abs_cos(xhat, a, b) - theta) < eps) return true;
  return false;
}

at::Tensor clustered(int64_t T, int64_t d, int64_t K, double noise, uint64_t seed, bool specials) {
  at::manual_seed(seed);
  at::Tensor centres = at::randn({K, d});
  centres = centres / centres.norm(2, {1}, true);
  at::Tensor which = at::randint(K, {T});
  at::Tensor scale = at::rand({T, 1}) * 2.0 * noise;  // per-token noise level in [0, 2·noise]
  at::Tensor x = centres.index_select(0, which) + scale * at::randn({T, d}) / std::sqrt(static_cast<double>(d));
  x = x * (at::rand({T, 1}) * 10 + 0.1);  // norms must not matter
  if (specials && T >= 6) {
    x[T / 3].zero_();                 // a zero row
    x[T - 1].copy_(x[T / 2] * -3.0);  // an exact (anti-)duplicate: |cos| = 1
  }
  return x;
}

}  // namespace bf
