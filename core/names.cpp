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
const LayerField layer{"layer", true, [](const LayerMeasures& m) -> Value { return static_cast<double>(m.layer); },
    "the layer: the residual stream entering block l (0 = the embeddings)"};
const LayerField r_ind{"r_ind", true, [](const LayerMeasures& m) -> Value { return static_cast<double>(m.r_ind); },
    "size of the independent set R_ind (the full-Gram rule at this layer)"};
const LayerField r_casc{"r_casc", true, [](const LayerMeasures& m) -> Value { return static_cast<double>(m.r_casc); },
    "size of the cascade set R_casc (inherited, validated, added to)"};
const LayerField depth_jaccard{"depth_jaccard", false, [](const LayerMeasures& m) -> Value { return m.depth_jaccard; },
    "Jaccard overlap of R_ind at this layer and the next"};
const LayerField casc_fidelity{"casc_fidelity", false, [](const LayerMeasures& m) -> Value { return m.casc_fidelity; },
    "Jaccard overlap of the cascade set with the independent set at this layer"};
// In JSON "missed" and "extra" are the token lists; their sizes are n_missed and n_extra there.
const LayerField missed{"missed", true, [](const LayerMeasures& m) { return count(m.missed); },
    "tokens in R_ind that the cascade left out", "n_missed", true};
const LayerField extra{"extra", true, [](const LayerMeasures& m) { return count(m.extra); },
    "tokens the cascade keeps that R_ind does not", "n_extra", true};
const LayerField adds{"adds", true, [](const LayerMeasures& m) -> Value { return static_cast<double>(m.adds); },
    "tokens the cascade step into this layer added"};
const LayerField removes{"removes", true, [](const LayerMeasures& m) -> Value { return static_cast<double>(m.removes); },
    "inherited tokens the cascade step into this layer found invalid and removed"};
const LayerField turnover{"turnover", false, [](const LayerMeasures& m) -> Value { return m.turnover; },
    "(adds + removes) over the size of the inherited set"};
const LayerField gram_entries_ind{"gram_entries_ind", true, [](const LayerMeasures& m) -> Value { return static_cast<double>(m.gram_entries_ind); },
    "Gram entries the independent rule computes: T squared"};
const LayerField gram_entries_casc{"gram_entries_casc", true, [](const LayerMeasures& m) -> Value { return static_cast<double>(m.gram_entries_casc); },
    "Gram entries the cascade computes: r_inh squared + (T - r_inh) r_valid"};
const LayerField gram_macs_ind{"gram_macs_ind", true, [](const LayerMeasures& m) -> Value { return static_cast<double>(m.gram_macs_ind); },
    "multiply-adds of the independent Gram: entries times d"};
const LayerField gram_macs_casc{"gram_macs_casc", true, [](const LayerMeasures& m) -> Value { return static_cast<double>(m.gram_macs_casc); },
    "multiply-adds of the cascade: entries times d"};
const LayerField compression_ind{"compression_ind", false, [](const LayerMeasures& m) -> Value { return m.compression_ind; },
    "T / r_ind: how many tokens each representative stands for"};
const LayerField compression_casc{"compression_casc", false, [](const LayerMeasures& m) -> Value { return m.compression_casc; },
    "T / r_casc"};
// clang-format on
}  // namespace per_layer

namespace summary {
// clang-format off
const SummaryField mean_depth_jaccard{"mean_depth_jaccard", false, [](const Summary& s) -> Value { return s.mean_depth_jaccard; },
    "mean of depth_jaccard over the layers that have one"};
const SummaryField gram_savings{"gram_savings", false, [](const Summary& s) -> Value { return s.gram_savings; },
    "1 - (sum of cascade entries) / (sum of independent entries)"};
const SummaryField gram_entries_ind{"gram_entries_ind", true, [](const Summary& s) -> Value { return static_cast<double>(s.gram_entries_ind); },
    "Gram entries the independent rule computes: T squared"};
const SummaryField gram_entries_casc{"gram_entries_casc", true, [](const Summary& s) -> Value { return static_cast<double>(s.gram_entries_casc); },
    "Gram entries the cascade computes: r_inh squared + (T - r_inh) r_valid"};
const SummaryField mean_r_ind{"mean_r_ind", false, [](const Summary& s) -> Value { return s.mean_r_ind; },
    "mean r_ind over the layers"};
const SummaryField mean_r_casc{"mean_r_casc", false, [](const Summary& s) -> Value { return s.mean_r_casc; },
    "mean r_casc over the layers"};
const SummaryField mean_compression_ind{"mean_compression_ind", false, [](const Summary& s) -> Value { return s.mean_compression_ind; },
    "T / mean r_ind"};
const SummaryField mean_compression_casc{"mean_compression_casc", false, [](const Summary& s) -> Value { return s.mean_compression_casc; },
    "T / mean r_casc"};
const SummaryField mean_casc_fidelity{"mean_casc_fidelity", false, [](const Summary& s) -> Value { return s.mean_casc_fidelity; },
    "mean casc_fidelity over the layers"};
const SummaryField mean_turnover{"mean_turnover", false, [](const Summary& s) -> Value { return s.mean_turnover; },
    "mean turnover over the layers that have one"};
const SummaryField total_missed{"total_missed", true, [](const Summary& s) -> Value { return static_cast<double>(s.total_missed); },
    "missed summed over the layers"};
const SummaryField total_extra{"total_extra", true, [](const Summary& s) -> Value { return static_cast<double>(s.total_extra); },
    "extra summed over the layers"};
const SummaryField total_adds{"total_adds", true, [](const Summary& s) -> Value { return static_cast<double>(s.total_adds); },
    "adds summed over the layers"};
const SummaryField total_removes{"total_removes", true, [](const Summary& s) -> Value { return static_cast<double>(s.total_removes); },
    "removes summed over the layers"};
// clang-format on
}  // namespace summary

namespace sweep {
namespace {
double per_token(const SweepEntry& e, double r) { return r / static_cast<double>(std::max<int64_t>(e.analysis.T, 1)); }
}  // namespace
// clang-format off
const SweepField tau{"tau", false, [](const SweepEntry& e) -> Value { return e.analysis.tau; },
    "the redundancy threshold; theta = 1 - tau squared"};
const SweepField theta{"theta", false, [](const SweepEntry& e) -> Value { return e.analysis.theta; },
    "1 - tau squared: the |cos| at which a token is already said"};
const SweepField r_ind_over_T{"r_ind_over_T", false, [](const SweepEntry& e) -> Value { return per_token(e, e.analysis.summary.mean_r_ind); },
    "mean r_ind / T"};
const SweepField r_casc_over_T{"r_casc_over_T", false, [](const SweepEntry& e) -> Value { return per_token(e, e.analysis.summary.mean_r_casc); },
    "mean r_casc / T"};
const SweepField ada_error{"ada_error", false, [](const SweepEntry& e) -> Value { return e.ada_error; },
    "mean relative attention error of ADA-cascade against exact attention"};
const SweepField delta_ppl{"delta_ppl", false, [](const SweepEntry& e) -> Value { return e.delta_ppl; },
    "perplexity with ADA-cascade minus perplexity with exact attention"};
// clang-format on

namespace {
// A summary field as a sweep field: the same name, read from the entry's summary. Made on first use
// (the summary fields are constant-initialised, so they are ready whenever this runs).
template <const SummaryField& F>
const SweepField* from_summary() {
  static const SweepField field{F.name, F.integer, [](const SweepEntry& e) { return F.get(e.analysis.summary); },
                                F.meaning};
  return &field;
}

const std::vector<std::pair<const SummaryField*, const SweepField*>>& summary_as_sweep() {
  using namespace names::summary;
  static const std::vector<std::pair<const SummaryField*, const SweepField*>> table = {
      {&mean_depth_jaccard, from_summary<mean_depth_jaccard>()},
      {&gram_savings, from_summary<gram_savings>()},
      {&gram_entries_ind, from_summary<gram_entries_ind>()},
      {&gram_entries_casc, from_summary<gram_entries_casc>()},
      {&mean_r_ind, from_summary<mean_r_ind>()},
      {&mean_r_casc, from_summary<mean_r_casc>()},
      {&mean_compression_ind, from_summary<mean_compression_ind>()},
      {&mean_compression_casc, from_summary<mean_compression_casc>()},
      {&mean_casc_fidelity, from_summary<mean_casc_fidelity>()},
      {&mean_turnover, from_summary<mean_turnover>()},
      {&total_missed, from_summary<total_missed>()},
      {&total_extra, from_summary<total_extra>()},
      {&total_adds, from_summary<total_adds>()},
      {&total_removes, from_summary<total_removes>()}};
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
