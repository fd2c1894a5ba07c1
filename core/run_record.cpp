#include "core/run_record.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>

#include "core/errors.h"
#include "core/sets.h"
#include "core/version.h"

namespace cascade {

namespace {

// One name table per enum: the names files, the CLI and the GUI use.
template <class E>
struct EnumName {
  E value;
  const char* name;
};
constexpr EnumName<SourceKind> kSourceKinds[] = {{SourceKind::Model, "model"}, {SourceKind::Activations, "activations"}};
constexpr EnumName<DType> kDTypes[] = {
    {DType::Float32, "float32"}, {DType::BFloat16, "bfloat16"}, {DType::Float16, "float16"}};
constexpr EnumName<DeviceKind> kDevices[] = {{DeviceKind::Cpu, "cpu"}, {DeviceKind::Cuda, "cuda"}};

template <class E, size_t N>
std::string name_of(const EnumName<E> (&table)[N], E value) {
  for (const auto& e : table)
    if (e.value == value) return e.name;
  return "?";
}
template <class E, size_t N>
const E* find_value(const EnumName<E> (&table)[N], const std::string& name) {
  for (const auto& e : table)
    if (name == e.name) return &e.value;
  return nullptr;
}

bool same(const Analysis& a, double tau, Rule rule) { return a.L() > 0 && a.rule == rule && std::abs(a.tau - tau) < 1e-9; }

}  // namespace

std::string to_string(SourceKind kind) { return name_of(kSourceKinds, kind); }
SourceKind parse_source_kind(const std::string& name) {
  if (const auto* v = find_value(kSourceKinds, name)) return *v;
  throw UsageError("unknown source kind '" + name + "' (model or activations)");
}

std::string to_string(DType dtype) { return name_of(kDTypes, dtype); }
DType parse_dtype(const std::string& name) {
  if (const auto* v = find_value(kDTypes, name)) return *v;
  throw UsageError("dtype must be float32, bfloat16 or float16, got '" + name + "'");
}
at::ScalarType scalar_type(DType dtype) {
  return dtype == DType::BFloat16 ? at::kBFloat16 : dtype == DType::Float16 ? at::kHalf : at::kFloat;
}
DType dtype_of(at::ScalarType type) {
  return type == at::kHalf ? DType::Float16 : type == at::kBFloat16 ? DType::BFloat16 : DType::Float32;
}

std::string to_string(DeviceKind device) { return name_of(kDevices, device); }
DeviceKind parse_device(const std::string& name) {
  if (const auto* v = find_value(kDevices, name)) return *v;
  throw UsageError("device must be cpu or cuda, got '" + name + "'");
}

double mean_attention_error(const AdaQuality& q) {
  double sum = 0;
  int64_t n = 0;
  for (const auto& heads : q.attention_error)
    for (double e : heads) sum += e, ++n;
  return n ? sum / static_cast<double>(n) : 0.0;
}

int64_t RunRecord::num_layers() const { return analyzer ? analyzer->num_layers() : analysis.L(); }
int64_t RunRecord::num_tokens() const { return analyzer ? analyzer->num_tokens() : analysis.T; }

std::vector<int64_t> RunRecord::layer_ids() const {
  if (analyzer) return analyzer->layer_ids();
  std::vector<int64_t> ids;
  for (const LayerMeasures& m : analysis.layers) ids.push_back(m.layer);
  return ids;
}

const PriorMax& RunRecord::prior_max_of(int64_t layer) const {
  return analyzer ? analyzer->prior_max(layer) : prior_max.at(static_cast<size_t>(layer));
}

const Analysis* RunRecord::stored(double tau, Rule rule) const {
  if (same(analysis, tau, rule)) return &analysis;
  for (const SweepEntry& e : sweep)
    if (same(e.analysis, tau, rule)) return &e.analysis;
  return nullptr;
}

std::vector<double> RunRecord::stored_taus(Rule rule) const {
  std::vector<double> taus;
  if (analysis.L() > 0 && analysis.rule == rule) taus.push_back(analysis.tau);
  for (const SweepEntry& e : sweep)
    if (e.analysis.rule == rule) taus.push_back(e.analysis.tau);
  std::sort(taus.begin(), taus.end());
  taus.erase(std::unique(taus.begin(), taus.end(), [](double a, double b) { return std::abs(a - b) < 1e-9; }), taus.end());
  return taus;
}

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string short_source(const RunRecord& r) {
  const std::string name = r.model ? r.model->name : r.source;
  // A hub id ("ORG/NAME") is not a path; a folder or a file is shown by its last part.
  const bool path = !name.empty() && (name[0] == '/' || name[0] == '.' || name[0] == '~' ||
                                      std::count(name.begin(), name.end(), '/') > 1 || !r.model);
  if (!path) return name;
  std::filesystem::path p = std::filesystem::path(name).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();  // "models/gpt2/" → "models/gpt2"
  const std::filesystem::path last = p.filename();
  if (r.model && last == "model" && p.has_parent_path())
    return p.parent_path().filename().string() + "-model";  // data/demo/model → demo-model
  return last.string();
}

RunRecord analyze_activations(const ActivationSet& acts, const std::vector<double>& taus, Rule rule,
                              const JobControl& control, int64_t gram_cache_bytes) {
  RunRecord r;
  const auto t0 = std::chrono::steady_clock::now();
  r.app_version = version();
  r.created = utc_now_iso8601();
  r.kind = SourceKind::Activations;
  r.source = acts.source;
  r.analyzer = std::make_shared<const Analyzer>(acts, kDefaultTile, control, gram_cache_bytes);
  r.tokens = acts.tokens;
  if (r.tokens.empty())
    for (int64_t t = 0; t < acts.num_tokens(); ++t) r.tokens.push_back(std::to_string(t));
  if (!taus.empty()) r.sweep = sweep_entries(r.analyzer->sweep(taus, rule, control));
  r.device = acts.hidden.device().is_cpu() ? DeviceKind::Cpu : DeviceKind::Cuda;
  r.dtype = dtype_of(acts.hidden.scalar_type());
  r.timings.selection_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return r;
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
