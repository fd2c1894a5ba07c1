#include "core/snapshot.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <limits>
#include <sstream>

#include "core/errors.h"
#include "core/sets.h"
#include "core/version.h"

namespace cascade {

std::shared_ptr<const RunSnapshot> RunSnapshot::derive(std::shared_ptr<const RunRecord> record, double tau, Rule rule,
                                                       const JobControl& control) {
  if (!record) throw UsageError("no run to derive a snapshot from");
  // A stored analysis (the run's own, a saved session's, a sweep point) is shown as it was made:
  // exact, and the same whether or not the activations are there to re-derive it.
  if (const Analysis* stored = record->stored(tau, rule)) return of(std::move(record), *stored);
  if (!record->analyzer) {
    std::ostringstream taus;
    for (double t : record->stored_taus(rule)) taus << (taus.tellp() > 0 ? ", " : "") << t;
    throw UsageError("this session was saved without activations, so " +
                     (taus.tellp() > 0 ? "tau can only be " + taus.str() + " with " + to_string(rule)
                                       : "it holds no analysis with the " + to_string(rule) + " rule") +
                     "; save it with activations to change tau or the rule freely");
  }
  Analysis analysis = record->analyzer->analyze(tau, rule, control);
  return of(std::move(record), std::move(analysis));
}

std::shared_ptr<const RunSnapshot> RunSnapshot::of(std::shared_ptr<const RunRecord> record, Analysis analysis) {
  if (!record) throw UsageError("no run to make a snapshot of");
  auto snap = std::make_shared<RunSnapshot>();
  snap->analysis_ = std::move(analysis);
  snap->record_ = std::move(record);
  const int64_t L = snap->L(), T = snap->T();
  snap->status_.resize(static_cast<size_t>(L * T));
  snap->also_.assign(static_cast<size_t>(L * T), TokenStatus::Redundant);
  for (int64_t l = 0; l < L; ++l) {
    const LayerMeasures& m = snap->analysis_.layers[l];
    TokenStatus* status = snap->status_.data() + l * T;
    layer_statuses(m, T, status);
    for (const TokenSet* step : {&m.added, &m.removed})
      for (int64_t t : *step)
        snap->also_[l * T + t] = hidden_relation(status[t], std::binary_search(m.reps_ind.begin(), m.reps_ind.end(), t),
                                                 std::binary_search(m.reps_casc.begin(), m.reps_casc.end(), t));
  }
  return snap;
}

namespace {

at::Tensor index_of(const std::vector<int64_t>& set) { return at::tensor(set, at::TensorOptions().dtype(at::kLong)); }

}  // namespace

const TokenSet& RunSnapshot::reps(int64_t layer, RepSet set) const {
  const LayerMeasures& m = analysis_.layers.at(layer);
  return set == RepSet::Independent ? m.reps_ind : m.reps_casc;
}

Nearest RunSnapshot::nearest_representative(int64_t layer, int64_t t, RepSet set) const {
  const TokenSet& reps = this->reps(layer, set);
  if (reps.empty()) return {};
  if (std::binary_search(reps.begin(), reps.end(), t)) return {t, 1.0};
  if (!has_activations()) return {};
  const at::Tensor& x = record_->analyzer->normalized(layer);
  const at::Tensor cos = at::mv(x.index_select(0, index_of(reps).to(x.device())), x[t]).cpu();
  const int64_t k = cos.abs().argmax().item<int64_t>();  // first of equal maxima, like the scan
  return {reps[k], cos[k].item<double>()};
}

double RunSnapshot::cosine(int64_t layer, int64_t a, int64_t b) const {
  if (!has_activations()) return std::numeric_limits<double>::quiet_NaN();
  const at::Tensor& x = record_->analyzer->normalized(layer);
  return at::dot(x[a], x[b]).item<double>();
}

std::vector<int64_t> RunSnapshot::represented_by(int64_t layer, int64_t rep, RepSet set) const {
  const TokenSet& reps = this->reps(layer, set);
  if (!std::binary_search(reps.begin(), reps.end(), rep) || !has_activations()) return {};
  const at::Tensor& x = record_->analyzer->normalized(layer);
  const at::Tensor best = at::mm(x, x.index_select(0, index_of(reps).to(x.device())).t()).abs().argmax(1).cpu();
  const int64_t* p = best.data_ptr<int64_t>();
  std::vector<int64_t> out;
  for (int64_t t = 0; t < T(); ++t)
    if (t != rep && reps[p[t]] == rep) out.push_back(t);
  return out;
}

std::vector<float> RunSnapshot::gram(int64_t layer) const {
  if (!has_activations()) return {};
  const at::Tensor& x = record_->analyzer->normalized(layer);
  const at::Tensor g = at::mm(x, x.t()).abs_().cpu().contiguous();
  return std::vector<float>(g.data_ptr<float>(), g.data_ptr<float>() + g.numel());
}

CascadeExplanation RunSnapshot::explain(int64_t layer) const {
  if (layer < 1 || layer >= L()) throw UsageError("a cascade step goes into layers 1.." + std::to_string(L() - 1));
  if (!has_activations()) throw UsageError("the cascade step's cosines need the activations (this session was saved without them)");
  const TokenSet& previous = layer == 1 ? analysis_.layers[0].reps_ind : analysis_.layers[layer - 1].reps_casc;
  CascadeExplanation ex = explain_cascade_step(record_->analyzer->normalized(layer), previous, analysis_.theta);
  // Show exactly the step the other views show (the Gram-cached path can differ by one rounding
  // step from a fresh GEMM at |cos| = θ exactly).
  const LayerMeasures& m = analysis_.layers[layer];
  ex.trace.removed = m.removed;
  ex.trace.added = m.added;
  ex.trace.valid = set_difference(previous, m.removed);
  ex.trace.result = m.reps_casc;
  ex.trace.gram_entries = m.gram_entries_casc;
  return ex;
}

RunRecord RunSnapshot::record_at_snapshot() const {
  RunRecord r = *record_;
  r.app_version = version();
  r.created = utc_now_iso8601();
  r.analysis = analysis_;
  return r;
}

}  // namespace cascade
