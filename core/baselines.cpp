#include "core/baselines.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "core/ada.h"
#include "core/engine.h"
#include "core/errors.h"
#include "core/sets.h"

namespace cascade {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

int64_t clamp_r(int64_t T, int64_t r) { return std::clamp<int64_t>(r, 1, std::max<int64_t>(T, 1)); }

std::vector<double> doubles(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kCPU, at::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

TokenSet range(int64_t begin, int64_t end) {
  TokenSet out;
  for (int64_t t = begin; t < end; ++t) out.push_back(t);
  return out;
}

// A uniform integer in [0, n) without modulo bias, and a uniform double in [0, 1): defined on the
// raw mt19937_64 stream (whose output the standard fixes), so a seed gives the same set everywhere.
uint64_t uniform_below(std::mt19937_64& rng, uint64_t n) {
  const uint64_t limit = std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % n;
  for (;;)
    if (const uint64_t x = rng(); x < limit) return x % n;
}
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

}  // namespace

// ---- attention statistics ------------------------------------------------------------------------

int64_t snapkv_window(int64_t T) { return std::min<int64_t>(32, (T + 3) / 4); }

AttentionStats attention_stats(const at::Tensor& k, const at::Tensor& probs) {
  const int64_t T = probs.size(1);
  // Σ_h A^h (H terms in float32), then the sums over queries in float64.
  const at::Tensor summed = probs.to(at::kFloat).sum(0).to(at::kDouble);
  AttentionStats s;
  s.received = doubles(summed.sum(0));
  const int64_t w = snapkv_window(T);
  s.window_received = doubles(summed.narrow(0, T - w, w).sum(0));
  s.last_query = doubles(summed[T - 1]);
  const at::Tensor kd = k.to(at::kDouble);
  const at::Tensor norms = kd.norm(2, -1);  // [H, T]
  s.key_norm = doubles(norms.mean(0));
  const at::Tensor mean_key = kd.mean(1, true);  // [H, 1, hd]
  const at::Tensor denom = norms * mean_key.norm(2, -1);
  // A zero key (or a zero mean key) has cosine 0 with it.
  const at::Tensor cos = at::where(denom > 0, (kd * mean_key).sum(-1) / denom.clamp_min(1e-300), at::zeros_like(denom));
  s.key_cos_to_mean = doubles(cos.mean(0));
  return s;
}

// ---- the methods ---------------------------------------------------------------------------------

TokenSet fill_by_score(int64_t T, int64_t r, const TokenSet& fixed, const std::vector<double>& score,
                       bool higher_is_better) {
  r = clamp_r(T, r);
  TORCH_CHECK(static_cast<int64_t>(score.size()) == T, "one score per token expected");
  std::vector<char> taken(static_cast<size_t>(T), 0);
  TokenSet out;
  for (int64_t t : fixed)
    if (t >= 0 && t < T && !taken[t] && static_cast<int64_t>(out.size()) < r) taken[t] = 1, out.push_back(t);
  // A NaN score ranks last.
  const auto key = [&](int64_t t) {
    const double v = score[t];
    if (std::isnan(v)) return -std::numeric_limits<double>::infinity();
    return higher_is_better ? v : -v;
  };
  TokenSet rest;
  for (int64_t t = 0; t < T; ++t)
    if (!taken[t]) rest.push_back(t);
  std::stable_sort(rest.begin(), rest.end(), [&](int64_t a, int64_t b) { return key(a) > key(b); });
  for (int64_t t : rest) {
    if (static_cast<int64_t>(out.size()) >= r) break;
    out.push_back(t);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TokenSet select_random(int64_t T, int64_t r, uint64_t seed) {
  r = clamp_r(T, r);
  std::mt19937_64 rng(seed);
  TokenSet pool = range(1, T);
  // Partial Fisher–Yates: the first r − 1 entries are a uniform sample without replacement.
  for (int64_t i = 0; i < r - 1; ++i) {
    const auto j = i + static_cast<int64_t>(uniform_below(rng, static_cast<uint64_t>(pool.size() - i)));
    std::swap(pool[i], pool[j]);
  }
  TokenSet out{0};
  out.insert(out.end(), pool.begin(), pool.begin() + (r - 1));
  std::sort(out.begin(), out.end());
  return out;
}

TokenSet select_recency(int64_t T, int64_t r) {
  r = clamp_r(T, r);
  TokenSet out{0};
  const TokenSet last = range(T - (r - 1), T);
  out.insert(out.end(), last.begin(), last.end());
  return out;
}

TokenSet select_streaming_llm(int64_t T, int64_t r) {
  r = clamp_r(T, r);
  const int64_t sinks = std::min<int64_t>(4, r);
  TokenSet out = range(0, sinks);
  const TokenSet last = range(T - (r - sinks), T);
  out.insert(out.end(), last.begin(), last.end());
  return out;
}

TokenSet select_h2o(const std::vector<double>& received, int64_t r) {
  const auto T = static_cast<int64_t>(received.size());
  r = clamp_r(T, r);
  TokenSet fixed{0};
  const TokenSet recent = range(T - r / 2, T);
  fixed.insert(fixed.end(), recent.begin(), recent.end());
  return fill_by_score(T, r, fixed, received, true);
}

std::vector<double> max_pool(const std::vector<double>& x, int64_t width) {
  const auto n = static_cast<int64_t>(x.size());
  const int64_t half = width / 2;
  std::vector<double> y(x.size());
  for (int64_t j = 0; j < n; ++j) {
    double m = -std::numeric_limits<double>::infinity();
    for (int64_t i = std::max<int64_t>(0, j - half); i <= std::min<int64_t>(n - 1, j + half); ++i) m = std::max(m, x[i]);
    y[j] = m;
  }
  return y;
}

TokenSet select_snapkv(const std::vector<double>& window_received, int64_t r) {
  const auto T = static_cast<int64_t>(window_received.size());
  r = clamp_r(T, r);
  // Token 0, then the observation window (its last r − 1 tokens when the budget is smaller), then
  // the best pooled scores.
  const int64_t w = std::min(snapkv_window(T), r - 1);
  TokenSet fixed{0};
  const TokenSet window = range(T - w, T);
  fixed.insert(fixed.end(), window.begin(), window.end());
  return fill_by_score(T, r, fixed, max_pool(window_received, 5), true);
}

TokenSet select_tova(const std::vector<double>& last_query, int64_t r) {
  return fill_by_score(static_cast<int64_t>(last_query.size()), r, {0}, last_query, true);
}

TokenSet select_knorm(const std::vector<double>& key_norm, int64_t r) {
  return fill_by_score(static_cast<int64_t>(key_norm.size()), r, {0}, key_norm, false);
}

TokenSet select_keydiff(const std::vector<double>& key_cos_to_mean, int64_t r) {
  return fill_by_score(static_cast<int64_t>(key_cos_to_mean.size()), r, {0}, key_cos_to_mean, false);
}

std::vector<double> ridge_leverage(const at::Tensor& xhat) {
  const at::Tensor x = xhat.to(at::kCPU, at::kDouble);
  const int64_t d = x.size(1);
  const at::Tensor gram = at::mm(x.t(), x);  // X̂ᵀX̂, [d, d]
  const double lambda = 1e-3 * gram.trace().item<double>() / static_cast<double>(d);
  if (!(lambda > 0)) return std::vector<double>(static_cast<size_t>(x.size(0)), 0.0);  // every row zero
  const at::Tensor a = gram + lambda * at::eye(d, x.options());
  const at::Tensor z = at::linalg_solve(a, x.t());  // (X̂ᵀX̂ + λI)⁻¹ X̂ᵀ, [d, T]
  return doubles((x * z.t()).sum(1));
}

TokenSet select_leverage(const at::Tensor& xhat, int64_t r) {
  return fill_by_score(xhat.size(0), r, {0}, ridge_leverage(xhat), true);
}

KMeansResult spherical_kmeans(const at::Tensor& xhat, int64_t r, uint64_t seed, int64_t max_iterations) {
  const int64_t T = xhat.size(0);
  r = clamp_r(T, r);
  const int64_t n = T - 1, k = r - 1;
  KMeansResult out;
  if (k == 0) {
    out.set = {0};
    return out;
  }
  if (k >= n) {  // every row its own cluster
    out.set = range(0, T);
    out.assignment = range(0, n);
    out.medoids = range(1, T);
    return out;
  }
  const at::Tensor x = xhat.to(at::kCPU, at::kDouble).narrow(0, 1, n).contiguous();  // rows 1..T−1
  std::mt19937_64 rng(seed);
  // k-means++ seeding on the cosine distance 1 − cos: each next seed drawn ∝ D².
  std::vector<int64_t> seeds{static_cast<int64_t>(uniform_below(rng, static_cast<uint64_t>(n)))};
  std::vector<char> chosen(static_cast<size_t>(n), 0);
  chosen[seeds[0]] = 1;
  at::Tensor best = at::mv(x, x[seeds[0]]);  // max cos to a seed so far
  while (static_cast<int64_t>(seeds.size()) < k) {
    const std::vector<double> dist = doubles((1.0 - best).clamp_min(0));
    double total = 0;
    for (int64_t i = 0; i < n; ++i)
      if (!chosen[i]) total += dist[i] * dist[i];
    int64_t pick = -1;
    if (total > 0) {
      const double u = uniform01(rng) * total;
      double cum = 0;
      for (int64_t i = 0; i < n && pick < 0; ++i) {
        if (chosen[i] || dist[i] <= 0) continue;
        cum += dist[i] * dist[i];
        if (cum > u) pick = i;
      }
      if (pick < 0)  // rounding: the last candidate
        for (int64_t i = n - 1; i >= 0 && pick < 0; --i)
          if (!chosen[i] && dist[i] > 0) pick = i;
    } else {  // every row coincides with a seed: a uniform unchosen row
      int64_t m = static_cast<int64_t>(uniform_below(rng, static_cast<uint64_t>(n - seeds.size())));
      for (int64_t i = 0; i < n && pick < 0; ++i)
        if (!chosen[i] && m-- == 0) pick = i;
    }
    seeds.push_back(pick);
    chosen[pick] = 1;
    best = at::maximum(best, at::mv(x, x[pick]));
  }
  at::Tensor centroids = x.index_select(0, at::tensor(seeds, at::kLong));  // [k, d]
  std::vector<int64_t> assign, previous;
  for (int64_t it = 0; it < max_iterations; ++it) {
    const at::Tensor sims = at::mm(x, centroids.t());  // [n, k]
    assign = host_longs(sims.argmax(1));               // ties: the first cluster
    const std::vector<double> own = doubles(sims.gather(1, at::tensor(assign, at::kLong).view({-1, 1})).view(-1));
    std::vector<int64_t> count(static_cast<size_t>(k), 0);
    for (int64_t a : assign) ++count[a];
    std::vector<double> own_sim = own;
    for (int64_t c = 0; c < k; ++c) {
      if (count[c] > 0) continue;
      // An empty cluster takes the row farthest from its centroid (among clusters with more than one member).
      int64_t far = -1;
      for (int64_t i = 0; i < n; ++i)
        if (count[assign[i]] > 1 && (far < 0 || own_sim[i] < own_sim[far])) far = i;
      --count[assign[far]];
      assign[far] = c;
      count[c] = 1;
      own_sim[far] = 1;
      centroids[c].copy_(x[far]);
    }
    if (it > 0 && assign == previous) break;
    previous = assign;
    // Update: each centroid is its members' normalised mean (kept as is when that mean is zero).
    const at::Tensor idx = at::tensor(assign, at::kLong);
    const at::Tensor sums = at::zeros({k, x.size(1)}, x.options()).index_add_(0, idx, x);
    const at::Tensor norms = sums.norm(2, 1, true);
    centroids = at::where(norms > 0, sums / norms.clamp_min(1e-300), centroids);
    const at::Tensor fit = (x * centroids.index_select(0, idx)).sum(1);
    out.objective.push_back((1.0 - fit).sum().item<double>());
    ++out.iterations;
  }
  out.assignment = assign;
  // Medoids: the member with the highest cosine to its centroid (ties: the earlier token).
  const std::vector<double> fit = doubles((x * centroids.index_select(0, at::tensor(assign, at::kLong))).sum(1));
  out.medoids.assign(static_cast<size_t>(k), -1);
  std::vector<double> best_fit(static_cast<size_t>(k), -std::numeric_limits<double>::infinity());
  for (int64_t i = 0; i < n; ++i)
    if (fit[i] > best_fit[assign[i]] || out.medoids[assign[i]] < 0) best_fit[assign[i]] = fit[i], out.medoids[assign[i]] = i + 1;
  out.set = {0};
  out.set.insert(out.set.end(), out.medoids.begin(), out.medoids.end());
  std::sort(out.set.begin(), out.set.end());
  return out;
}

// ---- element-level attention ---------------------------------------------------------------------

at::Tensor top_k_mask(const at::Tensor& scores, int64_t k) {
  const float inf = std::numeric_limits<float>::infinity();
  const int64_t T = scores.size(-1), kk = std::clamp<int64_t>(k, 1, T);
  at::Tensor keep = at::empty_like(scores, scores.options().dtype(at::kBool));
  // Per row: every score above the k-th largest value, then the earliest keys equal to it until k
  // are kept (ties go to the earlier key). One head at a time (topk's buffers are T·k per head).
  for (int64_t h = 0; h < scores.size(0); ++h) {
    const at::Tensor s = scores[h];
    const at::Tensor kth = std::get<0>(at::topk(s, kk, -1)).narrow(-1, kk - 1, 1);  // [T, 1]
    const at::Tensor greater = s > kth, equal = s == kth;
    const at::Tensor room = kk - greater.sum(-1, true);
    keep[h].copy_(greater | (equal & (equal.cumsum(-1) <= room)));
  }
  return keep & (scores > -inf);
}

at::Tensor top_theta_mask(const at::Tensor& scores, const std::vector<double>& theta) {
  const float inf = std::numeric_limits<float>::infinity();
  TORCH_CHECK(static_cast<int64_t>(theta.size()) == scores.size(0), "one threshold per head expected");
  const at::Tensor th = at::tensor(theta, at::kDouble).to(scores.device(), at::kFloat).view({-1, 1, 1});
  at::Tensor keep = scores >= th;
  keep.scatter_(-1, std::get<1>(scores.max(-1, true)), true);  // a row with nothing above θ keeps its largest
  return keep & (scores > -inf);
}

std::vector<double> calibrate_top_theta(const at::Tensor& scores, int64_t k) {
  const float inf = std::numeric_limits<float>::infinity();
  const int64_t H = scores.size(0), T = scores.size(-1), kk = std::clamp<int64_t>(k, 1, T);
  std::vector<double> theta(static_cast<size_t>(H), -std::numeric_limits<double>::infinity());
  if (k > T) return theta;  // no row has k keys: everything is kept
  for (int64_t h = 0; h < H; ++h) {
    const at::Tensor rows = (scores[h] > -inf).sum(-1) >= kk;  // the rows with at least k visible keys
    const at::Tensor kth = std::get<0>(at::topk(scores[h], kk, -1)).select(-1, kk - 1).to(at::kDouble);
    const at::Tensor sel = kth.masked_select(rows);
    if (sel.numel() > 0) theta[h] = sel.mean().item<double>();
  }
  return theta;
}

// ---- the axes ------------------------------------------------------------------------------------

Coverage coverage_of(const at::Tensor& xhat, const TokenSet& set, double theta, int64_t tile) {
  const int64_t T = xhat.size(0);
  TORCH_CHECK(!set.empty(), "coverage of an empty set");
  const at::Tensor x = xhat.to(at::kFloat);
  const at::Tensor reps_t = x.index_select(0, at::tensor(set, at::kLong).to(x.device())).t();
  double sum = 0;
  int64_t within = 0;
  for (int64_t i0 = 0; i0 < T; i0 += tile) {
    const int64_t b = std::min(tile, T - i0);
    const at::Tensor m = std::get<0>(at::mm(x.narrow(0, i0, b), reps_t).abs_().max(1)).to(at::kDouble);
    sum += m.sum().item<double>();
    within += (m >= theta).sum().item<int64_t>();
  }
  return {sum / static_cast<double>(T), static_cast<double>(within) / static_cast<double>(T)};
}

namespace {

// Mean over heads of ‖a − e‖_F / ‖e‖_F for [H, T, hd] outputs.
double relative_error(const at::Tensor& ada, const at::Tensor& exact) {
  const std::vector<double> per_head = per_head_relative_error(ada, exact);
  return std::accumulate(per_head.begin(), per_head.end(), 0.0) / static_cast<double>(std::max<size_t>(per_head.size(), 1));
}

}  // namespace

std::vector<double> per_head_relative_error(const at::Tensor& ada, const at::Tensor& exact) {
  const at::Tensor a = ada.to(at::kDouble), e = exact.to(at::kDouble);
  return doubles((a - e).pow(2).sum({1, 2}).sqrt() / e.pow(2).sum({1, 2}).sqrt().clamp_min(1e-30));
}

double set_attention_error(const at::Tensor& probs, const at::Tensor& v, const TokenSet& set,
                           const std::vector<int64_t>& nearest) {
  const at::Tensor p = probs.to(at::kFloat), vv = v.to(at::kFloat);
  const at::Tensor exact = at::matmul(p, vv);
  const at::Tensor idx = at::tensor(set, at::kLong).to(p.device());
  const at::Tensor sub = p.index_select(1, idx).index_select(2, idx);  // [H, r, r]
  const at::Tensor out_reps = at::matmul(sub / sub.sum(-1, true).clamp_min(1e-30), vv.index_select(1, idx));
  std::vector<int64_t> slot(nearest.size());
  for (size_t t = 0; t < slot.size(); ++t)
    slot[t] = std::lower_bound(set.begin(), set.end(), nearest[t]) - set.begin();
  return relative_error(out_reps.index_select(1, at::tensor(slot, at::kLong).to(p.device())), exact);
}

double mask_attention_error(const at::Tensor& probs, const at::Tensor& v, const at::Tensor& keep) {
  const at::Tensor p = probs.to(at::kFloat), vv = v.to(at::kFloat);
  const at::Tensor kept = p * keep.to(at::kFloat);
  return relative_error(at::matmul(kept / kept.sum(-1, true).clamp_min(1e-30), vv), at::matmul(p, vv));
}

int64_t selection_macs(Method m, int64_t T, int64_t d, int64_t H, int64_t head_dim, int64_t r, int64_t iterations) {
  switch (m) {
    case Method::Independent: return T * T * d;
    case Method::Cascade: return T * T * d;  // compare_methods reports the step's own gram_macs_casc
    case Method::Random:
    case Method::InheritOnly:
    case Method::Recency:
    case Method::StreamingLlm: return 0;
    case Method::H2o: return H * T * (T + 1) / 2;
    case Method::SnapKv: return H * snapkv_window(T) * T;
    case Method::Tova: return H * T;
    case Method::KNorm: return H * T * head_dim;
    case Method::KeyDiff: return 2 * H * T * head_dim;
    case Method::Leverage: return 2 * T * d * d + d * d * d / 3;
    case Method::KMeans: return std::max<int64_t>(iterations, 1) * T * std::max<int64_t>(r - 1, 0) * d;
    case Method::TopK:
    case Method::TopTheta: return H * T * T;  // the scores are ranked (compared) once per element
  }
  return 0;
}

// ---- one layer: which method needs what ----------------------------------------------------------

namespace {

// The set of a method that reads only the residual (not the attention), at one layer. `inherited`
// is inherit-only's carried set.
TokenSet residual_method_set(Method m, const at::Tensor& xhat, int64_t r, uint64_t seed, int64_t* iterations = nullptr) {
  const int64_t T = xhat.size(0);
  switch (m) {
    case Method::Random: return select_random(T, r, seed);
    case Method::Recency: return select_recency(T, r);
    case Method::StreamingLlm: return select_streaming_llm(T, r);
    case Method::Leverage: return select_leverage(xhat, r);
    case Method::KMeans: {
      KMeansResult k = spherical_kmeans(xhat, r, seed);
      if (iterations) *iterations = k.iterations;
      return k.set;
    }
    default: break;
  }
  throw std::logic_error("residual_method_set: " + to_string(m) + " is not a residual method");
}

TokenSet attention_method_set(Method m, const AttentionStats& s, int64_t r) {
  switch (m) {
    case Method::H2o: return select_h2o(s.received, r);
    case Method::SnapKv: return select_snapkv(s.window_received, r);
    case Method::Tova: return select_tova(s.last_query, r);
    case Method::KNorm: return select_knorm(s.key_norm, r);
    case Method::KeyDiff: return select_keydiff(s.key_cos_to_mean, r);
    default: break;
  }
  throw std::logic_error("attention_method_set: " + to_string(m) + " is not an attention method");
}

bool is_residual_method(Method m) {
  return m == Method::Random || m == Method::Recency || m == Method::StreamingLlm || m == Method::Leverage ||
         m == Method::KMeans;
}

// The ADA planner of one method (see make_method_planner).
class MethodPlanner final : public AttentionPlanner {
 public:
  MethodPlanner(Method method, std::vector<int64_t> budget, double tau, Rule rule, NearestRule nearest, uint64_t seed,
                uint64_t document, std::vector<std::vector<double>> theta)
      : method_(method), budget_(std::move(budget)), theta_(theta_of_tau(tau)), rule_(rule), nearest_(nearest),
        seed_(seed), document_(document), thresholds_(std::move(theta)) {
    if (method == Method::Independent) inner_ = make_planner(AttentionMode::AdaIndependent, tau, rule, nearest);
    if (method == Method::Cascade) inner_ = make_planner(AttentionMode::AdaCascade, tau, rule, nearest);
  }

  std::optional<AdaPlan> plan(int64_t block, const at::Tensor& residual) override {
    if (inner_) return inner_->plan(block, residual);
    if (block >= static_cast<int64_t>(budget_.size())) return std::nullopt;
    const int64_t r = budget_[block];
    AdaPlan p;
    if (method_ == Method::TopK) {
      p.element = ElementPlan{ElementPlan::Kind::TopK, r, {}};
      return p;
    }
    if (method_ == Method::TopTheta) {
      p.element = ElementPlan{ElementPlan::Kind::TopTheta, r, thresholds_.at(block)};
      return p;
    }
    const at::Tensor xhat = normalize_rows(residual);
    if (needs_attention(method_)) {
      const Method m = method_;
      const NearestRule nearest = nearest_;
      p.choose = [m, r, xhat, nearest](const at::Tensor& k, const at::Tensor& probs, AdaPlan& plan) {
        plan.reps = attention_method_set(m, attention_stats(k, probs), r);
        plan.nearest = nearest_representative(xhat, plan.reps, nearest);
      };
      return p;
    }
    if (method_ == Method::InheritOnly) {
      // The independent set at blocks 0 and 1 (the first cascade layer), then block 1's set carried.
      if (block <= 1 || carried_.empty()) {
        const std::vector<float> gamma = rule_ == Rule::PriorMax ? prior_max_scan(xhat).gamma : std::vector<float>{};
        p.reps = independent_reps(rule_, xhat, gamma, theta_);
        if (block >= 1) carried_ = p.reps;
      } else {
        p.reps = carried_;
      }
    } else {
      p.reps = residual_method_set(method_, xhat, r, derived_seed(seed_, document_, block));
    }
    p.nearest = nearest_representative(xhat, p.reps, nearest_);
    return p;
  }

 private:
  Method method_;
  std::vector<int64_t> budget_;
  double theta_;
  Rule rule_;
  NearestRule nearest_;
  uint64_t seed_, document_;
  std::vector<std::vector<double>> thresholds_;
  std::unique_ptr<AttentionPlanner> inner_;
  TokenSet carried_;
};

}  // namespace

std::unique_ptr<AttentionPlanner> make_method_planner(Method method, const std::vector<int64_t>& budget, double tau,
                                                      Rule rule, NearestRule nearest, uint64_t seed, uint64_t document,
                                                      std::vector<std::vector<double>> theta) {
  return std::make_unique<MethodPlanner>(method, budget, tau, rule, nearest, seed, document, std::move(theta));
}

// ---- compare_methods -----------------------------------------------------------------------------

namespace {

constexpr const char* kNeedsModel = "needs the model";

// Sees the exact forward pass: at every analysed block, the attention methods' sets, every
// method's attn_err and top-theta's self-calibration, from the block's q/k/v and probabilities.
class CompareObserver final : public ForwardObserver {
 public:
  CompareObserver(Comparison& c, const RunRecord& record, const std::vector<int64_t>& layer_index,
                  const std::vector<int64_t>& budget, NearestRule nearest, int64_t H, int64_t head_dim,
                  const JobControl& control)
      : c_(c), record_(record), index_(layer_index), budget_(budget), nearest_(nearest), H_(H), hd_(head_dim),
        control_(control) {
    theta.resize(budget.size());
  }

  void on_residual(int64_t layer, const at::Tensor&) override {
    control_.check();
    control_.report("compare: attention", layer, static_cast<int64_t>(index_.size()));
  }
  bool wants_attention(int64_t block) const override {
    return block < static_cast<int64_t>(index_.size()) && index_[block] >= 0;
  }
  void on_attention(int64_t block, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                    const at::Tensor& probs, const AttentionShape& shape) override {
    const int64_t i = index_[block];
    const at::Tensor& xhat = record_.analyzer->normalized(i);
    const int64_t T = xhat.size(0), r = budget_[i];
    // The attention methods' reduction of the [H, T, T] probabilities, once per block and only
    // when one of them was asked for.
    std::optional<AttentionStats> stats;
    double stats_ms = 0;
    for (const MethodResult& m : c_.methods)
      if (needs_attention(m.method) && !is_element_method(m.method) && !stats) {
        const auto start = Clock::now();
        stats = attention_stats(k, probs);
        stats_ms = ms_since(start);
      }
    at::Tensor scores;  // only for the element methods
    for (MethodResult& m : c_.methods) {
      MethodLayer& ml = m.layers[i];
      if (m.method == Method::TopK || m.method == Method::TopTheta) {
        if (!scores.defined()) scores = masked_scores(q, k, shape);
        const auto t0 = Clock::now();
        at::Tensor keep;
        if (m.method == Method::TopK) {
          keep = top_k_mask(scores, r);
        } else {
          theta[i] = calibrate_top_theta(scores, r);
          keep = top_theta_mask(scores, theta[i]);
        }
        ml.selection_ms = ms_since(t0);
        ml.attn_err = mask_attention_error(probs, v, keep);
        ml.why.clear();
        continue;
      }
      if (needs_attention(m.method)) {
        const auto t0 = Clock::now();
        ml.set = attention_method_set(m.method, *stats, r);
        ml.selection_ms = stats_ms + ms_since(t0);
        ml.r = static_cast<int64_t>(ml.set->size());
        ml.selection_macs = selection_macs(m.method, T, xhat.size(1), H_, hd_, r);
        const Coverage cov = coverage_of(xhat, *ml.set, analysis_theta);
        ml.coverage = cov.coverage;
        ml.covered = cov.covered;
        ml.why.clear();
      }
      if (ml.set) ml.attn_err = set_attention_error(probs, v, *ml.set, nearest_representative(xhat, *ml.set, nearest_));
    }
  }

  std::vector<std::vector<double>> theta;  // top-theta's self-calibration per analysed layer
  double analysis_theta = 0;

 private:
  Comparison& c_;
  const RunRecord& record_;
  const std::vector<int64_t>& index_;  // block → analysed layer index, −1 when not analysed
  const std::vector<int64_t>& budget_;
  NearestRule nearest_;
  int64_t H_, hd_;
  const JobControl& control_;
};

}  // namespace

Comparison compare_methods(const RunRecord& record, const Analysis& analysis, const CausalLM* model,
                           const CompareRequest& request, const JobControl& control) {
  if (!record.has_activations())
    throw UsageError("comparing methods needs the activations: this session was saved without them "
                     "(save it with --with-activations, or run the model)");
  if (request.methods.empty()) throw UsageError("no method to compare");
  const JobControl quiet{nullptr, control.cancel};
  Comparison c;
  c.tau = analysis.tau;
  c.rule = to_string(analysis.rule);
  c.nearest = to_string(record.nearest);
  c.budget = request.budget;
  c.seed = request.seed;
  c.document = request.document;
  c.T = analysis.T;
  const int64_t T = analysis.T, d = analysis.d, n = analysis.L();
  const std::vector<int64_t> ids = record.layer_ids();
  const int64_t L = model ? model->config().num_layers : 0;
  const int64_t H = model ? model->config().num_heads : 0, hd = model ? model->config().head_dim : 0;

  // The budget r_l of every analysed layer.
  std::vector<int64_t> budget(static_cast<size_t>(n));
  bool clamped = false;
  for (int64_t i = 0; i < n; ++i) {
    bool over = false;
    budget[i] = budget_size(request.budget, T, analysis.layers[i].r_ind, analysis.layers[i].r_casc, &over);
    clamped |= over;
  }
  if (clamped)
    c.notes.push_back("budget " + to_string(request.budget) + " is larger than T = " + std::to_string(T) +
                      " at some layer: clamped to T");
  if (request.quality) {
    if (!model) throw UsageError("--quality runs the model with each method's sets: it needs the model, not an activation file");
    for (int64_t b = 0; b < L; ++b)
      if (std::find(ids.begin(), ids.end(), b) == ids.end())
        throw UsageError("--quality runs each method in every block: analyse every layer (leave out --layers)");
  }

  // inherit-only: the independent set of the first analysed layer ≥ 1, carried from there.
  int64_t first_cascade = -1;
  for (int64_t i = 0; i < n && first_cascade < 0; ++i)
    if (ids[i] >= 1) first_cascade = i;

  for (const Method m : request.methods) {
    MethodResult res;
    res.method = m;
    res.layers.resize(static_cast<size_t>(n));
    c.methods.push_back(std::move(res));
  }
  TokenSet previous_casc;
  for (int64_t i = 0; i < n; ++i) {
    control.check();
    control.report("compare", i, n);
    const LayerMeasures& lm = analysis.layers[i];
    const at::Tensor& xhat = record.analyzer->normalized(i);
    for (MethodResult& m : c.methods) {
      MethodLayer& ml = m.layers[i];
      ml.layer = lm.layer;
      ml.r = budget[i];
      const auto t0 = Clock::now();
      if (m.method == Method::Independent) {
        // Timed as the rule runs: the prior-max scan (or greedy cover) of this layer.
        const std::vector<float> gamma =
            analysis.rule == Rule::PriorMax ? prior_max_scan(xhat, kDefaultTile, quiet).gamma : std::vector<float>{};
        independent_reps(analysis.rule, xhat, gamma, analysis.theta);
        ml.selection_ms = ms_since(t0);
        ml.set = lm.reps_ind;
        ml.selection_macs = lm.gram_macs_ind;
      } else if (m.method == Method::Cascade) {
        if (i == 0) {
          const std::vector<float> gamma =
              analysis.rule == Rule::PriorMax ? prior_max_scan(xhat, kDefaultTile, quiet).gamma : std::vector<float>{};
          independent_reps(analysis.rule, xhat, gamma, analysis.theta);
        } else {
          cascade_step(xhat, analysis.layers[i - 1].reps_casc, analysis.theta, kDefaultTile, quiet);
        }
        ml.selection_ms = ms_since(t0);
        ml.set = lm.reps_casc;
        ml.selection_macs = lm.gram_macs_casc;
      } else if (m.method == Method::InheritOnly) {
        ml.set = (first_cascade < 0 || i < first_cascade) ? lm.reps_ind : analysis.layers[first_cascade].reps_ind;
        ml.selection_ms = ms_since(t0);
        ml.selection_macs = i <= first_cascade ? lm.gram_macs_ind : 0;
      } else if (is_residual_method(m.method)) {
        int64_t iterations = 0;
        ml.set = residual_method_set(m.method, xhat, budget[i], derived_seed(request.seed, request.document, lm.layer),
                                     &iterations);
        ml.selection_ms = ms_since(t0);
        ml.selection_macs = selection_macs(m.method, T, d, H, hd, budget[i], iterations);
      } else {
        ml.why = model ? "" : kNeedsModel;
        if (model && lm.layer >= L) ml.why = "no attention block reads the final residual";
      }
      if (ml.set) {
        ml.r = static_cast<int64_t>(ml.set->size());
        const Coverage cov = coverage_of(xhat, *ml.set, analysis.theta);
        ml.coverage = cov.coverage;
        ml.covered = cov.covered;
        if (!model) ml.why = "attn_err " + std::string(kNeedsModel);
        else if (lm.layer >= L) ml.why = "attn_err: no attention block reads the final residual";
      }
      if (is_element_method(m.method) && ml.why.empty()) ml.why = "element-level: no token set";
    }
  }
  control.report("compare", n, n);

  if (model) {
    // One exact pass: the attention methods' sets and every attn_err, block by block.
    std::vector<int64_t> index(static_cast<size_t>(L), -1);
    for (int64_t i = 0; i < n; ++i)
      if (ids[i] < L) index[ids[i]] = i;
    CompareObserver observer(c, record, index, budget, record.nearest, H, hd, control);
    observer.analysis_theta = analysis.theta;
    const at::Tensor tokens = at::tensor(record.ids, at::TensorOptions().dtype(at::kLong));
    const at::Tensor exact = model->forward(tokens, &observer, nullptr);
    for (MethodResult& m : c.methods)
      if (m.method == Method::TopTheta) m.self_calibrated = true;
    if (request.quality) {
      c.ppl_exact = perplexity(exact, record.ids);
      std::vector<int64_t> block_budget(static_cast<size_t>(L));
      std::vector<std::vector<double>> theta(static_cast<size_t>(L));
      for (int64_t b = 0; b < L; ++b) {
        block_budget[b] = budget[index[b]];
        theta[b] = observer.theta[index[b]];
      }
      for (size_t k = 0; k < c.methods.size(); ++k) {
        control.check();
        control.report("compare: quality", static_cast<int64_t>(k), static_cast<int64_t>(c.methods.size()));
        MethodResult& m = c.methods[k];
        auto planner = make_method_planner(m.method, block_budget, analysis.tau, analysis.rule, record.nearest,
                                           request.seed, request.document, theta);
        const at::Tensor logits = model->forward(tokens, nullptr, planner.get());
        m.ppl = perplexity(logits, record.ids);
        m.delta_ppl = *m.ppl - *c.ppl_exact;
        m.kl = mean_kl(exact, logits);
      }
      control.report("compare: quality", static_cast<int64_t>(c.methods.size()), static_cast<int64_t>(c.methods.size()));
    }
  } else if (request.quality) {
    for (MethodResult& m : c.methods) m.quality_why = kNeedsModel;
  }
  return c;
}

}  // namespace cascade
