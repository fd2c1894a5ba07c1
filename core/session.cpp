#include "core/session.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <ctime>

#include "core/errors.h"
#include "core/sets.h"
#include "core/version.h"

namespace cascade {

std::vector<int64_t> Session::layer_ids() const {
  std::vector<int64_t> ids;
  for (const LayerMeasures& m : analysis.layers) ids.push_back(m.layer);
  return ids;
}

namespace {
bool same(const Analysis& a, double tau, Rule rule) { return a.L() > 0 && a.rule == rule && std::abs(a.tau - tau) < 1e-9; }
}  // namespace

const Analysis* Session::stored(double tau, Rule rule) const {
  if (same(analysis, tau, rule)) return &analysis;
  for (const SweepEntry& e : sweep)
    if (same(e.analysis, tau, rule)) return &e.analysis;
  return nullptr;
}

std::vector<double> Session::stored_taus(Rule rule) const {
  std::vector<double> taus;
  if (analysis.L() > 0 && analysis.rule == rule) taus.push_back(analysis.tau);
  for (const SweepEntry& e : sweep)
    if (e.analysis.rule == rule) taus.push_back(e.analysis.tau);
  std::sort(taus.begin(), taus.end());
  taus.erase(std::unique(taus.begin(), taus.end(), [](double a, double b) { return std::abs(a - b) < 1e-9; }), taus.end());
  return taus;
}

ModelIdentity identity_of(const ModelConfig& config) {
  ModelIdentity m;
  m.name = config.name;
  m.model_type = config.model_type;
  m.num_layers = config.num_layers;
  m.hidden_size = config.hidden_size;
  m.num_heads = config.num_heads;
  m.vocab_size = config.vocab_size;
  return m;
}

std::string quality_mode_of(const std::string& attention) { return attention == "exact" ? "ada-cascade" : attention; }

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Session session_from_run(const Run& run) {
  Session s;
  s.app_version = version();
  s.created = utc_now_iso8601();
  s.kind = "model";
  s.source = run.config.name;
  s.model = identity_of(run.config);
  s.ids = run.ids;
  s.tokens = run.tokens;
  if (s.tokens.empty())
    for (int64_t id : run.ids) s.tokens.push_back(std::to_string(id));
  s.attention = run.attention;
  s.nearest = run.nearest;
  s.analysis = run.analysis;
  s.prior_max = run.prior_max;
  s.quality = run.quality;
  if (run.quality) s.quality_mode = quality_mode_of(run.attention);
  s.timings = run.timings;
  return s;
}

std::vector<SweepEntry> sweep_entries(const std::vector<Analysis>& analyses) {
  std::vector<SweepEntry> out;
  out.reserve(analyses.size());
  for (const Analysis& a : analyses) out.push_back(SweepEntry{a, std::nullopt, std::nullopt});
  return out;
}

at::Tensor stack_normalized(const Analyzer& analyzer, at::ScalarType dtype) {
  std::vector<at::Tensor> layers;
  for (int64_t l = 0; l < analyzer.num_layers(); ++l) layers.push_back(analyzer.normalized(l).to(at::kCPU).to(dtype));
  return at::stack(layers).contiguous();
}

std::shared_ptr<const Analyzer> analyzer_from_session(const Session& session, int64_t gram_cache_bytes,
                                                      const JobControl& control) {
  if (!session.has_activations())
    throw UsageError("this session was saved without activations, so tau and the rule cannot change: re-save it "
                     "with activations (cascadelens-cli run ... --save S.h5 --with-activations)");
  std::vector<at::Tensor> xhat;
  for (int64_t l = 0; l < session.xhat.size(0); ++l) xhat.push_back(session.xhat[l]);
  return std::make_shared<const Analyzer>(std::move(xhat), session.prior_max, session.layer_ids(), kDefaultTile,
                                          control, gram_cache_bytes);
}

Analysis remeasure(int64_t T, int64_t d, double tau, Rule rule, const std::vector<int64_t>& layer_ids,
                   const std::vector<TokenSet>& independent, const std::vector<TokenSet>& cascade,
                   const std::vector<TokenSet>& added, const std::vector<TokenSet>& removed,
                   const std::string& where) {
  const size_t L = independent.size();
  if (cascade.size() != L || added.size() != L || removed.size() != L || layer_ids.size() != L)
    throw InputError(where, "the per-layer sets do not all have " + std::to_string(L) + " layers");
  if (L > 0 && cascade[0] != independent[0])
    throw InputError(where, "reps_casc differs from reps_ind at the first layer (the cascade starts from the independent set)");
  if (L > 0 && (!added[0].empty() || !removed[0].empty()))
    throw InputError(where, "added/removed are not empty at the first layer (there is no step into it)");
  std::vector<CascadeTrace> steps(L);
  for (size_t l = 1; l < L; ++l) {
    CascadeTrace& s = steps[l];
    s.inherited = cascade[l - 1];
    s.removed = removed[l];
    s.added = added[l];
    if (set_difference(s.removed, s.inherited).size() > 0)
      throw InputError(where, "layer " + std::to_string(layer_ids[l]) + ": a removed token was not inherited");
    s.valid = set_difference(s.inherited, s.removed);
    if (!set_intersection(s.added, s.inherited).empty())
      throw InputError(where, "layer " + std::to_string(layer_ids[l]) + ": an added token was already inherited");
    s.result = set_union(s.valid, s.added);
    if (s.result != cascade[l])
      throw InputError(where, "layer " + std::to_string(layer_ids[l]) +
                                  ": reps_casc is not (inherited - removed) + added of the previous layer's set");
    s.gram_entries = cascade_gram_entries(T, static_cast<int64_t>(s.inherited.size()), static_cast<int64_t>(s.valid.size()));
  }
  return measure(T, d, tau, rule, layer_ids, independent, steps);
}

}  // namespace cascade
