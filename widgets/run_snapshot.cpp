#include "widgets/run_snapshot.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "core/analyzer.h"
#include "core/engine.h"
#include "core/errors.h"
#include "core/sets.h"

namespace cascade::widgets {

const char* status_name(TokenStatus s) {
  switch (s) {
    case TokenStatus::Redundant: return "redundant";
    case TokenStatus::Representative: return "representative";
    case TokenStatus::Added: return "cascade-added";
    case TokenStatus::Removed: return "cascade-removed";
    case TokenStatus::Missed: return "missed";
    case TokenStatus::Extra: return "extra";
  }
  return "?";
}

int64_t RunData::num_layers() const { return analyzer ? analyzer->num_layers() : 0; }
int64_t RunData::num_tokens() const { return analyzer ? analyzer->num_tokens() : 0; }
const std::vector<int64_t>& RunData::layer_ids() const {
  static const std::vector<int64_t> none;
  return analyzer ? analyzer->layer_ids() : none;
}

void layer_statuses(const LayerMeasures& m, int64_t T, TokenStatus* out) {
  std::fill(out, out + T, TokenStatus::Redundant);
  for (int64_t t : m.reps_casc) out[t] = TokenStatus::Extra;
  for (int64_t t : m.reps_ind) out[t] = out[t] == TokenStatus::Extra ? TokenStatus::Representative : TokenStatus::Missed;
  for (int64_t t : m.removed) out[t] = TokenStatus::Removed;
  for (int64_t t : m.added) out[t] = TokenStatus::Added;
}

std::shared_ptr<const RunSnapshot> RunSnapshot::derive(std::shared_ptr<const RunData> data, double tau, Rule rule,
                                                       const JobControl& control) {
  if (!data || !data->analyzer) throw UsageError("no run to derive a snapshot from");
  Analysis analysis = data->analyzer->analyze(tau, rule, control);
  return of(std::move(data), std::move(analysis));
}

std::shared_ptr<const RunSnapshot> RunSnapshot::of(std::shared_ptr<const RunData> data, Analysis analysis) {
  if (!data || !data->analyzer) throw UsageError("no run to make a snapshot of");
  auto snap = std::make_shared<RunSnapshot>();
  snap->analysis_ = std::move(analysis);
  snap->data_ = std::move(data);
  const int64_t L = snap->L(), T = snap->T();
  snap->status_.resize(static_cast<size_t>(L * T));
  for (int64_t l = 0; l < L; ++l) layer_statuses(snap->analysis_.layers[l], T, snap->status_.data() + l * T);
  return snap;
}

const std::vector<float>& RunSnapshot::gamma(int64_t layer) const { return data_->analyzer->prior_max(layer).gamma; }
const std::vector<int64_t>& RunSnapshot::partner(int64_t layer) const {
  return data_->analyzer->prior_max(layer).partner;
}

namespace {

at::Tensor index_of(const std::vector<int64_t>& set) { return at::tensor(set, at::TensorOptions().dtype(at::kLong)); }

}  // namespace

Nearest RunSnapshot::nearest_representative(int64_t layer, int64_t t) const {
  const TokenSet& reps = analysis_.layers.at(layer).reps_casc;
  if (reps.empty()) return {};
  if (std::binary_search(reps.begin(), reps.end(), t)) return {t, 1.0};
  const at::Tensor& x = data_->analyzer->normalized(layer);
  const at::Tensor cos = at::mv(x.index_select(0, index_of(reps).to(x.device())), x[t]).cpu();
  const int64_t k = cos.abs().argmax().item<int64_t>();  // first of equal maxima, like the scan
  return {reps[k], cos[k].item<double>()};
}

double RunSnapshot::cosine(int64_t layer, int64_t a, int64_t b) const {
  const at::Tensor& x = data_->analyzer->normalized(layer);
  return at::dot(x[a], x[b]).item<double>();
}

std::vector<int64_t> RunSnapshot::represented_by(int64_t layer, int64_t rep) const {
  const TokenSet& reps = analysis_.layers.at(layer).reps_casc;
  if (!std::binary_search(reps.begin(), reps.end(), rep)) return {};
  const at::Tensor& x = data_->analyzer->normalized(layer);
  const at::Tensor best = at::mm(x, x.index_select(0, index_of(reps).to(x.device())).t()).abs().argmax(1).cpu();
  const int64_t* p = best.data_ptr<int64_t>();
  std::vector<int64_t> out;
  for (int64_t t = 0; t < T(); ++t)
    if (t != rep && reps[p[t]] == rep) out.push_back(t);
  return out;
}

std::vector<float> RunSnapshot::gram(int64_t layer) const {
  const at::Tensor& x = data_->analyzer->normalized(layer);
  const at::Tensor g = at::mm(x, x.t()).abs_().cpu().contiguous();
  return std::vector<float>(g.data_ptr<float>(), g.data_ptr<float>() + g.numel());
}

CascadeExplanation RunSnapshot::explain(int64_t layer) const {
  if (layer < 1 || layer >= L()) throw UsageError("a cascade step goes into layers 1.." + std::to_string(L() - 1));
  const TokenSet& previous = layer == 1 ? analysis_.layers[0].reps_ind : analysis_.layers[layer - 1].reps_casc;
  CascadeExplanation ex = explain_cascade_step(data_->analyzer->normalized(layer), previous, analysis_.theta);
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

std::vector<SweepPoint> sweep_points(const std::vector<Analysis>& analyses) {
  std::vector<SweepPoint> out;
  for (const Analysis& a : analyses) {
    SweepPoint p;
    p.tau = a.tau;
    const double T = static_cast<double>(std::max<int64_t>(a.T, 1));
    p.r_ind_frac = a.summary.mean_r_ind / T;
    p.r_casc_frac = a.summary.mean_r_casc / T;
    p.gram_savings = a.summary.gram_savings;
    p.casc_fidelity = a.summary.mean_casc_fidelity;
    p.mean_depth_jaccard = a.summary.mean_depth_jaccard;
    out.push_back(p);
  }
  return out;
}

std::shared_ptr<RunData> run_data_from_run(const Run& run, const std::vector<double>& taus, Rule rule,
                                           const JobControl& control) {
  auto data = std::make_shared<RunData>();
  data->analyzer = run.analyzer;
  data->tokens = run.tokens;
  if (data->tokens.empty())
    for (int64_t id : run.ids) data->tokens.push_back(std::to_string(id));
  if (!taus.empty()) data->sweep = sweep_points(run.analyzer->sweep(taus, rule, control));
  if (run.quality)
    data->quality = QualityNumbers{run.attention == "exact" ? "ada-cascade" : run.attention, run.quality->ppl_exact,
                                   run.quality->ppl_ada, run.quality->mean_kl, mean_attention_error(*run.quality)};
  data->meta.kind = "model";
  data->meta.model_type = run.config.model_type;
  data->meta.attention = run.attention;
  data->meta.forward_ms = run.timings.forward_ms;
  data->meta.selection_ms = run.timings.selection_ms;
  data->meta.source = run.config.name;
  return data;
}

std::shared_ptr<RunData> run_data_from_activations(const ActivationSet& acts, const std::vector<double>& taus, Rule rule,
                                                   const JobControl& control, int64_t gram_cache_bytes) {
  auto data = std::make_shared<RunData>();
  const auto t0 = std::chrono::steady_clock::now();
  data->analyzer = std::make_shared<const Analyzer>(acts, kDefaultTile, control, gram_cache_bytes);
  data->tokens = acts.tokens;
  if (data->tokens.empty())
    for (int64_t t = 0; t < acts.num_tokens(); ++t) data->tokens.push_back(std::to_string(t));
  if (!taus.empty()) data->sweep = sweep_points(data->analyzer->sweep(taus, rule, control));
  data->meta.kind = "activations";
  data->meta.source = acts.source;
  data->meta.selection_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return data;
}

}  // namespace cascade::widgets
