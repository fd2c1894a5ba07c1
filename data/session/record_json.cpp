#include "data/session/record_json.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "core/names.h"
#include "data/session/session_file.h"

namespace cascade::data {

namespace {

using Json = nlohmann::json;

template <class F, class R>
Json value(const F& field, const R& record) {
  const auto v = field.get(record);
  if (!v) return Json();
  return field.integer ? Json(static_cast<int64_t>(*v)) : Json(*v);
}

Json summary_json(const Summary& s) {
  Json j = Json::object();
  for (const names::SummaryField* f : names::summary_fields()) j[f->key()] = value(*f, s);
  return j;
}

Json layer_numbers_json(const LayerMeasures& m) {
  Json j = Json::object();
  for (const names::LayerField* f : names::layer_fields()) j[f->key()] = value(*f, m);
  return j;
}

Json quality_json(const AdaQuality& q) {
  Json j = {{"attention_error", q.attention_error}};
  for (const auto& f : names::quality_fields()) j[f.key()] = q.*f.member;
  return j;
}

Json optional_json(const std::optional<double>& v) { return v ? Json(*v) : Json(); }

}  // namespace

Json comparison_json(const Comparison& c) {
  Json methods = Json::object(), order = Json::array();
  for (const MethodResult& m : c.methods) {
    Json layers = Json::array();
    double ms = 0;
    int64_t macs = 0;
    bool have_ms = false, have_macs = false;
    for (const MethodLayer& l : m.layers) {
      Json j = Json::object();
      for (const names::MethodField* f : names::method_fields()) j[f->key()] = value(*f, l);
      j["set"] = l.set ? Json(*l.set) : Json();
      if (!l.why.empty()) j["why"] = l.why;
      if (l.selection_ms) ms += *l.selection_ms, have_ms = true;
      if (l.selection_macs) macs += *l.selection_macs, have_macs = true;
      layers.push_back(std::move(j));
    }
    const double mean_r = m.mean_r();
    Json summary = {{"mean_r", mean_r},
                    {"r_over_T", c.T > 0 ? Json(mean_r / static_cast<double>(c.T)) : Json()},
                    {"coverage", optional_json(m.mean(&MethodLayer::coverage))},
                    {"covered", optional_json(m.mean(&MethodLayer::covered))},
                    {"attn_err", optional_json(m.mean(&MethodLayer::attn_err))},
                    {"selection_ms", have_ms ? Json(ms) : Json()},
                    {"selection_macs", have_macs ? Json(macs) : Json()},
                    {"ppl", optional_json(m.ppl)},
                    {"delta_ppl", optional_json(m.delta_ppl)},
                    {"kl", optional_json(m.kl)}};
    Json entry = {{"layers", layers}, {"summary", summary}, {"element_level", is_element_method(m.method)}};
    if (m.method == Method::TopTheta) entry["self_calibrated"] = m.self_calibrated;
    if (!m.quality_why.empty()) entry["quality_why"] = m.quality_why;
    methods[to_string(m.method)] = std::move(entry);
    order.push_back(to_string(m.method));
  }
  return {{"methods", methods},   {"order", order},
          {"tau", c.tau},         {"theta", 1.0 - c.tau * c.tau},
          {"rule", c.rule},       {"nearest", c.nearest},
          {"budget", to_string(c.budget)}, {"seed", c.seed},
          {"document", c.document}, {"T", c.T},
          {"ppl_exact", optional_json(c.ppl_exact)}, {"notes", c.notes}};
}

Json analysis_json(const Analysis& a, const std::string& source, const std::vector<std::string>& tokens) {
  Json layers = Json::array();
  for (const auto& m : a.layers) {
    Json j = layer_numbers_json(m);
    j["reps_ind"] = m.reps_ind;
    j["reps_casc"] = m.reps_casc;
    j["missed"] = m.missed;  // lists; the counts are n_missed / n_extra in every JSON
    j["extra"] = m.extra;
    j["added"] = m.added;
    j["removed"] = m.removed;
    layers.push_back(std::move(j));
  }
  Json out = {{"source", source},       {"T", a.T},
              {"d", a.d},               {"L", a.L()},
              {"tau", a.tau},           {"theta", a.theta},
              {"rule", to_string(a.rule)}, {"layers", layers},
              {"jaccard_matrix", a.jaccard_matrix}, {"summary", summary_json(a.summary)}};
  if (!tokens.empty()) out["tokens"] = tokens;
  return out;
}

Json sweep_json(const std::vector<Analysis>& runs, const std::string& source) {
  Json taus = Json::array();
  for (const auto& a : runs) {
    Json layers = Json::array();
    for (const auto& m : a.layers) layers.push_back(layer_numbers_json(m));
    taus.push_back({{"tau", a.tau}, {"theta", a.theta}, {"summary", summary_json(a.summary)}, {"layers", layers}});
  }
  Json out = {{"source", source}, {"sweep", taus}};
  if (!runs.empty()) {
    out["T"] = runs[0].T;
    out["d"] = runs[0].d;
    out["L"] = runs[0].L();
    out["rule"] = to_string(runs[0].rule);
  }
  return out;
}

Json model_json(const ModelIdentity& m) {
  Json j = Json::object();
  for (const auto& f : names::model_texts()) j[f.name] = m.*f.member;
  for (const auto& f : names::model_integers()) j[f.name] = m.*f.member;
  j["layers"] = m.num_layers;  // the names run --format json used before the name tables
  j["heads"] = m.num_heads;
  return j;
}

void add_run_json(Json& j, const RunRecord& r, bool quality) {
  if (r.model) j["model"] = model_json(*r.model);
  if (!r.ids.empty()) j["input_ids"] = r.ids;
  j["attention"] = to_string(r.attention);
  j["nearest"] = to_string(r.nearest);
  if (r.kind == SourceKind::Model) j["device"] = to_string(r.device), j["dtype"] = to_string(r.dtype);
  Json timings = Json::object();
  for (const auto& f : names::timing_fields()) timings[f.key()] = r.timings.*f.member;
  j["timings_ms"] = timings;
  if (quality && r.quality) j["quality"] = quality_json(*r.quality);
}

Json record_json(const RunRecord& s) {
  Json j;
  j["format"] = kSessionFormatName;
  j["format_version"] = kSessionFormatVersion;
  j["app_version"] = s.app_version;
  j["created"] = s.created;
  j["kind"] = to_string(s.kind);
  j["source"] = s.source;
  j["text"] = s.text;
  if (s.model) j["model"] = model_json(*s.model);
  j["tokens"] = s.tokens;
  j["ids"] = s.ids;
  Json run = {{"attention", to_string(s.attention)}, {"nearest", to_string(s.nearest)},
              {"device", to_string(s.device)}, {"dtype", to_string(s.dtype)}};
  Json timings = Json::object();
  for (const auto& f : names::timing_fields()) timings[f.key()] = s.timings.*f.member;
  run["timings_ms"] = timings;
  j["run"] = run;
  j["analysis"] = analysis_json(s.analysis, s.source, s.tokens);
  Json pm = Json::array();
  for (int64_t l = 0; l < s.analysis.L(); ++l) {
    const PriorMax& p = s.prior_max_of(l);
    std::vector<Json> gamma;  // −inf at token 0 → null
    for (float g : p.gamma) gamma.push_back(std::isfinite(g) ? Json(g) : Json());
    pm.push_back({{"layer", s.analysis.layers[l].layer}, {"gamma", gamma}, {"partner", p.partner}});
  }
  j["prior_max"] = pm;
  if (!s.sweep.empty()) {
    std::vector<Analysis> runs;
    for (const auto& e : s.sweep) runs.push_back(e.analysis);
    j["sweep"] = sweep_json(runs, s.source)["sweep"];
    for (size_t i = 0; i < s.sweep.size(); ++i)
      for (const names::SweepField* f : {&names::sweep::ada_error, &names::sweep::delta_ppl})
        j["sweep"][i][f->key()] = value(*f, s.sweep[i]);
  }
  if (s.quality) {
    j["quality"] = quality_json(*s.quality);
    j["quality"]["mode"] = to_string(s.quality_mode);
  }
  Json comparisons = Json::array();  // /comparisons/0, 1, ... in order ([] when there are none)
  for (const Comparison& c : s.comparisons) comparisons.push_back(comparison_json(c));
  j["comparisons"] = comparisons;
  return j;
}

}  // namespace cascade::data
