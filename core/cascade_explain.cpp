#include "core/cascade_explain.h"

#include <ATen/ATen.h>

#include <limits>

#include "core/sets.h"

namespace cascade {

namespace {

at::Tensor rows_of(const at::Tensor& x, const TokenSet& set) {
  return x.index_select(0, at::tensor(set, at::TensorOptions().dtype(at::kLong)).to(x.device()));
}

// For each row of |a·bᵀ| (optionally only columns < limit(row)), the max and its column.
void row_max(const at::Tensor& gram, const TokenSet& rows, const TokenSet& cols, bool only_earlier,
             std::vector<float>& best, std::vector<int64_t>& partner) {
  const at::Tensor g = gram.abs().cpu().contiguous();
  const float* p = g.data_ptr<float>();
  const int64_t n = static_cast<int64_t>(cols.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    float m = -std::numeric_limits<float>::infinity();
    int64_t arg = -1;
    const int64_t limit = only_earlier ? static_cast<int64_t>(i) : n;
    for (int64_t j = 0; j < limit; ++j)
      if (p[static_cast<int64_t>(i) * n + j] > m) m = p[static_cast<int64_t>(i) * n + j], arg = cols[j];
    best[rows[i]] = m;
    partner[rows[i]] = arg;
  }
}

}  // namespace

CascadeExplanation explain_cascade_step(const at::Tensor& xhat, const TokenSet& inherited, double theta) {
  CascadeExplanation out;
  out.theta = theta;
  out.trace = cascade_step(xhat, inherited, theta);
  const int64_t T = xhat.size(0);
  out.best_cos.assign(T, -std::numeric_limits<float>::infinity());
  out.best_partner.assign(T, -1);
  const at::Tensor x = xhat.to(at::kFloat);
  if (!inherited.empty()) {
    const at::Tensor xi = rows_of(x, inherited);
    row_max(at::mm(xi, xi.t()), inherited, inherited, /*only_earlier=*/true, out.best_cos, out.best_partner);
  }
  TokenSet all(T);
  for (int64_t t = 0; t < T; ++t) all[t] = t;
  const TokenSet others = set_difference(all, inherited);
  if (!others.empty() && !out.trace.valid.empty())
    row_max(at::mm(rows_of(x, others), rows_of(x, out.trace.valid).t()), others, out.trace.valid, false,
            out.best_cos, out.best_partner);
  return out;
}

}  // namespace cascade
