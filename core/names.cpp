#include "core/names.h"

#include <algorithm>
#include <stdexcept>

#include "core/run_record.h"

namespace cascade::names {

namespace {
using Value = std::optional<double>;
Value count(const TokenSet& s) { return static_cast<double>(s.size()); }
}  // namespace

namespace per_layer {
// clang-format off
const LayerField layer{"layer", true, [](const LayerMeasures& m) -> Value { return static_cast<double>(m.layer); }};
const LayerField r_ind{"r_ind", true, [](const LayerMeasures& m) -> Value { return static_cast<double>(m.r_ind); }};
const LayerField r_casc{"r_casc", true, [](const LayerMeasures& m) -> Value { return static_cast<double>(m.r_casc); }};
const LayerField depth_jaccard{"depth_jaccard", false, [](const LayerMeasures& m) -> Value { return m.depth_jaccard; }};
const LayerField casc_fidelity{"casc_fidelity", false, [](const LayerMeasures& m) -> Value { return m.casc_fidelity; }};
// In JSON "missed" and "extra" are the token lists; their sizes are n_missed and n_extra there.
const LayerField missed{"missed", true, [](const LayerMeasures& m) { return count(m.missed); }, "n_missed", true};
const LayerField extra{"extra", true, [](const LayerMeasures& m) { return count(m.extra); }, "n_extra", true};
const LayerField adds{"adds", true, [](const LayerMeasures& m) -> Value { return static_cast<double>(m.adds); }};
const LayerField removes{"removes", true, [](const LayerMeasures& m) -> Value { return static_cast<double>(m.removes); }};
const LayerField turnover{"turnover", false, [](const LayerMeasures& m) -> Value { return m.turnover; }};
const LayerField gram_entries_ind{"gram_entries_ind", true, [](const LayerMeasures& m) -> Value { return static_cast<double>(m.gram_entries_ind); }};
const LayerField gram_entries_casc{"gram_entries_casc", true, [](const LayerMeasures& m) -> Value { return static_cast<double>(m.gram_entries_casc); }};
const LayerField gram_macs_ind{"gram_macs_ind", true, [](const LayerMeasures& m) -> Value { return static_cast<double>(m.gram_macs_ind); }};
const LayerField gram_macs_casc{"gram_macs_casc", true, [](const LayerMeasures& m) -> Value { return static_cast<double>(m.gram_macs_casc); }};
const LayerField compression_ind{"compression_ind", false, [](const LayerMeasures& m) -> Value { return m.compression_ind; }};
const LayerField compression_casc{"compression_casc", false, [](const LayerMeasures& m) -> Value { return m.compression_casc; }};
// clang-format on
}  // namespace per_layer

namespace summary {
// clang-format off
const SummaryField mean_depth_jaccard{"mean_depth_jaccard", false, [](const Summary& s) -> Value { return s.mean_depth_jaccard; }};
const SummaryField gram_savings{"gram_savings", false, [](const Summary& s) -> Value { return s.gram_savings; }};
const SummaryField gram_entries_ind{"gram_entries_ind", true, [](const Summary& s) -> Value { return static_cast<double>(s.gram_entries_ind); }};
const SummaryField gram_entries_casc{"gram_entries_casc", true, [](const Summary& s) -> Value { return static_cast<double>(s.gram_entries_casc); }};
const SummaryField mean_r_ind{"mean_r_ind", false, [](const Summary& s) -> Value { return s.mean_r_ind; }};
const SummaryField mean_r_casc{"mean_r_casc", false, [](const Summary& s) -> Value { return s.mean_r_casc; }};
const SummaryField mean_compression_ind{"mean_compression_ind", false, [](const Summary& s) -> Value { return s.mean_compression_ind; }};
const SummaryField mean_compression_casc{"mean_compression_casc", false, [](const Summary& s) -> Value { return s.mean_compression_casc; }};
const SummaryField mean_casc_fidelity{"mean_casc_fidelity", false, [](const Summary& s) -> Value { return s.mean_casc_fidelity; }};
const SummaryField mean_turnover{"mean_turnover", false, [](const Summary& s) -> Value { return s.mean_turnover; }};
const SummaryField total_missed{"total_missed", true, [](const Summary& s) -> Value { return static_cast<double>(s.total_missed); }};
const SummaryField total_extra{"total_extra", true, [](const Summary& s) -> Value { return static_cast<double>(s.total_extra); }};
const SummaryField total_adds{"total_adds", true, [](const Summary& s) -> Value { return static_cast<double>(s.total_adds); }};
const SummaryField total_removes{"total_removes", true, [](const Summary& s) -> Value { return static_cast<double>(s.total_removes); }};
// clang-format on
}  // namespace summary

namespace sweep {
namespace {
double per_token(const SweepEntry& e, double r) { return r / static_cast<double>(std::max<int64_t>(e.analysis.T, 1)); }
}  // namespace
// clang-format off
const SweepField tau{"tau", false, [](const SweepEntry& e) -> Value { return e.analysis.tau; }};
const SweepField theta{"theta", false, [](const SweepEntry& e) -> Value { return e.analysis.theta; }};
const SweepField r_ind_over_T{"r_ind_over_T", false, [](const SweepEntry& e) -> Value { return per_token(e, e.analysis.summary.mean_r_ind); }};
const SweepField r_casc_over_T{"r_casc_over_T", false, [](const SweepEntry& e) -> Value { return per_token(e, e.analysis.summary.mean_r_casc); }};
const SweepField ada_error{"ada_error", false, [](const SweepEntry& e) -> Value { return e.ada_error; }};
const SweepField delta_ppl{"delta_ppl", false, [](const SweepEntry& e) -> Value { return e.delta_ppl; }};
// clang-format on

namespace {
// A summary field as a sweep field: the same name, read from the entry's summary.
template <const SummaryField& F>
const SweepField kSummary{F.name, F.integer, [](const SweepEntry& e) { return F.get(e.analysis.summary); }};

const std::vector<std::pair<const SummaryField*, const SweepField*>>& summary_as_sweep() {
  using namespace names::summary;
  static const std::vector<std::pair<const SummaryField*, const SweepField*>> table = {
      {&mean_depth_jaccard, &kSummary<mean_depth_jaccard>},
      {&gram_savings, &kSummary<gram_savings>},
      {&gram_entries_ind, &kSummary<gram_entries_ind>},
      {&gram_entries_casc, &kSummary<gram_entries_casc>},
      {&mean_r_ind, &kSummary<mean_r_ind>},
      {&mean_r_casc, &kSummary<mean_r_casc>},
      {&mean_compression_ind, &kSummary<mean_compression_ind>},
      {&mean_compression_casc, &kSummary<mean_compression_casc>},
      {&mean_casc_fidelity, &kSummary<mean_casc_fidelity>},
      {&mean_turnover, &kSummary<mean_turnover>},
      {&total_missed, &kSummary<total_missed>},
      {&total_extra, &kSummary<total_extra>},
      {&total_adds, &kSummary<total_adds>},
      {&total_removes, &kSummary<total_removes>}};
  return table;
}
}  // namespace

const SweepField& of(const SummaryField& field) {
  for (const auto& [s, w] : summary_as_sweep())
    if (s == &field) return *w;
  throw std::out_of_range(std::string("no sweep field for summary field ") + field.name);
}
}  // namespace sweep

const std::vector<const LayerField*>& layer_fields() {
  using namespace per_layer;
  static const std::vector<const LayerField*> all = {
      &layer,    &r_ind,    &r_casc,           &depth_jaccard,     &casc_fidelity, &missed,
      &extra,    &adds,     &removes,          &turnover,          &gram_entries_ind,
      &gram_entries_casc,   &gram_macs_ind,    &gram_macs_casc,    &compression_ind, &compression_casc};
  return all;
}

const LayerField& layer_field(const std::string& name) {
  for (const LayerField* f : layer_fields())
    if (name == f->name) return *f;
  throw std::out_of_range("no per-layer measure named " + name);
}

const std::vector<const SummaryField*>& summary_fields() {
  static const std::vector<const SummaryField*> all = [] {
    std::vector<const SummaryField*> out;
    for (const auto& entry : sweep::summary_as_sweep()) out.push_back(entry.first);
    return out;
  }();
  return all;
}

const std::vector<const SweepField*>& sweep_fields() {
  using namespace names::summary;
  using sweep::of;
  static const std::vector<const SweepField*> all = {
      &sweep::tau,           &sweep::theta,          &of(mean_r_ind),         &of(mean_r_casc),
      &sweep::r_ind_over_T,  &sweep::r_casc_over_T,  &of(gram_savings),       &of(gram_entries_ind),
      &of(gram_entries_casc), &of(mean_depth_jaccard), &of(mean_casc_fidelity), &of(mean_turnover),
      &of(total_missed),     &of(total_extra),       &of(total_adds),         &of(total_removes),
      &sweep::ada_error,     &sweep::delta_ppl};
  return all;
}

const std::vector<Text<ModelIdentity>>& model_texts() {
  static const std::vector<Text<ModelIdentity>> all = {{"name", &ModelIdentity::name},
                                                       {"model_type", &ModelIdentity::model_type},
                                                       {"config_sha256", &ModelIdentity::config_sha256},
                                                       {"revision", &ModelIdentity::revision}};
  return all;
}

const std::vector<Integer<ModelIdentity>>& model_integers() {
  static const std::vector<Integer<ModelIdentity>> all = {{"num_layers", &ModelIdentity::num_layers},
                                                          {"hidden_size", &ModelIdentity::hidden_size},
                                                          {"num_heads", &ModelIdentity::num_heads},
                                                          {"vocab_size", &ModelIdentity::vocab_size}};
  return all;
}

const std::vector<Real<Timings>>& timing_fields() {
  static const std::vector<Real<Timings>> all = {{"forward_ms", &Timings::forward_ms, "forward"},
                                                 {"selection_ms", &Timings::selection_ms, "selection"},
                                                 {"quality_ms", &Timings::quality_ms, "quality"}};
  return all;
}

const std::vector<Real<AdaQuality>>& quality_fields() {
  static const std::vector<Real<AdaQuality>> all = {
      {"ppl_exact", &AdaQuality::ppl_exact}, {"ppl_ada", &AdaQuality::ppl_ada}, {"mean_kl", &AdaQuality::mean_kl}};
  return all;
}

}  // namespace cascade::names
