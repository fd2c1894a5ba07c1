// Selection rules on LibTorch tensors. See selection.h for the contracts and SPEC.md §2–§3.
#include "core/selection.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <sstream>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/errors.h"
#include "core/kernel_dispatch.h"
#include "core/sets.h"

namespace cascade {

std::string to_string(Rule rule) { return rule == Rule::PriorMax ? "prior-max" : "greedy-cover"; }

Rule parse_rule(const std::string& name) {
  if (name == "prior-max") return Rule::PriorMax;
  if (name == "greedy-cover") return Rule::GreedyCover;
  throw UsageError("unknown rule '" + name + "' (expected prior-max or greedy-cover)");
}

double theta_of_tau(double tau) {
  if (!(tau >= 0.0 && tau <= 1.0)) {
    std::ostringstream got;
    got << tau;  // 1.5, not 1.500000
    throw UsageError("tau must be in [0, 1], got " + got.str());
  }
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

at::Tensor index_tensor(const TokenSet& idx, const at::Device& device) {
  return at::tensor(idx, at::TensorOptions().dtype(at::kLong)).to(device);
}
void check_tile(int64_t tile) {
  if (tile < 1) throw UsageError("tile must be >= 1");
}

// Four floats / int32s as GCC/Clang vector extensions: SSE2/NEON on any target without -m flags.
using F4 = float __attribute__((vector_size(16)));
using I4 = int32_t __attribute__((vector_size(16)));

F4 load_abs4(const float* p) {
  I4 bits;
  std::memcpy(&bits, p, sizeof bits);
  return reinterpret_cast<F4>(bits & 0x7fffffff);
}
template <class V>
V select4(I4 mask, V a, V b) {
  return reinterpret_cast<V>((reinterpret_cast<I4>(a) & mask) | (reinterpret_cast<I4>(b) & ~mask));
}

// max_{j<n} |row[j]| and its first argmax, exactly what abs_() + masked_fill_ + max(1) of the
// torch path give (first index on ties; a NaN wins at its first position), but in one read pass:
// at::max with indices is a scalar loop (~1.3 ns/element here), this runs at ~0.3 ns/element.
// n == 0 gives (−inf, 0), as the torch path does for the fully masked first row.
void abs_max_prefix(const float* row, int64_t n, float& best, int64_t& arg) {
  constexpr int V = 4;  // independent accumulators, for instruction-level parallelism
  const float inf = std::numeric_limits<float>::infinity();
  F4 m[V], sum[V];
  I4 at[V], j4[V];
  for (int k = 0; k < V; ++k) {
    m[k] = F4{-inf, -inf, -inf, -inf};
    sum[k] = F4{0, 0, 0, 0};
    at[k] = I4{0, 0, 0, 0};
    j4[k] = I4{0, 1, 2, 3} + 4 * k;
  }
  int64_t j = 0;
  for (; j + 4 * V <= n; j += 4 * V)
    for (int k = 0; k < V; ++k) {
      const F4 v = load_abs4(row + j + 4 * k);
      const I4 gt = v > m[k];  // strict: each lane keeps its first maximum
      m[k] = select4(gt, v, m[k]);
      at[k] = select4(gt, j4[k], at[k]);
      sum[k] += v;  // NaN iff some |row[j]| is NaN (all terms are >= 0)
      j4[k] += 4 * V;
    }
  best = -inf;
  arg = 0;
  float total = 0;
  for (int k = 0; k < V; ++k)
    for (int l = 0; l < 4; ++l) {
      total += sum[k][l];
      if (m[k][l] > best || (m[k][l] == best && at[k][l] < arg)) best = m[k][l], arg = at[k][l];
    }
  for (; j < n; ++j) {
    const float v = std::fabs(row[j]);
    total += v;
    if (v > best) best = v, arg = j;
  }
  if (std::isnan(total))
    for (j = 0; j < n; ++j)
      if (std::isnan(row[j])) {
        best = std::fabs(row[j]), arg = j;
        break;
      }
}

// Row k of g ([b, n] float on the CPU): max |g[k][j]| over its first first_len + k·len_step columns
// and the first index attaining it. The scan uses len = i0 + k (only earlier tokens); the cascade's
// cross-Gram uses every column (len_step = 0).
void rows_abs_max_cpu(const at::Tensor& g, int64_t first_len, int64_t len_step, float* best, int64_t* arg) {
  const int64_t b = g.size(0), ld = g.stride(0);
  const float* base = g.data_ptr<float>();
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, g.size(1)));
  at::parallel_for(0, b, grain, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) abs_max_prefix(base + k * ld, first_len + k * len_step, best[k], arg[k]);
  });
}

}  // namespace

PriorMax prior_max_scan(const at::Tensor& xhat, int64_t tile, const JobControl& control) {
  TORCH_CHECK(xhat.dim() == 2, "prior_max_scan expects [T, d]");
  check_tile(tile);
  if (const gpu::Backend* kernels = kernel_backend_for(xhat)) {  // a GPU tensor: the fused scan
    control.check();
    return prior_max_scan_kernels(*kernels, xhat);
  }
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
  // On the CPU the row reduction runs in our own loop (int32 column indices, hence the bound).
  const bool fused_cpu = x.is_cpu() && T <= std::numeric_limits<int32_t>::max();
  for (int64_t i0 = 0; i0 < T; i0 += tile) {
    control.check();
    const int64_t i1 = std::min(T, i0 + tile), b = i1 - i0;
    at::Tensor g = buffer.narrow(0, 0, b * i1).view({b, i1});
    at::mm_out(g, x.narrow(0, i0, b), x.narrow(0, 0, i1).t());
    if (fused_cpu) {  // same values, one pass instead of abs + mask + max (see abs_max_prefix)
      rows_abs_max_cpu(g, i0, 1, gamma.data_ptr<float>() + i0, partner.data_ptr<int64_t>() + i0);
      continue;
    }
    g.abs_();
    g.narrow(1, i0, b).masked_fill_(not_prior.narrow(0, 0, b).narrow(1, 0, b), neg_inf);
    auto [mx, arg] = g.max(1);
    gamma.narrow(0, i0, b).copy_(mx);
    partner.narrow(0, i0, b).copy_(arg);
  }
  out.gamma = host_floats(gamma);
  out.partner = host_longs(partner);
  out.gamma[0] = neg_inf;
  out.partner[0] = -1;
  return out;
}

std::vector<float> host_floats(const at::Tensor& t) {
  at::Tensor c = t.to(at::kCPU, at::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}
std::vector<int64_t> host_longs(const at::Tensor& t) {
  at::Tensor c = t.to(at::kCPU, at::kLong).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

TokenSet non_inherited(const TokenSet& inherited, int64_t T) {
  TORCH_CHECK(std::is_sorted(inherited.begin(), inherited.end()), "inherited set must be sorted");
  TORCH_CHECK(inherited.empty() || (inherited.front() >= 0 && inherited.back() < T), "inherited set out of range");
  TokenSet others;
  others.reserve(static_cast<size_t>(T) - inherited.size());
  const auto r = static_cast<int64_t>(inherited.size());
  for (int64_t t = 0, k = 0; t < T; ++t) {
    if (k < r && inherited[k] == t) {
      ++k;
      continue;
    }
    others.push_back(t);
  }
  return others;
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
    if (n_reps > 0) prior = host_floats(at::mm(block, rep_rows.narrow(0, 0, n_reps).t()).abs_().amax(1));
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
  if (const gpu::Backend* kernels = kernel_backend_for(xhat)) {  // a GPU tensor: the fused validate
    control.check();
    return cascade_step_kernels(*kernels, xhat, inherited, theta);
  }
  const int64_t T = xhat.size(0);
  CascadeTrace trace;
  trace.inherited = inherited;
  const TokenSet others = non_inherited(inherited, T);
  at::Tensor x = xhat.to(at::kFloat).contiguous();
  const auto device = x.device();
  const int64_t r = static_cast<int64_t>(inherited.size());

  // Steps 1–2: validity is exactly a prior-max scan restricted to the inherited rows.
  at::Tensor x_inh = x.index_select(0, index_tensor(inherited, device));
  const PriorMax within = prior_max_scan(x_inh, tile, control);
  for (int64_t k = 0; k < r; ++k)
    (static_cast<double>(within.gamma[k]) < theta ? trace.valid : trace.removed).push_back(inherited[k]);

  // Steps 3–4: cross-Gram of every non-inherited token against all valid reps, tiled by rows.
  const int64_t r_valid = static_cast<int64_t>(trace.valid.size()), n_others = static_cast<int64_t>(others.size());
  if (r_valid == 0) {  // only when nothing was inherited: every other token is added
    trace.added = others;
  } else if (n_others > 0) {
    const at::Tensor x_valid_t =
        (trace.removed.empty() ? x_inh : x.index_select(0, index_tensor(trace.valid, device))).t();
    const at::Tensor others_idx = index_tensor(others, device);
    // Rows per tile: the same tile·T float budget as the scan, so a small r gets tall, efficient GEMMs.
    const int64_t rows = std::clamp<int64_t>(tile * T / r_valid, 1, n_others);
    at::Tensor gram_buffer = at::empty({rows * r_valid}, x.options());
    at::Tensor rows_buffer = at::empty({rows, x.size(1)}, x.options());
    std::vector<float> best(rows);
    std::vector<int64_t> arg(rows);
    for (int64_t i0 = 0; i0 < n_others; i0 += rows) {
      control.check();
      const int64_t b = std::min(rows, n_others - i0);
      at::Tensor block = rows_buffer.narrow(0, 0, b);
      at::index_select_out(block, x, 0, others_idx.narrow(0, i0, b));
      at::Tensor g = gram_buffer.narrow(0, 0, b * r_valid).view({b, r_valid});
      at::mm_out(g, block, x_valid_t);
      if (x.is_cpu()) {
        rows_abs_max_cpu(g, r_valid, 0, best.data(), arg.data());
      } else {
        const std::vector<float> m = host_floats(g.abs_().amax(1));
        std::copy(m.begin(), m.end(), best.begin());
      }
      for (int64_t k = 0; k < b; ++k)
        if (static_cast<double>(best[k]) < theta) trace.added.push_back(others[i0 + k]);
    }
  }
  trace.result = set_union(trace.valid, trace.added);
  trace.gram_entries = cascade_gram_entries(T, r, r_valid);
  return trace;
}

TokenSet independent_reps(Rule rule, const at::Tensor& xhat, const std::vector<float>& gamma, double theta,
                          int64_t tile) {
  return rule == Rule::PriorMax ? reps_from_gamma(gamma, theta) : greedy_cover(xhat, theta, tile);
}

}  // namespace cascade
