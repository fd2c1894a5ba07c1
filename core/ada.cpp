#include "core/ada.h"

#include <ATen/ATen.h>

#include "core/errors.h"

namespace cascade {

std::string to_string(AttentionMode mode) {
  switch (mode) {
    case AttentionMode::Exact: return "exact";
    case AttentionMode::AdaIndependent: return "ada-independent";
    case AttentionMode::AdaCascade: return "ada-cascade";
  }
  return "?";
}

AttentionMode parse_attention_mode(const std::string& name) {
  if (name == "exact") return AttentionMode::Exact;
  if (name == "ada-independent") return AttentionMode::AdaIndependent;
  if (name == "ada-cascade") return AttentionMode::AdaCascade;
  throw UsageError("unknown attention mode '" + name + "' (expected exact, ada-independent or ada-cascade)");
}

std::string to_string(NearestRule rule) { return rule == NearestRule::Paper ? "paper" : "causal-nearest"; }

NearestRule parse_nearest_rule(const std::string& name) {
  if (name == "paper") return NearestRule::Paper;
  if (name == "causal-nearest") return NearestRule::CausalNearest;
  throw UsageError("unknown nearest rule '" + name + "' (expected paper or causal-nearest)");
}

std::vector<int64_t> nearest_representative(const at::Tensor& xhat, const TokenSet& reps, NearestRule rule,
                                            int64_t tile) {
  const int64_t T = xhat.size(0);
  TORCH_CHECK(!reps.empty() && reps.front() == 0, "the representative set must contain token 0");
  const at::Tensor x = xhat.to(at::kFloat).contiguous();
  const at::Tensor rep_idx = at::tensor(reps, at::TensorOptions().dtype(at::kLong)).to(x.device());
  const at::Tensor rep_rows_t = x.index_select(0, rep_idx).t();
  const at::Tensor rep_pos = rep_idx.view({1, -1});
  std::vector<int64_t> nearest(T);
  for (int64_t i0 = 0; i0 < T; i0 += tile) {
    const int64_t b = std::min(tile, T - i0);
    at::Tensor g = at::mm(x.narrow(0, i0, b), rep_rows_t).abs_();  // [b, r]
    if (rule == NearestRule::CausalNearest) {
      const at::Tensor rows = at::arange(i0, i0 + b, rep_idx.options()).view({-1, 1});
      g.masked_fill_(rep_pos > rows, -1.0f);  // reps after t are not candidates
    }
    const at::Tensor best = g.argmax(1).to(at::kCPU);
    const int64_t* p = best.data_ptr<int64_t>();
    for (int64_t k = 0; k < b; ++k) nearest[i0 + k] = reps[p[k]];
  }
  for (int64_t s : reps) nearest[s] = s;  // a representative keeps its own output
  return nearest;
}

namespace {

// Independent: the rule's set at every block. Cascade: the rule's set at block 0, then Algorithm 1
// from the previous block's set (so a planner serves exactly one forward pass).
class SelectionPlanner final : public AttentionPlanner {
 public:
  SelectionPlanner(bool cascade, double theta, Rule rule, NearestRule nearest)
      : cascade_(cascade), theta_(theta), rule_(rule), nearest_(nearest) {}
  std::optional<AdaPlan> plan(int64_t block, const at::Tensor& residual) override {
    const at::Tensor xhat = normalize_rows(residual);
    if (cascade_ && block > 0 && !previous_.empty()) {
      previous_ = cascade_step(xhat, previous_, theta_).result;
    } else {
      const std::vector<float> gamma = rule_ == Rule::PriorMax ? prior_max_scan(xhat).gamma : std::vector<float>{};
      previous_ = independent_reps(rule_, xhat, gamma, theta_);
    }
    AdaPlan p;
    p.reps = previous_;
    p.nearest = nearest_representative(xhat, previous_, nearest_);
    return p;
  }

 private:
  bool cascade_;
  double theta_;
  Rule rule_;
  NearestRule nearest_;
  TokenSet previous_;
};

}  // namespace

std::unique_ptr<AttentionPlanner> make_planner(AttentionMode mode, double tau, Rule rule, NearestRule nearest) {
  const double theta = theta_of_tau(tau);
  switch (mode) {
    case AttentionMode::Exact: return nullptr;
    case AttentionMode::AdaIndependent: return std::make_unique<SelectionPlanner>(false, theta, rule, nearest);
    case AttentionMode::AdaCascade: return std::make_unique<SelectionPlanner>(true, theta, rule, nearest);
  }
  return nullptr;
}

}  // namespace cascade
