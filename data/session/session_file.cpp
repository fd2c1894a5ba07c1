#include "data/session/session_file.h"

#include <ATen/ATen.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <vector>

#include "core/errors.h"
#include "core/names.h"
#include "core/version.h"
#include "data/formats/hdf5_io.h"
#include "data/formats/hdf5_util.h"
#include "data/formats/io_util.h"
#include "data/formats/isolated.h"

namespace cascade::data {

namespace {

using h5io::Reader;
using h5io::Writer;

constexpr double kNone = std::numeric_limits<double>::quiet_NaN();  // an absent optional number

// IEEE binary16, little-endian: what numpy's float16 and h5py write (HDF5 1.10 predefines none).
hid_t float16_type() {
  static const hid_t type = [] {
    const hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    H5Tset_fields(t, 15, 10, 5, 0, 10);
    H5Tset_size(t, 2);
    H5Tset_ebias(t, 15);
    H5Tset_precision(t, 16);
    return t;
  }();
  return type;
}

double or_none(const std::optional<double>& v) { return v ? *v : kNone; }

std::vector<uint8_t> masks(const std::vector<LayerMeasures>& layers, int64_t T, TokenSet LayerMeasures::*set) {
  std::vector<uint8_t> out(layers.size() * static_cast<size_t>(T), 0);
  for (size_t l = 0; l < layers.size(); ++l)
    for (int64_t t : layers[l].*set) out[l * static_cast<size_t>(T) + static_cast<size_t>(t)] = 1;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writing

void write_analysis(const Writer& w, hid_t parent, const char* name, const Analysis& a) {
  const Handle g = w.group(parent, name);
  w.attr(g.get(), "tau", a.tau);
  w.attr(g.get(), "theta", a.theta);
  w.attr(g.get(), "rule", to_string(a.rule));
  w.attr(g.get(), "T", a.T);
  w.attr(g.get(), "d", a.d);
  const auto L = static_cast<hsize_t>(a.L()), T = static_cast<hsize_t>(a.T);
  auto mask = [&](const char* n, TokenSet LayerMeasures::*set) {
    const auto v = masks(a.layers, a.T, set);
    w.dataset(g.get(), n, H5T_STD_U8LE, H5T_NATIVE_UINT8, {L, T}, v.data());
  };
  mask("reps_ind", &LayerMeasures::reps_ind);
  mask("reps_casc", &LayerMeasures::reps_casc);
  mask("added", &LayerMeasures::added);
  mask("removed", &LayerMeasures::removed);
  for (const names::LayerField* f : names::layer_fields()) {
    if (f->derived) continue;
    if (f->integer) {
      std::vector<int64_t> v;
      for (const auto& m : a.layers) v.push_back(static_cast<int64_t>(*f->get(m)));
      w.ints(g.get(), f->name, v);
    } else {
      std::vector<double> v;
      for (const auto& m : a.layers) v.push_back(f->get(m).value_or(kNone));
      w.doubles(g.get(), f->name, v);
    }
  }
  std::vector<double> jm;
  for (const auto& row : a.jaccard_matrix) jm.insert(jm.end(), row.begin(), row.end());
  w.doubles(g.get(), "jaccard_matrix", jm, {L, L});
  const Handle s = w.group(g.get(), "summary");
  for (const names::SummaryField* f : names::summary_fields()) {
    if (f->integer) w.attr(s.get(), f->name, static_cast<int64_t>(*f->get(a.summary)));
    else w.attr(s.get(), f->name, f->get(a.summary).value_or(kNone));
  }
}

std::string sweep_name(size_t i) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%04zu", i);
  return buf;
}

// /comparisons/N (SPEC §7; data/SESSION_FORMAT.md "/comparisons").
void write_comparison(const Writer& w, hid_t parent, const std::string& name, const Comparison& c) {
  const Handle g = w.group(parent, name.c_str());
  w.attr(g.get(), "tau", c.tau);
  w.attr(g.get(), "rule", c.rule);
  w.attr(g.get(), "nearest", c.nearest);
  w.attr(g.get(), "budget", to_string(c.budget));
  w.attr_u64(g.get(), "seed", c.seed);
  w.attr_u64(g.get(), "document", c.document);
  w.attr(g.get(), "T", c.T);
  w.attr(g.get(), "ppl_exact", or_none(c.ppl_exact));
  w.strings(g.get(), "notes", c.notes);
  std::vector<std::string> order;
  for (const MethodResult& m : c.methods) order.push_back(to_string(m.method));
  w.strings(g.get(), "methods", order);
  for (const MethodResult& m : c.methods) {
    const Handle mg = w.group(g.get(), to_string(m.method).c_str());
    w.attr(mg.get(), "element_level", int64_t{is_element_method(m.method)});
    w.attr(mg.get(), "self_calibrated", int64_t{m.self_calibrated});
    w.attr(mg.get(), "ppl", or_none(m.ppl));
    w.attr(mg.get(), "delta_ppl", or_none(m.delta_ppl));
    w.attr(mg.get(), "kl", or_none(m.kl));
    w.attr(mg.get(), "quality_why", m.quality_why);
    for (const names::MethodField* f : names::method_fields()) {
      if (f->integer) {
        std::vector<int64_t> v;  // −1: no value (every integer axis is >= 0)
        for (const MethodLayer& l : m.layers) v.push_back(f->get(l) ? static_cast<int64_t>(*f->get(l)) : -1);
        w.ints(mg.get(), f->name, v);
      } else {
        std::vector<double> v;
        for (const MethodLayer& l : m.layers) v.push_back(f->get(l).value_or(kNone));
        w.doubles(mg.get(), f->name, v);
      }
    }
    std::vector<int64_t> sets, offsets;
    std::vector<std::string> why;
    for (const MethodLayer& l : m.layers) {
      offsets.push_back(l.set ? static_cast<int64_t>(sets.size()) : -1);
      if (l.set) sets.insert(sets.end(), l.set->begin(), l.set->end());
      why.push_back(l.why);
    }
    w.ints(mg.get(), "sets", sets);
    w.ints(mg.get(), "set_offsets", offsets);
    w.strings(mg.get(), "why", why);
  }
}

void check_writable(const RunRecord& s, const std::string& path) {
  const int64_t L = s.analysis.L(), T = s.analysis.T;
  auto bad = [&](const std::string& why) { throw UsageError(path + ": cannot save this session: " + why); };
  if (L < 1 || T < 1) bad("it has no analysis");
  if (s.num_layers() != L || s.num_tokens() != T) bad("its analysis has another shape than the run");
  if (static_cast<int64_t>(s.tokens.size()) != T) bad("it has " + std::to_string(s.tokens.size()) + " token strings for T = " + std::to_string(T));
  if (!s.ids.empty() && static_cast<int64_t>(s.ids.size()) != T) bad("it has " + std::to_string(s.ids.size()) + " token ids for T = " + std::to_string(T));
  if (!s.analyzer && static_cast<int64_t>(s.prior_max.size()) != L) bad("gamma/pi are missing for some layers");
  for (int64_t l = 0; l < L; ++l) {
    const PriorMax& pm = s.prior_max_of(l);
    if (static_cast<int64_t>(pm.gamma.size()) != T || static_cast<int64_t>(pm.partner.size()) != T) bad("gamma/pi do not have T entries");
  }
  for (const auto& e : s.sweep)
    if (e.analysis.T != T || e.analysis.L() != L) bad("a sweep analysis has another shape than the run");
  for (const Comparison& c : s.comparisons) {  // what the reader checks (read_comparison)
    if (c.T != T) bad("a comparison has T = " + std::to_string(c.T) + ", the run T = " + std::to_string(T));
    for (size_t i = 0; i < c.methods.size(); ++i) {
      const MethodResult& m = c.methods[i];
      for (size_t j = 0; j < i; ++j)
        if (c.methods[j].method == m.method) bad("a comparison lists " + to_string(m.method) + " twice");
      if (static_cast<int64_t>(m.layers.size()) != L) bad(to_string(m.method) + " does not have one row per analysed layer");
      for (size_t i = 0; i < m.layers.size(); ++i) {
        const MethodLayer& l = m.layers[i];
        if (l.layer != s.analysis.layers[i].layer || l.r < 0) bad(to_string(m.method) + " has another layer than the analysis, or r < 0");
        if (!l.set) continue;
        bool ok = static_cast<int64_t>(l.set->size()) == l.r;
        for (size_t k = 0; ok && k < l.set->size(); ++k)
          ok = (*l.set)[k] >= 0 && (*l.set)[k] < T && (k == 0 || (*l.set)[k] > (*l.set)[k - 1]);
        if (!ok) bad(to_string(m.method) + "'s set at layer " + std::to_string(l.layer) + " is not r sorted tokens in [0, T)");
      }
    }
  }
}

void write_contents(const std::string& tmp, const std::string& path, const RunRecord& s, bool with_activations,
                    const JobControl& control) {
  const Writer w(path);
  Handle file = w.create_file(tmp);
  const hid_t root = file.get();
  const int64_t L = s.analysis.L(), T = s.analysis.T;

  w.attr(root, "format", kSessionFormatName);
  w.attr(root, "format_version", kSessionFormatVersion);
  w.attr(root, "app_version", s.app_version.empty() ? version() : s.app_version);
  w.attr(root, "created", s.created.empty() ? utc_now_iso8601() : s.created);
  w.attr(root, "kind", to_string(s.kind));
  w.attr(root, "source", s.source);
  w.strings(root, "text", {s.text});  // a dataset, not an attribute: a long document exceeds an object header

  if (s.model) {
    const Handle g = w.group(root, "model");
    for (const auto& f : names::model_texts()) w.attr(g.get(), f.name, *s.model.*f.member);
    for (const auto& f : names::model_integers()) w.attr(g.get(), f.name, *s.model.*f.member);
  }
  {
    const Handle g = w.group(root, "tokens");
    w.strings(g.get(), "strings", s.tokens);
    if (!s.ids.empty()) w.ints(g.get(), "ids", s.ids);
  }
  {
    const Handle g = w.group(root, "run");
    w.attr(g.get(), "attention", to_string(s.attention));
    w.attr(g.get(), "nearest", to_string(s.nearest));
    w.attr(g.get(), "device", to_string(s.device));
    w.attr(g.get(), "dtype", to_string(s.dtype));
    for (const auto& f : names::timing_fields()) w.attr(g.get(), f.name, s.timings.*f.member);
  }
  control.check();
  {
    const Handle g = w.group(root, "prior_max");
    std::vector<float> gamma;
    std::vector<int32_t> partner;
    gamma.reserve(static_cast<size_t>(L * T));
    partner.reserve(static_cast<size_t>(L * T));
    for (int64_t l = 0; l < L; ++l) {
      const PriorMax& pm = s.prior_max_of(l);
      gamma.insert(gamma.end(), pm.gamma.begin(), pm.gamma.end());
      for (int64_t p : pm.partner) partner.push_back(static_cast<int32_t>(p));
    }
    const std::vector<hsize_t> dims{static_cast<hsize_t>(L), static_cast<hsize_t>(T)};
    w.dataset(g.get(), "gamma", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, dims, gamma.data());
    w.dataset(g.get(), "partner", H5T_STD_I32LE, H5T_NATIVE_INT32, dims, partner.data());
  }
  write_analysis(w, root, "analysis", s.analysis);
  if (!s.sweep.empty()) {
    const Handle g = w.group(root, "sweep");
    std::vector<double> taus, err, dppl;
    for (const auto& e : s.sweep) {
      taus.push_back(e.analysis.tau);
      err.push_back(or_none(e.ada_error));
      dppl.push_back(or_none(e.delta_ppl));
    }
    w.doubles(g.get(), "tau", taus);
    w.doubles(g.get(), "ada_error", err);
    w.doubles(g.get(), "delta_ppl", dppl);
    const Handle analyses = w.group(g.get(), "analyses");
    for (size_t i = 0; i < s.sweep.size(); ++i) {
      control.check();
      write_analysis(w, analyses.get(), sweep_name(i).c_str(), s.sweep[i].analysis);
    }
  }
  if (s.quality) {
    const Handle g = w.group(root, "quality");
    w.attr(g.get(), "mode", to_string(s.quality_mode));
    for (const auto& f : names::quality_fields()) w.attr(g.get(), f.name, *s.quality.*f.member);
    const auto& e = s.quality->attention_error;
    const size_t rows = e.size(), cols = rows ? e[0].size() : 0;
    std::vector<double> flat;
    for (const auto& row : e) {
      if (row.size() != cols) throw UsageError(path + ": cannot save this session: attention_error rows differ in length");
      flat.insert(flat.end(), row.begin(), row.end());
    }
    w.doubles(g.get(), "attention_error", flat, {rows, cols});
  }
  if (!s.comparisons.empty()) {
    const Handle g = w.group(root, "comparisons");
    w.attr(g.get(), "count", static_cast<int64_t>(s.comparisons.size()));
    for (size_t i = 0; i < s.comparisons.size(); ++i) write_comparison(w, g.get(), std::to_string(i), s.comparisons[i]);
  }
  if (with_activations && s.analyzer) {
    const Handle g = w.group(root, "activations");
    const int64_t d = s.analyzer->dim();
    const hsize_t dims[3] = {static_cast<hsize_t>(L), static_cast<hsize_t>(T), static_cast<hsize_t>(d)};
    const Handle space(H5Screate_simple(3, dims, nullptr), H5Sclose);
    const Handle plist(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    const hsize_t chunk[3] = {1, static_cast<hsize_t>(T), static_cast<hsize_t>(d)};
    H5Pset_chunk(plist.get(), 3, chunk);
    const Handle ds(H5Dcreate2(g.get(), "xhat", float16_type(), space.get(), H5P_DEFAULT, plist.get(), H5P_DEFAULT),
                    H5Dclose);
    if (!ds.ok()) w.fail("dataset /activations/xhat");
    const hsize_t one[3] = {1, static_cast<hsize_t>(T), static_cast<hsize_t>(d)};
    const Handle mem(H5Screate_simple(3, one, nullptr), H5Sclose);
    for (int64_t l = 0; l < L; ++l) {
      control.check();
      control.report("saving activations", l, L);
      const at::Tensor layer = s.analyzer->normalized(l).to(at::kCPU).to(at::kHalf).contiguous();
      const hsize_t start[3] = {static_cast<hsize_t>(l), 0, 0};
      const Handle fspace(H5Dget_space(ds.get()), H5Sclose);
      H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start, nullptr, one, nullptr);
      if (H5Dwrite(ds.get(), float16_type(), mem.get(), fspace.get(), H5P_DEFAULT, layer.data_ptr()) < 0)
        w.fail("dataset /activations/xhat");
    }
    control.report("saving activations", L, L);
  }
  w.flush_and_close(file);
}

// ---------------------------------------------------------------------------------------------
// Reading

// /activations/xhat [L, T, d] as float16, read layer by layer; every value must be finite. With
// `keep` false (the isolated check, data/formats/isolated.h) the layers are read and checked but
// not kept, and no LibTorch code runs.
at::Tensor read_xhat(const Reader& r, const std::string& name, int64_t L, int64_t T, bool keep, const JobControl& control) {
  const Handle d = r.open_dataset(name);
  r.check_class<float>(d.get(), name);
  const auto dims = r.dataset_dims(d.get(), name, {L, T, -1}, "L, T, d");
  const int64_t D = dims[2];
  if (D < 1) r.bad(name + " has d = 0");
  at::Tensor out = keep ? allocate_for(r.path(), {L, T, D}, at::kHalf) : at::Tensor();
  // IEEE half as we write it: read the bytes as they are (HDF5's soft float16 → float32
  // conversion runs at ~25 MB/s). Any other float width: through float32.
  const Handle type(H5Dget_type(d.get()), H5Tclose);
  const bool half = type.ok() && H5Tequal(type.get(), float16_type()) > 0;
  const size_t n = static_cast<size_t>(T * D);
  std::vector<uint16_t> half_layer;
  std::vector<float> float_layer;
  try {
    if (half && !keep) half_layer.resize(n);
    if (!half) float_layer.resize(n);
  } catch (const std::exception&) {
    r.bad(name + " has layers too large to load into memory");
  }
  const hsize_t one[3] = {1, static_cast<hsize_t>(T), static_cast<hsize_t>(D)};
  const Handle mem(H5Screate_simple(3, one, nullptr), H5Sclose);
  r.check_extents(d.get(), name);
  for (int64_t l = 0; l < L; ++l) {
    control.check();
    control.report("reading activations", l, L);
    const hsize_t start[3] = {static_cast<hsize_t>(l), 0, 0};
    const Handle fspace(H5Dget_space(d.get()), H5Sclose);
    H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start, nullptr, one, nullptr);
    void* target = !half ? static_cast<void*>(float_layer.data()) : keep ? out[l].data_ptr() : half_layer.data();
    if (H5Dread(d.get(), half ? float16_type() : H5T_NATIVE_FLOAT, mem.get(), fspace.get(), H5P_DEFAULT, target) < 0)
      r.bad("cannot read " + name + " (damaged or truncated file?)");
    bool finite = true;
    if (half) {
      const auto* bits = static_cast<const uint16_t*>(target);
      for (size_t i = 0; i < n; ++i) finite &= (bits[i] & 0x7C00u) != 0x7C00u;  // exponent all ones: Inf or NaN
    } else {
      for (float v : float_layer) finite &= std::isfinite(v);
    }
    if (!finite) r.bad(name + " layer " + std::to_string(l) + " holds NaN or infinite values");
    if (!half && keep) out[l].copy_(at::from_blob(float_layer.data(), {T, D}, at::kFloat));
  }
  control.report("reading activations", L, L);
  return out;
}

std::vector<TokenSet> sets_from(const Reader& r, const std::vector<uint8_t>& mask, int64_t L, int64_t T, const std::string& name) {
  std::vector<TokenSet> sets(static_cast<size_t>(L));
  for (int64_t l = 0; l < L; ++l)
    for (int64_t t = 0; t < T; ++t) {
      const uint8_t v = mask[static_cast<size_t>(l * T + t)];
      if (v > 1) r.bad(name + " holds " + std::to_string(v) + " (layer " + std::to_string(l) + ", token " + std::to_string(t) + "); a set is 0/1 per token");
      if (v) sets[l].push_back(t);
    }
  return sets;
}

Analysis read_analysis(const Reader& r, const std::string& name, int64_t T, const std::vector<int64_t>* layer_ids) {
  const Handle g = r.group(name);
  const double tau = r.attr_double(g.get(), name, "tau");
  if (!(tau >= 0 && tau <= 1)) r.bad(name + " attribute 'tau' is " + std::to_string(tau) + ", outside [0, 1]");
  Rule rule;
  const std::string rule_name = r.attr_string(g.get(), name, "rule");
  try {
    rule = parse_rule(rule_name);
  } catch (const UsageError&) {
    r.bad(name + " attribute 'rule' is '" + rule_name + "' (prior-max or greedy-cover)");
  }
  if (r.attr_int(g.get(), name, "T") != T)
    r.bad(name + " attribute 'T' is " + std::to_string(r.attr_int(g.get(), name, "T")) + " but /tokens/strings has " +
          std::to_string(T) + " tokens");
  const int64_t d = r.attr_int(g.get(), name, "d");
  if (d < 1 || d > (int64_t{1} << 24)) r.bad(name + " attribute 'd' is " + std::to_string(d) + " (a hidden size 1..16777216)");
  std::vector<int64_t> shape;
  const auto layers = r.read<int64_t>(name + "/layer", {layer_ids ? static_cast<int64_t>(layer_ids->size()) : -1}, "L", &shape);
  const int64_t L = shape[0];
  if (L < 1) r.bad(name + "/layer is empty (no layers)");
  for (size_t i = 0; i < layers.size(); ++i)
    if (layers[i] < 0 || (i > 0 && layers[i] <= layers[i - 1])) r.bad(name + "/layer is not ascending layer indices >= 0");
  if (layer_ids && layers != *layer_ids) r.bad(name + "/layer differs from /analysis/layer");
  auto sets = [&](const char* n) {
    const std::string full = name + "/" + n;
    return sets_from(r, r.read<uint8_t>(full, {L, T}, "L, T"), L, T, full);
  };
  const auto ind = sets("reps_ind"), casc = sets("reps_casc"), added = sets("added"), removed = sets("removed");
  // Before remeasure, which builds an [L, L] matrix: this bounds L * L by what the file can hold
  // (a small file declaring 60000 layers otherwise asks for 29 GB; tests/fuzz).
  r.read<double>(name + "/jaccard_matrix", {L, L}, "L, L");
  Analysis a;
  try {
    a = remeasure(T, d, tau, rule, layers, ind, casc, added, removed, name);
  } catch (const InputError& e) {
    r.bad(e.what());  // "/analysis: layer 3: ..." after the file's name
  }
  // Every stored count must be what the sets give; the real-valued measures must be there and
  // well-formed, and are re-derived above.
  for (const names::LayerField* f : names::layer_fields()) {
    if (f->derived || f == &names::per_layer::layer) continue;  // `layer` was checked above
    const std::string full = name + "/" + f->name;
    if (!f->integer) {
      r.read<double>(full, {L}, "L");
      continue;
    }
    const auto v = r.read<int64_t>(full, {L}, "L");
    for (int64_t l = 0; l < L; ++l)
      if (const auto want = static_cast<int64_t>(*f->get(a.layers[l])); v[l] != want)
        r.bad(full + "[" + std::to_string(l) + "] is " + std::to_string(v[l]) + " but the stored sets give " +
              std::to_string(want) + " (inconsistent session)");
  }
  return a;
}

// One /comparisons/N group (data/SESSION_FORMAT.md): every number, name and set, checked.
Comparison read_comparison(const Reader& r, const std::string& name, int64_t T, const std::vector<int64_t>& layers) {
  const Handle g = r.group(name);
  Comparison c;
  c.tau = r.attr_double(g.get(), name, "tau");
  if (!(c.tau >= 0 && c.tau <= 1)) r.bad(name + " attribute 'tau' is " + std::to_string(c.tau) + ", outside [0, 1]");
  c.rule = r.attr_string(g.get(), name, "rule");
  try {
    (void)parse_rule(c.rule);
  } catch (const UsageError&) {
    r.bad(name + " attribute 'rule' is '" + c.rule + "' (prior-max or greedy-cover)");
  }
  c.nearest = r.attr_string(g.get(), name, "nearest");
  try {
    (void)parse_nearest_rule(c.nearest);
  } catch (const UsageError&) {
    r.bad(name + " attribute 'nearest' is '" + c.nearest + "' (paper or causal-nearest)");
  }
  c.budget = r.parsed(g.get(), name, "budget", parse_budget, "cascade, independent, ratio:R or count:N");
  c.seed = r.attr_u64(g.get(), name, "seed");
  c.document = r.attr_u64(g.get(), name, "document");
  c.T = r.attr_int(g.get(), name, "T");
  if (c.T != T)
    r.bad(name + " attribute 'T' is " + std::to_string(c.T) + " but /tokens/strings has " + std::to_string(T) + " tokens");
  if (const double p = r.attr_double(g.get(), name, "ppl_exact"); !std::isnan(p)) c.ppl_exact = p;
  c.notes = r.read_strings(name + "/notes");
  for (const std::string& method_name : r.read_strings(name + "/methods")) {
    MethodResult m;
    const std::string where = name + "/" + method_name;
    try {
      m.method = parse_method(method_name);
    } catch (const UsageError&) {
      r.bad(name + "/methods names an unknown method '" + method_name + "'");
    }
    if (c.find(m.method)) r.bad(name + "/methods lists '" + method_name + "' twice");
    const Handle mg = r.group(where);
    if ((r.attr_int(mg.get(), where, "element_level") != 0) != is_element_method(m.method))
      r.bad(where + " attribute 'element_level' contradicts the method");
    m.self_calibrated = r.attr_int(mg.get(), where, "self_calibrated") != 0;
    auto optional = [&](const char* attr) {
      const double v = r.attr_double(mg.get(), where, attr);
      return std::isnan(v) ? std::nullopt : std::optional<double>(v);
    };
    m.ppl = optional("ppl");
    m.delta_ppl = optional("delta_ppl");
    m.kl = optional("kl");
    m.quality_why = r.attr_string(mg.get(), where, "quality_why");
    const int64_t n = static_cast<int64_t>(layers.size());  // one row per analysed layer, as /analysis/layer
    if (r.read<int64_t>(where + "/" + names::method_layer::layer.name, {n}, "L, one row per analysed layer") != layers)
      r.bad(where + "/layer differs from /analysis/layer");
    m.layers.resize(static_cast<size_t>(n));
    for (const names::MethodField* f : names::method_fields()) {
      const std::string full = where + "/" + f->name;
      if (f->integer) {
        const auto v = r.read<int64_t>(full, {n}, "L");
        for (int64_t i = 0; i < n; ++i) {
          MethodLayer& l = m.layers[i];
          const bool required = f == &names::method_layer::layer || f == &names::method_layer::r;
          if (v[i] < (required ? 0 : -1))
            r.bad(full + "[" + std::to_string(i) + "] is " + std::to_string(v[i]) + (required ? " (must be >= 0)" : " (>= 0, or -1 for no value)"));
          if (f == &names::method_layer::layer) l.layer = v[i];
          else if (f == &names::method_layer::r) l.r = v[i];
          else if (f == &names::method_layer::selection_macs) l.selection_macs = v[i] < 0 ? std::nullopt : std::optional<int64_t>(v[i]);
          else r.bad(full + ": this build does not know where to put it");  // a new integer axis needs a line here
        }
      } else {
        const auto v = r.read<double>(full, {n}, "L");
        std::optional<double> MethodLayer::*axis = f == &names::method_layer::coverage ? &MethodLayer::coverage
                                                   : f == &names::method_layer::covered ? &MethodLayer::covered
                                                   : f == &names::method_layer::attn_err ? &MethodLayer::attn_err
                                                   : f == &names::method_layer::selection_ms ? &MethodLayer::selection_ms
                                                                                              : nullptr;
        if (!axis) r.bad(full + ": this build does not know where to put it");
        for (int64_t i = 0; i < n; ++i)
          if (!std::isnan(v[i])) m.layers[i].*axis = v[i];
      }
    }
    std::vector<int64_t> set_shape;
    const auto sets = r.read<int64_t>(where + "/sets", {-1}, "the kept tokens of every layer, concatenated", &set_shape);
    const auto offsets = r.read<int64_t>(where + "/set_offsets", {n}, "L");
    const auto why = r.read_strings(where + "/why");
    if (static_cast<int64_t>(why.size()) != n)
      r.bad(where + "/why has " + std::to_string(why.size()) + " strings, expected " + std::to_string(n) + " (L)");
    int64_t next = 0;  // the sets are stored in layer order, back to back
    for (int64_t i = 0; i < n; ++i) {
      MethodLayer& l = m.layers[i];
      l.why = why[i];
      if (offsets[i] == -1) continue;
      const std::string at = where + "/set_offsets[" + std::to_string(i) + "]";
      if (offsets[i] != next) r.bad(at + " is " + std::to_string(offsets[i]) + ", expected " + std::to_string(next) + " or -1 (the sets are stored back to back)");
      if (l.r > set_shape[0] - next) r.bad(where + "/sets is too short for r = " + std::to_string(l.r) + " at row " + std::to_string(i));
      TokenList set(sets.begin() + next, sets.begin() + next + l.r);
      for (size_t k = 0; k < set.size(); ++k)
        if (set[k] < 0 || set[k] >= T || (k > 0 && set[k] <= set[k - 1]))
          r.bad(where + "/sets: the set of row " + std::to_string(i) + " is not ascending tokens in [0, " + std::to_string(T) + ")");
      next += l.r;
      l.set = std::move(set);
    }
    if (next != set_shape[0])
      r.bad(where + "/sets holds " + std::to_string(set_shape[0]) + " tokens, the sets of r tokens " + std::to_string(next));
    c.methods.push_back(std::move(m));
  }
  return c;
}

}  // namespace

bool is_session_file(const std::string& path) {
  const Handle file = h5io::open_if_hdf5(path);
  return file.ok() && H5Aexists(file.get(), "format") > 0;
}

namespace {

// The whole read; `keep_activations` false: /activations/xhat is read and checked but not kept (the
// isolated check), and no Analyzer is made.
RunRecord read_contents(const std::string& path, const SessionReadOptions& options, bool keep_activations,
                        const JobControl& control) {
  uint64_t size = 0;
  const Handle file = h5io::open_for_reading(
      path, "not an HDF5 file (a session is the .h5 file a saved run is written to)", size);
  Reader r(path, file.get(), size);
  const hid_t root = file.get();

  if (!r.has_attr(root, "format"))
    r.bad("not a Cascade Lens session (no 'format' attribute on /); an HDF5 file of activations needs a dataset "
          "/hidden_states and is read by analyze/sweep/figures as activations");
  r.allow_variable_strings(true);  // the marker of any version, or of another file (read in the isolated child first)
  if (const std::string f = r.attr_string(root, "/", "format"); f != kSessionFormatName)
    r.bad("not a Cascade Lens session (format is '" + f + "', expected '" + kSessionFormatName + "')");
  const int64_t v = r.attr_int(root, "/", "format_version");  // it says how the other strings are stored
  if (v > kSessionFormatVersion)
    r.bad("written by a newer Cascade Lens (session format version " + std::to_string(v) + "; this build reads up to " +
          std::to_string(kSessionFormatVersion) + "). Please update Cascade Lens to open it");
  if (v < 1) r.bad("unknown session format version " + std::to_string(v));
  r.allow_variable_strings(v < 3);
  if (v < 3)  // shown if the isolated check dies on it
    tell_parent(" (a session of format version " + std::to_string(v) +
                ", whose strings libhdf5 cannot read safely from a damaged file; an undamaged one opens, and saving it "
                "again writes version " + std::to_string(kSessionFormatVersion) + ")");

  RunRecord s;
  s.app_version = r.attr_string(root, "/", "app_version");
  s.created = r.attr_string(root, "/", "created");
  s.kind = r.parsed(root, "/", "kind", parse_source_kind, "model or activations");
  s.source = r.attr_string(root, "/", "source");
  if (v >= 3) {
    const auto text = r.read_strings("/text", "one string");
    if (text.size() != 1) r.bad("/text has " + std::to_string(text.size()) + " strings, expected 1");
    s.text = text[0];
  } else {
    s.text = r.attr_string(root, "/", "text");
  }

  s.tokens = r.read_strings("/tokens/strings");
  const auto T = static_cast<int64_t>(s.tokens.size());
  if (T < 1) r.bad("/tokens/strings is empty (T = 0)");
  if (s.kind == SourceKind::Model) {
    const Handle g = r.group("/model", "a model session names its model");
    ModelIdentity m;
    for (const auto& f : names::model_texts()) m.*f.member = r.attr_string(g.get(), "/model", f.name);
    for (const auto& f : names::model_integers()) m.*f.member = r.attr_int(g.get(), "/model", f.name);
    s.model = m;
    s.ids = r.read<int64_t>("/tokens/ids", {T}, "T");
    for (int64_t id : s.ids)
      if (id < 0 || (m.vocab_size > 0 && id >= m.vocab_size))
        r.bad("/tokens/ids holds " + std::to_string(id) + ", outside the vocabulary 0.." + std::to_string(m.vocab_size - 1));
  } else if (r.exists("/tokens/ids")) {
    s.ids = r.read<int64_t>("/tokens/ids", {T}, "T");
  }
  {
    const Handle g = r.group("/run");
    s.attention = r.parsed(g.get(), "/run", "attention", parse_attention_mode, "exact, ada-independent or ada-cascade");
    s.nearest = r.parsed(g.get(), "/run", "nearest", parse_nearest_rule, "paper or causal-nearest");
    s.device = r.parsed(g.get(), "/run", "device", parse_device, "cpu or cuda");
    s.dtype = r.parsed(g.get(), "/run", "dtype", parse_dtype, "float32, bfloat16 or float16");
    for (const auto& f : names::timing_fields()) s.timings.*f.member = r.attr_double(g.get(), "/run", f.name);
  }
  control.check();
  s.analysis = read_analysis(r, "/analysis", T, nullptr);
  const int64_t L = s.analysis.L();
  const std::vector<int64_t> layers = s.layer_ids();  // from the analysis: no analyzer yet
  {
    const auto gamma = r.read<float>("/prior_max/gamma", {L, T}, "L, T");
    const auto partner = r.read<int64_t>("/prior_max/partner", {L, T}, "L, T");
    s.prior_max.resize(static_cast<size_t>(L));
    for (int64_t l = 0; l < L; ++l) {
      PriorMax& pm = s.prior_max[l];
      pm.gamma.assign(gamma.begin() + l * T, gamma.begin() + (l + 1) * T);
      pm.partner.assign(partner.begin() + l * T, partner.begin() + (l + 1) * T);
      if (pm.partner[0] != -1 || !(std::isinf(pm.gamma[0]) && pm.gamma[0] < 0))
        r.bad("/prior_max: token 0 of layer " + std::to_string(layers[l]) + " must have partner -1 and gamma -inf");
      for (int64_t t = 1; t < T; ++t) {
        if (pm.partner[t] < 0 || pm.partner[t] >= t)
          r.bad("/prior_max/partner holds " + std::to_string(pm.partner[t]) + " for token " + std::to_string(t) +
                " of layer " + std::to_string(layers[l]) + " (an earlier token, 0.." + std::to_string(t - 1) + ")");
        if (!std::isfinite(pm.gamma[t]))
          r.bad("/prior_max/gamma is not finite at token " + std::to_string(t) + " of layer " + std::to_string(layers[l]));
      }
    }
  }
  if (r.exists("/sweep")) {
    std::vector<int64_t> shape;
    const auto taus = r.read<double>("/sweep/tau", {-1}, "S", &shape);
    const int64_t S = shape[0];
    const auto err = r.read<double>("/sweep/ada_error", {S}, "S");
    const auto dppl = r.read<double>("/sweep/delta_ppl", {S}, "S");
    for (int64_t i = 0; i < S; ++i) {
      control.check();
      SweepEntry e;
      e.analysis = read_analysis(r, "/sweep/analyses/" + sweep_name(static_cast<size_t>(i)), T, &layers);
      if (e.analysis.tau != taus[i])
        r.bad("/sweep/tau[" + std::to_string(i) + "] differs from the tau of /sweep/analyses/" + sweep_name(static_cast<size_t>(i)));
      if (!std::isnan(err[i])) e.ada_error = err[i];
      if (!std::isnan(dppl[i])) e.delta_ppl = dppl[i];
      s.sweep.push_back(std::move(e));
    }
  }
  if (r.exists("/quality")) {
    const Handle g = r.group("/quality");
    AdaQuality q;
    s.quality_mode = r.parsed(g.get(), "/quality", "mode", parse_attention_mode, "exact, ada-independent or ada-cascade");
    for (const auto& f : names::quality_fields()) q.*f.member = r.attr_double(g.get(), "/quality", f.name);
    std::vector<int64_t> shape;
    const auto e = r.read<double>("/quality/attention_error", {-1, -1}, "blocks, heads", &shape);
    for (int64_t i = 0; i < shape[0]; ++i) q.attention_error.emplace_back(e.begin() + i * shape[1], e.begin() + (i + 1) * shape[1]);
    s.quality = q;
  }
  if (v >= 2 && r.exists("/comparisons")) {  // version 1 has none
    const Handle g = r.group("/comparisons");
    const int64_t n = r.attr_int(g.get(), "/comparisons", "count");
    if (n < 0) r.bad("/comparisons attribute 'count' is " + std::to_string(n));
    for (int64_t i = 0; i < n; ++i) {
      control.check();
      s.comparisons.push_back(read_comparison(r, "/comparisons/" + std::to_string(i), T, layers));
    }
  }
  if (options.activations && r.exists("/activations/xhat") && !keep_activations) {
    (void)read_xhat(r, "/activations/xhat", L, T, false, control);
  } else if (options.activations && r.exists("/activations/xhat")) {
    const at::Tensor xhat = read_xhat(r, "/activations/xhat", L, T, true, control);
    std::vector<at::Tensor> per_layer;
    for (int64_t l = 0; l < L; ++l) per_layer.push_back(xhat[l]);
    // The stored γ/π are kept as saved (not re-scanned), so independent sets at any τ are exactly
    // the saved run's.
    s.analyzer = std::make_shared<const Analyzer>(std::move(per_layer), std::move(s.prior_max), layers, kDefaultTile,
                                                  control, options.gram_cache_bytes);
    s.prior_max.clear();
  }
  return s;
}

}  // namespace

RunRecord read_session(const std::string& path, const SessionReadOptions& options, const JobControl& control) {
  if (options.isolate) {
    check_in_child({path, "checking the session", ""},
                   [&](const JobControl& child) { (void)read_contents(path, options, false, child); }, control);
  }
  return read_contents(path, options, true, control);
}

void write_session(const std::string& path, const RunRecord& session, const SessionWriteOptions& options,
                   const JobControl& control) {
  check_writable(session, path);
  h5io::write_atomically(path, "session", h5io::WriteFailure::Error, [&](const std::string& tmp) {
    write_contents(tmp, path, session, options.with_activations, control);
  });
}

}  // namespace cascade::data
