#include "widgets/run_snapshot.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "core/analyzer.h"
#include "core/engine.h"
#include "core/errors.h"
#include "core/sets.h"
#include "core/version.h"

namespace cascade::widgets {

int64_t RunData::num_layers() const { return analyzer ? analyzer->num_layers() : session.num_layers(); }
int64_t RunData::num_tokens() const { return analyzer ? analyzer->num_tokens() : session.num_tokens(); }
std::vector<int64_t> RunData::layer_ids() const { return analyzer ? analyzer->layer_ids() : session.layer_ids(); }
const PriorMax& RunData::prior_max(int64_t layer) const {
  return analyzer ? analyzer->prior_max(layer) : session.prior_max.at(static_cast<size_t>(layer));
}

std::vector<double> RunData::stored_taus(Rule rule) const { return session.stored_taus(rule); }

std::shared_ptr<const RunSnapshot> RunSnapshot::derive(std::shared_ptr<const RunData> data, double tau, Rule rule,
                                                       const JobControl& control) {
  if (!data) throw UsageError("no run to derive a snapshot from");
  // A stored analysis (the run's own, a saved session's, a sweep point) is shown as it was made:
  // exact, and the same whether or not the activations are there to re-derive it.
  if (const Analysis* stored = data->session.stored(tau, rule)) return of(std::move(data), *stored);
  if (!data->analyzer) {
    std::ostringstream taus;
    for (double t : data->stored_taus(rule)) taus << (taus.tellp() > 0 ? ", " : "") << t;
    throw UsageError("this session was saved without activations, so " +
                     (taus.tellp() > 0 ? "tau can only be " + taus.str() + " with " + to_string(rule)
                                       : "it holds no analysis with the " + to_string(rule) + " rule") +
                     "; save it with activations to change tau or the rule freely");
  }
  Analysis analysis = data->analyzer->analyze(tau, rule, control);
  return of(std::move(data), std::move(analysis));
}

std::shared_ptr<const RunSnapshot> RunSnapshot::of(std::shared_ptr<const RunData> data, Analysis analysis) {
  if (!data) throw UsageError("no run to make a snapshot of");
  auto snap = std::make_shared<RunSnapshot>();
  snap->analysis_ = std::move(analysis);
  snap->data_ = std::move(data);
  const int64_t L = snap->L(), T = snap->T();
  snap->status_.resize(static_cast<size_t>(L * T));
  for (int64_t l = 0; l < L; ++l) layer_statuses(snap->analysis_.layers[l], T, snap->status_.data() + l * T);
  return snap;
}

const std::vector<float>& RunSnapshot::gamma(int64_t layer) const { return data_->prior_max(layer).gamma; }
const std::vector<int64_t>& RunSnapshot::partner(int64_t layer) const { return data_->prior_max(layer).partner; }

namespace {

at::Tensor index_of(const std::vector<int64_t>& set) { return at::tensor(set, at::TensorOptions().dtype(at::kLong)); }

}  // namespace

Nearest RunSnapshot::nearest_representative(int64_t layer, int64_t t) const {
  const TokenSet& reps = analysis_.layers.at(layer).reps_casc;
  if (reps.empty()) return {};
  if (std::binary_search(reps.begin(), reps.end(), t)) return {t, 1.0};
  if (!has_activations()) return {};
  const at::Tensor& x = data_->analyzer->normalized(layer);
  const at::Tensor cos = at::mv(x.index_select(0, index_of(reps).to(x.device())), x[t]).cpu();
  const int64_t k = cos.abs().argmax().item<int64_t>();  // first of equal maxima, like the scan
  return {reps[k], cos[k].item<double>()};
}

double RunSnapshot::cosine(int64_t layer, int64_t a, int64_t b) const {
  if (!has_activations()) return std::numeric_limits<double>::quiet_NaN();
  const at::Tensor& x = data_->analyzer->normalized(layer);
  return at::dot(x[a], x[b]).item<double>();
}

std::vector<int64_t> RunSnapshot::represented_by(int64_t layer, int64_t rep) const {
  const TokenSet& reps = analysis_.layers.at(layer).reps_casc;
  if (!std::binary_search(reps.begin(), reps.end(), rep) || !has_activations()) return {};
  const at::Tensor& x = data_->analyzer->normalized(layer);
  const at::Tensor best = at::mm(x, x.index_select(0, index_of(reps).to(x.device())).t()).abs().argmax(1).cpu();
  const int64_t* p = best.data_ptr<int64_t>();
  std::vector<int64_t> out;
  for (int64_t t = 0; t < T(); ++t)
    if (t != rep && reps[p[t]] == rep) out.push_back(t);
  return out;
}

std::vector<float> RunSnapshot::gram(int64_t layer) const {
  if (!has_activations()) return {};
  const at::Tensor& x = data_->analyzer->normalized(layer);
  const at::Tensor g = at::mm(x, x.t()).abs_().cpu().contiguous();
  return std::vector<float>(g.data_ptr<float>(), g.data_ptr<float>() + g.numel());
}

CascadeExplanation RunSnapshot::explain(int64_t layer) const {
  if (layer < 1 || layer >= L()) throw UsageError("a cascade step goes into layers 1.." + std::to_string(L() - 1));
  if (!has_activations()) throw UsageError("the cascade step's cosines need the activations (this session was saved without them)");
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

std::shared_ptr<RunData> run_data_from_session(Session session, std::shared_ptr<const Analyzer> analyzer,
                                               int64_t gram_cache_bytes, const JobControl& control) {
  auto data = std::make_shared<RunData>();
  if (!analyzer && session.has_activations()) analyzer = analyzer_from_session(session, gram_cache_bytes, control);
  session.xhat = at::Tensor();  // in the analyzer now
  if (analyzer) session.prior_max.clear();  // and so are γ and π
  data->analyzer = std::move(analyzer);
  data->tokens = session.tokens;
  if (data->tokens.empty())
    for (int64_t t = 0; t < data->num_tokens(); ++t)
      data->tokens.push_back(t < static_cast<int64_t>(session.ids.size()) ? std::to_string(session.ids[t]) : std::to_string(t));
  std::vector<Analysis> analyses;
  for (const SweepEntry& e : session.sweep) analyses.push_back(e.analysis);
  data->sweep = sweep_points(analyses);
  for (size_t i = 0; i < session.sweep.size(); ++i) {
    data->sweep[i].ada_error = session.sweep[i].ada_error;
    data->sweep[i].delta_ppl = session.sweep[i].delta_ppl;
  }
  if (session.quality)
    data->quality = QualityNumbers{session.quality_mode, session.quality->ppl_exact, session.quality->ppl_ada,
                                   session.quality->mean_kl, mean_attention_error(*session.quality)};
  RunMeta& m = data->meta;
  m.source = session.source;
  m.kind = session.kind;
  m.model_type = session.model ? session.model->model_type : std::string();
  m.device = session.device;
  m.dtype = session.dtype;
  m.attention = session.attention;
  m.text = session.text;
  m.forward_ms = session.timings.forward_ms;
  m.selection_ms = session.timings.selection_ms;
  data->session = std::move(session);
  return data;
}

std::shared_ptr<RunData> run_data_from_run(const Run& run, const std::vector<double>& taus, Rule rule,
                                           const JobControl& control) {
  Session s = session_from_run(run);
  if (!taus.empty()) s.sweep = sweep_entries(run.analyzer->sweep(taus, rule, control));
  return run_data_from_session(std::move(s), run.analyzer);
}

Session session_to_save(const RunSnapshot& snapshot, bool with_activations) {
  const RunData& data = snapshot.data();
  Session s = data.session;
  s.app_version = version();
  s.created = utc_now_iso8601();
  s.analysis = snapshot.analysis();
  if (s.tokens.empty()) s.tokens = data.tokens;
  if (data.analyzer) {
    s.prior_max.clear();
    for (int64_t l = 0; l < data.analyzer->num_layers(); ++l) s.prior_max.push_back(data.analyzer->prior_max(l));
    if (with_activations) s.xhat = stack_normalized(*data.analyzer, at::kHalf);
  }
  return s;
}

std::shared_ptr<RunData> run_data_from_activations(const ActivationSet& acts, const std::vector<double>& taus, Rule rule,
                                                   const JobControl& control, int64_t gram_cache_bytes) {
  auto data = std::make_shared<RunData>();
  const auto t0 = std::chrono::steady_clock::now();
  data->analyzer = std::make_shared<const Analyzer>(acts, kDefaultTile, control, gram_cache_bytes);
  data->tokens = acts.tokens;
  if (data->tokens.empty())
    for (int64_t t = 0; t < acts.num_tokens(); ++t) data->tokens.push_back(std::to_string(t));
  if (!taus.empty()) {
    const auto analyses = data->analyzer->sweep(taus, rule, control);
    data->sweep = sweep_points(analyses);
    data->session.sweep = sweep_entries(analyses);
  }
  data->session.kind = data->meta.kind = "activations";
  data->session.source = data->meta.source = acts.source;
  data->session.tokens = data->tokens;
  data->session.device = acts.hidden.device().is_cpu() ? "cpu" : "cuda";
  const at::ScalarType st = acts.hidden.scalar_type();
  data->session.dtype = st == at::kHalf ? "float16" : st == at::kBFloat16 ? "bfloat16" : "float32";
  data->session.timings.selection_ms = data->meta.selection_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return data;
}

}  // namespace cascade::widgets
