#include "core/study.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include "core/errors.h"
#include "core/names.h"
#include "core/run_record.h"

namespace cascade::study {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }
}  // namespace

uint64_t id_value(const std::string& id) {
  if (id.empty() || id.size() > 16 || id.find_first_not_of("0123456789abcdef") != std::string::npos)
    throw InputError("document id '" + id + "'", "expected up to 16 lower-case hexadecimal digits");
  return std::stoull(id, nullptr, 16);
}

int64_t shard_of(const std::string& id, int64_t shards) {
  if (shards < 1) throw UsageError("the number of shards must be at least 1");
  return static_cast<int64_t>(id_value(id) % static_cast<uint64_t>(shards));
}

void Params::set(const std::string& name, const std::string& value) {
  for (auto& [n, v] : items)
    if (n == name) {
      v = value;
      return;
    }
  items.emplace_back(name, value);
}

std::optional<std::string> Params::get(const std::string& name) const {
  for (const auto& [n, v] : items)
    if (n == name) return v;
  return std::nullopt;
}

std::string Params::difference(const Params& other, const std::vector<std::string>& ignore) const {
  const auto ignored = [&](const std::string& n) { return std::find(ignore.begin(), ignore.end(), n) != ignore.end(); };
  std::set<std::string> seen;
  for (const auto& [name, mine] : items) {
    seen.insert(name);
    if (ignored(name)) continue;
    const auto theirs = other.get(name);
    if (!theirs) return name + ": the file has " + mine + ", this run does not set it";
    if (*theirs != mine) return name + ": the file has " + mine + ", this run " + *theirs;
  }
  for (const auto& [name, theirs] : other.items)
    if (!seen.count(name) && !ignored(name)) return name + ": the file does not set it, this run has " + theirs;
  return "";
}

int64_t Array::per_document() const {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

const Array* Study::find(const std::string& name) const {
  for (const Array& a : arrays)
    if (a.name == name) return &a;
  return nullptr;
}

int64_t Study::tau_index(double tau) const {
  for (size_t i = 0; i < taus.size(); ++i)
    if (std::abs(taus[i] - tau) < 1e-9) return static_cast<int64_t>(i);
  return -1;
}

int64_t Study::layer_index(int64_t layer) const {
  const auto it = std::find(layers.begin(), layers.end(), layer);
  return it == layers.end() ? -1 : static_cast<int64_t>(it - layers.begin());
}

std::vector<double> Study::column(const std::string& name, int64_t flat) const {
  const Array* a = find(name);
  if (!a) throw UsageError("the study has no array '" + name + "'");
  if (flat < 0 || flat >= a->per_document()) throw UsageError(name + ": position out of range");
  std::vector<double> out(documents.size());
  for (size_t d = 0; d < out.size(); ++d) out[d] = a->at(static_cast<int64_t>(d), flat);
  return out;
}

void append(Study& study, const DocumentResult& result) {
  const bool first = study.arrays.empty() && study.documents.empty();
  if (first) {
    for (const Array& a : result.arrays) study.arrays.push_back({a.name, a.shape, {}});
  }
  if (study.arrays.size() != result.arrays.size())
    throw InputError("document " + result.document.id, "its arrays differ from the study's");
  for (size_t i = 0; i < result.arrays.size(); ++i) {
    Array& mine = study.arrays[i];
    const Array& theirs = result.arrays[i];
    if (mine.name != theirs.name || mine.shape != theirs.shape ||
        static_cast<int64_t>(theirs.values.size()) != theirs.per_document())
      throw InputError("document " + result.document.id, "array " + theirs.name + " differs from the study's layout");
    mine.values.insert(mine.values.end(), theirs.values.begin(), theirs.values.end());
  }
  study.documents.push_back(result.document);
  study.elapsed_ms.push_back(result.elapsed_ms);
}

std::string model_spec(const Study& study) {
  for (const char* key : {"model", "model_name"})
    if (const auto v = study.params.get(key); v && !v->empty()) return *v;
  return "";
}

std::string model_label(const Study& study) {
  const std::string spec = model_spec(study);
  if (spec.empty()) return "";
  RunRecord named;
  named.model.emplace().name = spec;
  return short_source(named);
}

DocumentResult row(const Study& study, int64_t d) {
  DocumentResult r;
  r.document = study.documents.at(static_cast<size_t>(d));
  r.elapsed_ms = static_cast<size_t>(d) < study.elapsed_ms.size() ? study.elapsed_ms[static_cast<size_t>(d)] : kNaN;
  for (const Array& a : study.arrays) {
    const int64_t n = a.per_document();
    r.arrays.push_back({a.name, a.shape, {a.values.begin() + d * n, a.values.begin() + (d + 1) * n}});
  }
  return r;
}

int64_t canonicalize(Study& study) {
  const size_t D = study.documents.size();
  std::vector<size_t> order(D);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const Document &x = study.documents[a], &y = study.documents[b];
    return x.index != y.index ? x.index < y.index : x.id < y.id;
  });
  std::vector<size_t> keep;
  std::set<std::string> ids;
  for (size_t i : order)
    if (ids.insert(study.documents[i].id).second) keep.push_back(i);
  std::vector<Document> docs;
  std::vector<double> elapsed;
  for (size_t i : keep) {
    docs.push_back(std::move(study.documents[i]));
    elapsed.push_back(i < study.elapsed_ms.size() ? study.elapsed_ms[i] : kNaN);
  }
  for (Array& a : study.arrays) {
    const auto n = static_cast<size_t>(a.per_document());
    std::vector<double> values;
    values.reserve(keep.size() * n);
    for (size_t i : keep) values.insert(values.end(), a.values.begin() + static_cast<long>(i * n),
                                        a.values.begin() + static_cast<long>((i + 1) * n));
    a.values = std::move(values);
  }
  study.documents = std::move(docs);
  study.elapsed_ms = std::move(elapsed);
  return static_cast<int64_t>(D - keep.size());
}

namespace {

// Per document, the mean of the non-NaN values at flat positions first, first + stride, ... (count
// of them); NaN when all are NaN.
std::vector<double> strided_means(const Study& study, const Array& a, int64_t first, int64_t stride, int64_t count) {
  std::vector<double> out(study.documents.size(), kNaN);
  for (size_t d = 0; d < out.size(); ++d) {
    double sum = 0;
    int64_t n = 0;
    for (int64_t i = 0; i < count; ++i) {
      const double v = a.at(static_cast<int64_t>(d), first + i * stride);
      if (std::isnan(v)) continue;
      sum += v;
      ++n;
    }
    if (n > 0) out[d] = sum / static_cast<double>(n);
  }
  return out;
}

}  // namespace

std::vector<double> over_layers(const Study& study, const std::string& name, int64_t t) {
  const Array* a = study.find(name);
  if (!a || a->shape.size() != 2) throw UsageError("'" + name + "' is not a per-layer array of the study");
  return strided_means(study, *a, t, a->shape[1], a->shape[0]);
}

std::vector<double> method_over_layers(const Study& study, const std::string& name, int64_t k) {
  const Array* a = study.find(name);
  if (!a) return std::vector<double>(study.documents.size(), kNaN);
  if (a->shape.size() != 2) throw UsageError("'" + name + "' is not a [methods, layers] array of the study");
  return strided_means(study, *a, k * a->shape[1], 1, a->shape[1]);
}

std::vector<double> method_r_over_T(const Study& study, int64_t k) {
  std::vector<double> v = method_over_layers(study, "methods/r", k);
  for (size_t d = 0; d < v.size(); ++d) v[d] /= static_cast<double>(study.documents[d].T);
  return v;
}

const ArrayAggregate* Aggregates::find(const std::string& name) const {
  for (const ArrayAggregate& a : arrays)
    if (a.name == name) return &a;
  return nullptr;
}

namespace {

bool all_nan(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return std::isnan(x); });
}

}  // namespace

Aggregates aggregate(const Study& study) {
  Aggregates out;
  for (const Array& a : study.arrays) {
    ArrayAggregate agg{a.name, a.shape, {}, {}};
    const int64_t n = a.per_document();
    agg.cells.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) agg.cells.push_back(stats::describe(study.column(a.name, i), study.seed, study.resamples));
    if (starts_with(a.name, "layers/") && a.shape.size() == 2)
      for (int64_t t = 0; t < a.shape[1]; ++t)
        agg.over_layers.push_back(stats::describe(over_layers(study, a.name, t), study.seed, study.resamples));
    if (starts_with(a.name, "methods/") && a.shape.size() == 2)
      for (int64_t k = 0; k < a.shape[0]; ++k)
        agg.over_layers.push_back(stats::describe(method_over_layers(study, a.name, k), study.seed, study.resamples));
    out.arrays.push_back(std::move(agg));
  }
  // ADA-cascade vs ADA-independent at every τ.
  const auto mode = [&](const std::string& m) {
    const auto it = std::find(study.quality_modes.begin(), study.quality_modes.end(), m);
    return it == study.quality_modes.end() ? -1 : static_cast<int64_t>(it - study.quality_modes.begin());
  };
  const int64_t casc = mode("ada-cascade"), ind = mode("ada-independent");
  const auto taus = static_cast<int64_t>(study.taus.size());
  if (casc >= 0 && ind >= 0)
    for (const char* q : {"delta_ppl", "kl", "attn_err"}) {
      const std::string name = std::string("quality/") + q;
      if (!study.find(name)) continue;
      for (int64_t t = 0; t < taus; ++t)
        out.paired.push_back({q, "ada-cascade", "ada-independent", study.taus[static_cast<size_t>(t)],
                              stats::paired(study.column(name, casc * taus + t), study.column(name, ind * taus + t),
                                            study.seed, study.resamples)});
    }
  // The cascade vs every other method, at the first τ.
  const auto cascade_it = std::find(study.methods.begin(), study.methods.end(), "cascade");
  if (cascade_it != study.methods.end() && !study.taus.empty()) {
    const auto c = static_cast<int64_t>(cascade_it - study.methods.begin());
    const auto K = static_cast<int64_t>(study.methods.size());
    for (int64_t k = 0; k < K; ++k) {
      if (k == c) continue;
      const std::string& other = study.methods[static_cast<size_t>(k)];
      for (const char* q : {"delta_ppl", "kl"}) {
        const std::string name = std::string("methods/") + q;
        if (!study.find(name)) continue;
        const auto a = study.column(name, c), b = study.column(name, k);
        if (all_nan(a) || all_nan(b)) continue;
        out.paired.push_back({q, "cascade", other, study.taus[0], stats::paired(a, b, study.seed, study.resamples)});
      }
      for (const char* q : {"attn_err", "coverage"}) {
        const std::string name = std::string("methods/") + q;
        const auto a = method_over_layers(study, name, c), b = method_over_layers(study, name, k);
        if (all_nan(a) || all_nan(b)) continue;
        out.paired.push_back({q, "cascade", other, study.taus[0], stats::paired(a, b, study.seed, study.resamples)});
      }
    }
  }
  return out;
}

const std::vector<std::string>& layer_measure_names() {
  static const std::vector<std::string> names_ = [] {
    std::vector<std::string> out;
    for (const names::LayerField* f : names::layer_fields())
      if (std::string(f->name) != "layer") out.emplace_back(f->name);
    out.emplace_back("r_ind_over_T");
    out.emplace_back("r_casc_over_T");
    return out;
  }();
  return names_;
}

const std::vector<std::string>& summary_measure_names() {
  static const std::vector<std::string> names_ = [] {
    std::vector<std::string> out;
    for (const names::SummaryField* f : names::summary_fields()) out.emplace_back(f->name);
    return out;
  }();
  return names_;
}

const std::vector<std::string>& quality_measure_names() {
  static const std::vector<std::string> names_{"ppl_ada", "delta_ppl", "kl", "attn_err"};
  return names_;
}

const std::vector<std::string>& method_layer_axis_names() {
  static const std::vector<std::string> names_{"r", "coverage", "covered", "attn_err"};
  return names_;
}

const std::vector<std::string>& method_quality_names() {
  static const std::vector<std::string> names_{"ppl", "delta_ppl", "kl"};
  return names_;
}

}  // namespace cascade::study
