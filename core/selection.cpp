// Selection rules on LibTorch tensors. See selection.h for the contracts and SPEC.md §2–§3.
#include "core/selection.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/errors.h"
#include "core/sets.h"

namespace cascade {

std::string to_string(Rule rule) { return rule == Rule::PriorMax ? "prior-max" : "greedy-cover"; }

Rule parse_rule(const std::string& name) {
  if (name == "prior-max") return Rule::PriorMax;
  if (name == "greedy-cover") return Rule::GreedyCover;
  throw UsageError("unknown rule '" + name + "' (expected prior-max or greedy-cover)");
}

double theta_of_tau(double tau) {
  if (!(tau >= 0.0 && tau <= 1.0)) throw UsageError("tau must be in [0, 1], got " + std::to_string(tau));
  return 1.0 - tau * tau;
}

at::Tensor normalize_rows(const at::Tensor& x) {
  TORCH_CHECK(x.dim() == 2, "normalize_rows expects [T, d], got ", x.sizes());
  at::Tensor xf = x.to(at::kFloat).contiguous();
  if (xf.numel() == 0) return xf;
  // Scale each row by its max |x| first so that the squared norm neither overflows (|x| ~ 1e20)
  // nor underflows (|x| ~ 1e-30) in float32; the 1e-12 threshold applies to the true norm.
  at::Tensor maxabs = xf.abs().amax(1, /*keepdim=*/true);
  at::Tensor safe_max = at::where(maxabs > 0, maxabs, at::ones_like(maxabs));
  at::Tensor scaled = xf / safe_max;
  at::Tensor scaled_norm = scaled.norm(2, {1}, /*keepdim=*/true);
  at::Tensor true_norm = scaled_norm.to(at::kDouble) * maxabs.to(at::kDouble);
  at::Tensor keep = true_norm >= 1e-12;
  at::Tensor inv = at::where(keep, 1.0 / at::where(keep, scaled_norm, at::ones_like(scaled_norm)),
                             at::zeros_like(scaled_norm));
  return (scaled * inv).contiguous();
}

namespace {

std::vector<float> to_float_vector(const at::Tensor& t) {
  at::Tensor c = t.to(at::kCPU, at::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}
std::vector<int64_t> to_long_vector(const at::Tensor& t) {
  at::Tensor c = t.to(at::kCPU, at::kLong).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}
at::Tensor index_tensor(const TokenSet& idx, const at::Device& device) {
  return at::tensor(idx, at::TensorOptions().dtype(at::kLong)).to(device);
}
void check_tile(int64_t tile) {
  if (tile < 1) throw UsageError("tile must be >= 1");
}

}  // namespace

PriorMax prior_max_scan(const at::Tensor& xhat, int64_t tile, const JobControl& control) {
  TORCH_CHECK(xhat.dim() == 2, "prior_max_scan expects [T, d]");
  check_tile(tile);
  const int64_t T = xhat.size(0);
  PriorMax out;
  if (T == 0) return out;
  const auto opts = xhat.options().dtype(at::kFloat);
  at::Tensor x = xhat.to(at::kFloat).contiguous();
  at::Tensor gamma = at::empty({T}, opts);
  at::Tensor partner = at::empty({T}, opts.dtype(at::kLong));
  const int64_t b_max = std::min(tile, T);
  // One reusable buffer of b_max × T floats: the rows of G for one tile, columns 0..i1.
  at::Tensor buffer = at::empty({b_max * T}, opts);
  // Inside the diagonal block, column j is a prior token of row i only when j < i.
  at::Tensor not_prior = at::ones({b_max, b_max}, opts.dtype(at::kBool)).triu();
  const float neg_inf = -std::numeric_limits<float>::infinity();
  for (int64_t i0 = 0; i0 < T; i0 += tile) {
    control.check();
    const int64_t i1 = std::min(T, i0 + tile), b = i1 - i0;
    at::Tensor g = buffer.narrow(0, 0, b * i1).view({b, i1});
    at::mm_out(g, x.narrow(0, i0, b), x.narrow(0, 0, i1).t());
    g.abs_();
    g.narrow(1, i0, b).masked_fill_(not_prior.narrow(0, 0, b).narrow(1, 0, b), neg_inf);
    auto [mx, arg] = g.max(1);
    gamma.narrow(0, i0, b).copy_(mx);
    partner.narrow(0, i0, b).copy_(arg);
  }
  out.gamma = to_float_vector(gamma);
  out.partner = to_long_vector(partner);
  out.gamma[0] = neg_inf;
  out.partner[0] = -1;
  return out;
}

TokenSet reps_from_gamma(const std::vector<float>& gamma, double theta) {
  TokenSet reps;
  for (int64_t t = 0; t < static_cast<int64_t>(gamma.size()); ++t)
    if (static_cast<double>(gamma[t]) < theta) reps.push_back(t);
  return reps;
}

TokenSet greedy_cover(const at::Tensor& xhat, double theta, int64_t tile, const JobControl& control) {
  TORCH_CHECK(xhat.dim() == 2, "greedy_cover expects [T, d]");
  check_tile(tile);
  const int64_t T = xhat.size(0), d = xhat.size(1);
  TokenSet reps;
  if (T == 0) return reps;
  at::Tensor x = xhat.to(at::kFloat).contiguous();
  // Rows of the chosen representatives, appended in order: the GEMM operand for later tiles.
  at::Tensor rep_rows = at::empty({T, d}, x.options());
  int64_t n_reps = 0;
  for (int64_t i0 = 0; i0 < T; i0 += tile) {
    control.check();
    const int64_t i1 = std::min(T, i0 + tile), b = i1 - i0;
    at::Tensor block = x.narrow(0, i0, b);
    // Max |cos| of each tile row with the representatives chosen before the tile.
    std::vector<float> prior(b, -std::numeric_limits<float>::infinity());
    if (n_reps > 0) prior = to_float_vector(at::mm(block, rep_rows.narrow(0, 0, n_reps).t()).abs_().amax(1));
    at::Tensor inner = at::mm(block, block.t()).abs_().to(at::kCPU).contiguous();
    const float* g = inner.data_ptr<float>();
    std::vector<int64_t> chosen;  // tile-local rows chosen so far
    for (int64_t t = 0; t < b; ++t) {
      float m = prior[t];
      for (int64_t c : chosen) m = std::max(m, g[t * b + c]);
      if (static_cast<double>(m) < theta) chosen.push_back(t);
    }
    if (chosen.empty()) continue;
    const auto n_new = static_cast<int64_t>(chosen.size());
    rep_rows.narrow(0, n_reps, n_new).copy_(block.index_select(0, index_tensor(chosen, x.device())));
    n_reps += n_new;
    for (int64_t c : chosen) reps.push_back(i0 + c);
  }
  return reps;
}

CascadeTrace cascade_step(const at::Tensor& xhat, const TokenSet& inherited, double theta, int64_t tile,
                          const JobControl& control) {
  TORCH_CHECK(xhat.dim() == 2, "cascade_step expects [T, d]");
  check_tile(tile);
  const int64_t T = xhat.size(0);
  CascadeTrace trace;
  trace.inherited = inherited;
  TORCH_CHECK(std::is_sorted(inherited.begin(), inherited.end()), "inherited set must be sorted");
  TORCH_CHECK(inherited.empty() || (inherited.front() >= 0 && inherited.back() < T),
              "inherited set out of range");
  at::Tensor x = xhat.to(at::kFloat).contiguous();
  const auto device = x.device();
  const int64_t r = static_cast<int64_t>(inherited.size());

  // Steps 1–2: validity is exactly a prior-max scan restricted to the inherited rows.
  at::Tensor x_inh = x.index_select(0, index_tensor(inherited, device));
  const PriorMax within = prior_max_scan(x_inh, tile, control);
  for (int64_t k = 0; k < r; ++k)
    (static_cast<double>(within.gamma[k]) < theta ? trace.valid : trace.removed).push_back(inherited[k]);

  // Steps 3–4: cross-Gram of every non-inherited token against all valid reps, tiled by rows.
  TokenSet others;
  others.reserve(T - r);
  for (int64_t t = 0, k = 0; t < T; ++t) {
    if (k < r && inherited[k] == t) { ++k; continue; }
    others.push_back(t);
  }
  const int64_t r_valid = static_cast<int64_t>(trace.valid.size());
  at::Tensor x_valid_t = x.index_select(0, index_tensor(trace.valid, device)).t();
  at::Tensor others_idx = index_tensor(others, device);
  for (int64_t i0 = 0; i0 < static_cast<int64_t>(others.size()); i0 += tile) {
    control.check();
    const int64_t b = std::min<int64_t>(tile, others.size() - i0);
    std::vector<float> best(b, -std::numeric_limits<float>::infinity());
    if (r_valid > 0) {
      at::Tensor rows = x.index_select(0, others_idx.narrow(0, i0, b));
      best = to_float_vector(at::mm(rows, x_valid_t).abs_().amax(1));
    }
    for (int64_t k = 0; k < b; ++k)
      if (static_cast<double>(best[k]) < theta) trace.added.push_back(others[i0 + k]);
  }
  trace.result = set_union(trace.valid, trace.added);
  trace.gram_entries = r * r + (T - r) * r_valid;
  return trace;
}

TokenSet independent_reps(Rule rule, const at::Tensor& xhat, const std::vector<float>& gamma, double theta,
                          int64_t tile) {
  return rule == Rule::PriorMax ? reps_from_gamma(gamma, theta) : greedy_cover(xhat, theta, tile);
}

}  // namespace cascade
