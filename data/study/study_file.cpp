#include "data/study/study_file.h"

#include <cmath>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "core/run_record.h"
#include "core/version.h"
#include "data/formats/isolated.h"
#include "data/formats/hdf5_io.h"

namespace cascade::data {

namespace {

using h5io::Reader;
using h5io::Writer;
using study::Study;

constexpr const char* kStudyFormatName = "cascade-lens-study";
constexpr const char* kRng = "mt19937_64, Lemire's bounded integers";
constexpr const char* kCi = "percentile, 0.025 and 0.975 quantiles (type 7) of the resample means";
// The groups the per-document arrays live in; every array name starts with one of them.
constexpr const char* kArrayGroups[] = {"layers/", "summary/", "quality/", "methods/"};

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

bool in_array_group(const std::string& name) {
  for (const char* g : kArrayGroups)
    if (starts_with(name, g) && name.size() > std::string(g).size()) return true;
  return false;
}

// The names of an array's per-document axes (data/STUDY_FORMAT.md "axes"); generic "axisN" names
// when the name implies none or another rank.
std::vector<std::string> axes_of(const std::string& name, size_t rank) {
  std::vector<std::string> axes;
  const bool method_layer_axis = name == "methods/r" || name == "methods/coverage" || name == "methods/covered" ||
                                 name == "methods/attn_err";
  if (starts_with(name, "layers/")) axes = {"layers", "taus"};
  else if (starts_with(name, "summary/")) axes = {"taus"};
  else if (name == "quality/ppl_exact") axes = {};
  else if (starts_with(name, "quality/")) axes = {"quality_modes", "taus"};
  else if (method_layer_axis) axes = {"methods", "layers"};
  else if (starts_with(name, "methods/")) axes = {"methods"};
  if (axes.size() != rank) {
    axes.clear();
    for (size_t i = 1; i <= rank; ++i) axes.push_back("axis" + std::to_string(i));
  }
  return axes;
}

std::string axes_text(const std::string& name, size_t rank) {
  std::string text = "documents";
  for (const std::string& a : axes_of(name, rank)) text += "," + a;
  return text;
}

// The extent each named axis must have (−1: a generic axis, any extent).
std::vector<int64_t> expected_shape(const Study& s, const std::string& name, size_t rank) {
  std::vector<int64_t> out;
  for (const std::string& a : axes_of(name, rank))
    out.push_back(a == "layers" ? static_cast<int64_t>(s.layers.size())
                  : a == "taus" ? static_cast<int64_t>(s.taus.size())
                  : a == "quality_modes" ? static_cast<int64_t>(s.quality_modes.size())
                  : a == "methods" ? static_cast<int64_t>(s.methods.size())
                                   : -1);
  return out;
}

std::vector<hsize_t> hdims(const std::vector<int64_t>& shape) { return {shape.begin(), shape.end()}; }

// The per-row columns of a table (the aggregates' Describe, the paired rows) that are stored one
// dataset each: a field table shared by the writer and the reader.
template <class Row>
struct Fields {
  std::vector<std::pair<const char*, int64_t& (*)(Row&)>> ints;
  std::vector<std::pair<const char*, double& (*)(Row&)>> reals;
};

const Fields<stats::Describe>& describe_fields() {
  using D = stats::Describe;
  static const Fields<D> f{
      {{"n", [](D& d) -> int64_t& { return d.n; }}},
      {{"mean", [](D& d) -> double& { return d.mean; }},
       {"sd", [](D& d) -> double& { return d.sd; }},
       {"median", [](D& d) -> double& { return d.median; }},
       {"q25", [](D& d) -> double& { return d.q25; }},
       {"q75", [](D& d) -> double& { return d.q75; }},
       {"min", [](D& d) -> double& { return d.min; }},
       {"max", [](D& d) -> double& { return d.max; }},
       {"ci95_lo", [](D& d) -> double& { return d.ci95[0]; }},
       {"ci95_hi", [](D& d) -> double& { return d.ci95[1]; }}}};
  return f;
}

const Fields<study::PairedRow>& paired_fields() {
  using P = study::PairedRow;
  static const Fields<P> f{
      {{"n", [](P& p) -> int64_t& { return p.result.n; }},
       {"a_lower", [](P& p) -> int64_t& { return p.result.a_lower; }},
       {"b_lower", [](P& p) -> int64_t& { return p.result.b_lower; }},
       {"ties", [](P& p) -> int64_t& { return p.result.ties; }},
       {"wilcoxon_n", [](P& p) -> int64_t& { return p.result.wilcoxon.n; }}},
      {{"tau", [](P& p) -> double& { return p.tau; }},
       {"mean_diff", [](P& p) -> double& { return p.result.mean_diff; }},
       {"ci95_lo", [](P& p) -> double& { return p.result.ci95[0]; }},
       {"ci95_hi", [](P& p) -> double& { return p.result.ci95[1]; }},
       {"p", [](P& p) -> double& { return p.result.wilcoxon.p; }},
       {"w_plus", [](P& p) -> double& { return p.result.wilcoxon.w_plus; }},
       {"z", [](P& p) -> double& { return p.result.wilcoxon.z; }}}};
  return f;
}

template <class T, class Row, class Get>
std::vector<T> column(std::vector<Row> rows, Get get) {  // by value: the getters take a mutable row
  std::vector<T> out;
  out.reserve(rows.size());
  for (Row& r : rows) out.push_back(get(r));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writing

// The group at `path` ("a/b") under `root`, creating what is missing: arrays and aggregates nest by name.
Handle ensure_group(const Writer& w, hid_t root, const std::string& path) {
  Handle g(H5Gopen2(root, ".", H5P_DEFAULT), H5Gclose);
  for (size_t pos = 0; pos < path.size();) {
    const size_t next = std::min(path.find('/', pos), path.size());
    const std::string part = path.substr(pos, next - pos);
    Handle child = H5Lexists(g.get(), part.c_str(), H5P_DEFAULT) > 0
                       ? Handle(H5Gopen2(g.get(), part.c_str(), H5P_DEFAULT), H5Gclose)
                       : w.group(g.get(), part.c_str());
    if (!child.ok()) w.fail("group " + path);
    g = std::move(child);
    pos = next + 1;
  }
  return g;
}

std::pair<std::string, std::string> split_name(const std::string& name) {  // "layers/r_ind" → (layers, r_ind)
  const size_t slash = name.rfind('/');
  return {name.substr(0, slash), name.substr(slash + 1)};
}

template <class Row>
void write_fields(const Writer& w, hid_t g, const std::vector<Row>& rows, const Fields<Row>& f,
                  const std::vector<hsize_t>& dims) {
  for (const auto& [name, get] : f.ints) w.ints(g, name, column<int64_t>(rows, get), dims, false);
  for (const auto& [name, get] : f.reals) w.doubles(g, name, column<double>(rows, get), dims, false);
}

// The length of an aggregate's over_layers: one per τ for layers/*, one per method for methods/<axis>.
int64_t over_layers_size(const Study& s, const study::Array& a) {
  return starts_with(a.name, "methods/") ? static_cast<int64_t>(s.methods.size()) : static_cast<int64_t>(s.taus.size());
}

void check_writable(const Study& s, const study::Aggregates& agg, const std::string& path) {
  auto bad = [&](const std::string& why) { throw UsageError(path + ": cannot save this study: " + why); };
  const auto D = static_cast<int64_t>(s.documents.size());
  if (static_cast<int64_t>(s.elapsed_ms.size()) != D) bad("elapsed_ms does not have one entry per document");
  for (const study::Array& a : s.arrays) {
    if (!in_array_group(a.name)) bad("array '" + a.name + "' is not under layers/, summary/, quality/ or methods/");
    if (static_cast<int64_t>(a.values.size()) != D * a.per_document()) bad("array '" + a.name + "' does not have D rows");
    const auto want = expected_shape(s, a.name, a.shape.size());
    for (size_t i = 0; i < want.size(); ++i)
      if (want[i] >= 0 && want[i] != a.shape[i]) bad("array '" + a.name + "' has shape " + h5io::dims_text(a.shape) + ", expected " + h5io::dims_text(want));
  }
  for (const study::ArrayAggregate& g : agg.arrays) {
    const study::Array* a = s.find(g.name);
    if (!a || a->shape != g.shape || static_cast<int64_t>(g.cells.size()) != a->per_document())
      bad("the aggregate of '" + g.name + "' does not match an array of the study");
    if (!g.over_layers.empty() && (a->shape.size() != 2 || static_cast<int64_t>(g.over_layers.size()) != over_layers_size(s, *a)))
      bad("the aggregate of '" + g.name + "' has over_layers without one per tau (layers/*) or per method (methods/*)");
  }
}

void write_documents(const Writer& w, hid_t root, const Study& s) {
  const Handle g = w.group(root, "documents");
  using study::Document;
  const auto& docs = s.documents;
  w.strings(g.get(), "id", column<std::string>(docs, [](Document& d) { return d.id; }));
  w.strings(g.get(), "source", column<std::string>(docs, [](Document& d) { return d.source; }));
  w.ints(g.get(), "offset", column<int64_t>(docs, [](Document& d) { return d.offset; }));
  w.ints(g.get(), "T", column<int64_t>(docs, [](Document& d) { return d.T; }));
  w.ints(g.get(), "index", column<int64_t>(docs, [](Document& d) { return d.index; }));
  std::vector<int64_t> ids, offsets{0};
  for (const Document& d : docs) {
    ids.insert(ids.end(), d.ids.begin(), d.ids.end());
    offsets.push_back(static_cast<int64_t>(ids.size()));
  }
  w.ints(g.get(), "ids", ids, {}, false);
  w.ints(g.get(), "ids_offsets", offsets, {}, false);
}

void write_aggregates(const Writer& w, hid_t root, const study::Aggregates& agg, int64_t taus) {
  const Handle top = w.group(root, "aggregates");
  for (const study::ArrayAggregate& a : agg.arrays) {
    const Handle g = ensure_group(w, top.get(), a.name);
    write_fields(w, g.get(), a.cells, describe_fields(), a.shape.empty() ? std::vector<hsize_t>{1} : hdims(a.shape));
    if (a.over_layers.empty()) continue;
    const Handle o = w.group(g.get(), "over_layers");
    write_fields(w, o.get(), a.over_layers, describe_fields(), {static_cast<hsize_t>(a.over_layers.size())});
  }
}

void write_paired(const Writer& w, hid_t root, const std::vector<study::PairedRow>& rows) {
  using study::PairedRow;
  const Handle g = w.group(root, "paired");
  w.strings(g.get(), "quantity", column<std::string>(rows, [](PairedRow& p) { return p.quantity; }));
  w.strings(g.get(), "a", column<std::string>(rows, [](PairedRow& p) { return p.a; }));
  w.strings(g.get(), "b", column<std::string>(rows, [](PairedRow& p) { return p.b; }));
  write_fields(w, g.get(), rows, paired_fields(), {rows.size()});
  w.ints(g.get(), "exact", column<int64_t>(rows, [](PairedRow& p) { return int64_t{p.result.wilcoxon.exact}; }), {}, false);
}

void write_contents(const std::string& tmp, const std::string& path, const Study& s, const study::Aggregates& agg) {
  const Writer w(path, h5io::WriteFailure::InputError);
  Handle file = w.create_file(tmp);
  const hid_t root = file.get();
  w.attr(root, "format", kStudyFormatName);
  w.attr(root, "format_version", kStudyFormatVersion);
  w.attr(root, "app_version", s.params.get("app_version").value_or(version()));
  w.attr(root, "created", utc_now_iso8601());
  {
    const Handle g = w.group(root, "params");
    std::vector<std::string> names, values;
    for (const auto& [name, value] : s.params.items) {
      names.push_back(name);
      values.push_back(value);
      // f['params'].attrs['taus'] in h5py; a value longer than an attribute holds is in the datasets only
      if (value.size() <= h5io::kMaxStringAttribute) w.attr(g.get(), name.c_str(), value);
    }
    w.strings(g.get(), "names", names);
    w.strings(g.get(), "values", values);
  }
  w.doubles(root, "taus", s.taus, {}, false);
  w.ints(root, "layer_ids", s.layers, {}, false);
  w.strings(root, "quality_modes", s.quality_modes);
  w.strings(root, "method_names", s.methods);
  w.strings(root, "array_names", column<std::string>(s.arrays, [](study::Array& a) { return a.name; }));
  {
    const Handle g = w.group(root, "bootstrap");
    w.attr_u64(g.get(), "seed", s.seed);
    w.attr(g.get(), "resamples", s.resamples);
    w.attr(g.get(), "rng", kRng);
    w.attr(g.get(), "ci", kCi);
  }
  write_documents(w, root, s);
  w.doubles(w.group(root, "timings").get(), "elapsed_ms", s.elapsed_ms, {}, false);
  {
    const Handle g = w.group(root, "failures");
    w.strings(g.get(), "source", column<std::string>(s.failures, [](study::Failure& f) { return f.source; }));
    w.strings(g.get(), "why", column<std::string>(s.failures, [](study::Failure& f) { return f.why; }));
  }
  const auto D = static_cast<hsize_t>(s.documents.size());
  for (const study::Array& a : s.arrays) {
    const auto [parent, leaf] = split_name(a.name);
    const Handle g = ensure_group(w, root, parent);
    std::vector<hsize_t> dims{D};
    for (int64_t x : a.shape) dims.push_back(static_cast<hsize_t>(x));
    w.doubles(g.get(), leaf.c_str(), a.values, dims);
    const Handle d(H5Dopen2(g.get(), leaf.c_str(), H5P_DEFAULT), H5Dclose);
    w.attr(d.get(), "axes", axes_text(a.name, a.shape.size()));
  }
  write_aggregates(w, root, agg, static_cast<int64_t>(s.taus.size()));
  write_paired(w, root, agg.paired);
  w.flush_and_close(file);
}

// ---------------------------------------------------------------------------------------------
// Reading

template <class Row>
void read_fields(const Reader& r, const std::string& where, std::vector<Row>& rows, const Fields<Row>& f,
                 const std::vector<int64_t>& dims, const char* meaning) {
  for (const auto& [name, get] : f.ints) {
    const auto v = r.read<int64_t>(where + "/" + name, dims, meaning);
    for (size_t i = 0; i < rows.size(); ++i) get(rows[i]) = v[i];
  }
  for (const auto& [name, get] : f.reals) {
    const auto v = r.read<double>(where + "/" + name, dims, meaning);
    for (size_t i = 0; i < rows.size(); ++i) get(rows[i]) = v[i];
  }
}

std::vector<std::string> read_strings_of(const Reader& r, const std::string& name, int64_t n, const char* meaning) {
  auto v = r.read_strings(name, meaning);
  if (n >= 0 && static_cast<int64_t>(v.size()) != n)
    r.bad(name + " has " + std::to_string(v.size()) + " strings, expected " + std::to_string(n) + " (" + meaning + ")");
  return v;
}

void check_format(Reader& r, hid_t root) {
  if (!r.has_attr(root, "format")) r.bad("not a Cascade Lens study (no 'format' attribute on /)");
  r.allow_variable_strings(true);  // the marker of any version, or of another file (read in the isolated child first)
  if (const std::string f = r.attr_string(root, "/", "format"); f != kStudyFormatName)
    r.bad("not a Cascade Lens study (format is '" + f + "', expected '" + kStudyFormatName + "')");
  const int64_t v = r.attr_int(root, "/", "format_version");  // it says how the other strings are stored
  if (v > kStudyFormatVersion)
    r.bad("written by a newer Cascade Lens (format " + std::to_string(v) + "); this build reads up to " +
          std::to_string(kStudyFormatVersion));
  if (v < 1) r.bad("unknown study format version " + std::to_string(v));
  r.allow_variable_strings(v < 2);
  if (v < 2) tell_parent(" (a study of format version 1, whose strings libhdf5 cannot read safely from a damaged file)");
}

void read_documents(const Reader& r, Study& s) {
  const auto ids = read_strings_of(r, "/documents/id", -1, "D");
  const auto D = static_cast<int64_t>(ids.size());
  const auto sources = read_strings_of(r, "/documents/source", D, "D");
  const auto offset = r.read<int64_t>("/documents/offset", {D}, "D");
  const auto T = r.read<int64_t>("/documents/T", {D}, "D");
  const auto index = r.read<int64_t>("/documents/index", {D}, "D");
  const auto flat = r.read<int64_t>("/documents/ids", {-1}, "all documents' token ids");
  const auto offsets = r.read<int64_t>("/documents/ids_offsets", {D + 1}, "D + 1");
  for (int64_t d = 0; d <= D; ++d) {
    const bool ok = d == 0 ? offsets[0] == 0 : offsets[d] >= offsets[d - 1];
    if (!ok || offsets[d] > static_cast<int64_t>(flat.size()))
      r.bad("/documents/ids_offsets is not ascending offsets into /documents/ids from 0");
  }
  if (offsets[D] != static_cast<int64_t>(flat.size())) r.bad("/documents/ids_offsets does not end at the length of /documents/ids");
  for (int64_t d = 0; d < D; ++d)
    s.documents.push_back({ids[d], sources[d], offset[d], T[d], index[d],
                           std::vector<int64_t>(flat.begin() + offsets[d], flat.begin() + offsets[d + 1])});
}

int dataset_rank(const Reader& r, const std::string& name) {
  const Handle d = r.open_dataset(name);
  const Handle space(H5Dget_space(d.get()), H5Sclose);
  const int rank = space.ok() ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (rank < 1) r.bad(name + " is not an array [documents, ...]");
  return rank;
}

study::Array read_array(const Reader& r, const Study& s, const std::string& name) {
  if (!in_array_group(name)) r.bad("/array_names lists '" + name + "', not under layers/, summary/, quality/ or methods/");
  const std::string full = "/" + name;
  const auto rank = static_cast<size_t>(dataset_rank(r, full) - 1);
  const std::string axes = axes_text(name, rank);
  {
    const Handle d = r.open_dataset(full);
    if (const std::string stored = r.attr_string(d.get(), full, "axes"); stored != axes)
      r.bad(full + " attribute 'axes' is '" + stored + "', expected '" + axes + "'");
  }
  std::vector<int64_t> expected{static_cast<int64_t>(s.documents.size())}, shape;
  for (int64_t x : expected_shape(s, name, rank)) expected.push_back(x);
  study::Array a{name, {}, r.read<double>(full, expected, axes.c_str(), &shape)};
  a.shape.assign(shape.begin() + 1, shape.end());
  return a;
}

study::Aggregates read_aggregates(const Reader& r, const Study& s) {
  study::Aggregates out;
  for (const study::Array& a : s.arrays) {
    const std::string where = "/aggregates/" + a.name;
    if (!r.exists(where)) continue;
    study::ArrayAggregate agg{a.name, a.shape, std::vector<stats::Describe>(static_cast<size_t>(a.per_document())), {}};
    read_fields(r, where, agg.cells, describe_fields(), a.shape.empty() ? std::vector<int64_t>{1} : a.shape,
                "the array's per-document shape");
    if (r.exists(where + "/over_layers")) {
      const int64_t n = over_layers_size(s, a);
      agg.over_layers.resize(static_cast<size_t>(n));
      read_fields(r, where + "/over_layers", agg.over_layers, describe_fields(), {n},
                  a.name.rfind("methods/", 0) == 0 ? "methods" : "taus");
    }
    out.arrays.push_back(std::move(agg));
  }
  const auto quantity = read_strings_of(r, "/paired/quantity", -1, "P");
  const auto P = static_cast<int64_t>(quantity.size());
  const auto a = read_strings_of(r, "/paired/a", P, "P"), b = read_strings_of(r, "/paired/b", P, "P");
  out.paired.resize(static_cast<size_t>(P));
  read_fields(r, "/paired", out.paired, paired_fields(), {P}, "P");
  const auto exact = r.read<int64_t>("/paired/exact", {P}, "P");
  for (int64_t i = 0; i < P; ++i) {
    study::PairedRow& row = out.paired[static_cast<size_t>(i)];
    row.quantity = quantity[i], row.a = a[i], row.b = b[i];
    if (exact[i] != 0 && exact[i] != 1) r.bad("/paired/exact[" + std::to_string(i) + "] is " + std::to_string(exact[i]) + " (0 or 1)");
    row.result.wilcoxon.exact = exact[i] == 1;
  }
  return out;
}

Study read_contents(const Reader& r) {
  Study s;
  const auto names = read_strings_of(r, "/params/names", -1, "parameters");
  const auto values = read_strings_of(r, "/params/values", static_cast<int64_t>(names.size()), "parameters");
  for (size_t i = 0; i < names.size(); ++i) s.params.items.emplace_back(names[i], values[i]);
  s.taus = r.read<double>("/taus", {-1}, "taus");
  s.layers = r.read<int64_t>("/layer_ids", {-1}, "layers");
  s.quality_modes = read_strings_of(r, "/quality_modes", -1, "quality modes");
  s.methods = read_strings_of(r, "/method_names", -1, "methods");
  {
    const Handle g = r.group("/bootstrap");
    s.seed = r.attr_u64(g.get(), "/bootstrap", "seed");
    s.resamples = r.attr_int(g.get(), "/bootstrap", "resamples");
  }
  read_documents(r, s);
  const auto D = static_cast<int64_t>(s.documents.size());
  s.elapsed_ms = r.read<double>("/timings/elapsed_ms", {D}, "D");
  const auto sources = read_strings_of(r, "/failures/source", -1, "F");
  const auto why = read_strings_of(r, "/failures/why", static_cast<int64_t>(sources.size()), "F");
  for (size_t i = 0; i < sources.size(); ++i) s.failures.push_back({sources[i], why[i]});
  for (const std::string& name : read_strings_of(r, "/array_names", -1, "arrays")) {
    if (s.find(name)) r.bad("/array_names lists '" + name + "' twice");
    s.arrays.push_back(read_array(r, s, name));
  }
  return s;
}

}  // namespace

bool is_study_file(const std::string& path) {
  const Handle file = h5io::open_if_hdf5(path);
  if (!file.ok() || H5Aexists(file.get(), "format") <= 0) return false;
  // A variable-length attribute (format version 1) is not read here, in this process: a study is
  // then what has a study's groups.
  const Handle a(H5Aopen(file.get(), "format", H5P_DEFAULT), H5Aclose);
  const Handle type(a.ok() ? H5Aget_type(a.get()) : -1, H5Tclose);
  if (type.ok() && H5Tget_class(type.get()) == H5T_STRING && H5Tis_variable_str(type.get()) > 0)
    return H5Lexists(file.get(), "documents", H5P_DEFAULT) > 0 && H5Lexists(file.get(), "params", H5P_DEFAULT) > 0;
  try {
    return Reader(path, file.get(), 0).attr_string(file.get(), "/", "format") == kStudyFormatName;
  } catch (const InputError&) {
    return false;
  }
}

void write_study(const std::string& path, const study::Study& study, const study::Aggregates& aggregates) {
  check_writable(study, aggregates, path);
  h5io::write_atomically(path, "study", h5io::WriteFailure::InputError,
                         [&](const std::string& tmp) { write_contents(tmp, path, study, aggregates); });
}

namespace {
Study read_file(const std::string& path, study::Aggregates* aggregates) {
  uint64_t size = 0;
  const Handle file = h5io::open_for_reading(path, "not an HDF5 file (a study is the .h5 file `study` writes)", size);
  Reader r(path, file.get(), size);
  check_format(r, file.get());
  Study s = read_contents(r);
  if (aggregates) *aggregates = read_aggregates(r, s);
  return s;
}
}  // namespace

study::Study read_study(const std::string& path, study::Aggregates* aggregates, bool isolate) {
  // First in a child process: libhdf5 may crash or loop on a damaged file (data/formats/isolated.h).
  if (isolate)
    check_in_child({path, "checking the study", ""}, [&](const JobControl&) {
      study::Aggregates scratch;
      (void)read_file(path, aggregates ? &scratch : nullptr);
    }, {});
  return read_file(path, aggregates);
}

}  // namespace cascade::data
