#include "cli/study_format.h"

#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include "core/names.h"
#include "data/session/session_export.h"

namespace cascade::cli {

namespace {

using nlohmann::json;
using stats::Describe;

std::string fmt(const char* f, double v) {
  if (std::isnan(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// "0.912 [0.901, 0.925]" (digits by magnitude: counts get one decimal, ratios three).
std::string mean_ci(const Describe& d) {
  if (d.n == 0) return "-";
  const char* f = std::abs(d.mean) >= 10 ? "%.1f" : std::abs(d.mean) >= 0.01 || d.mean == 0 ? "%.3f" : "%.2e";
  return fmt(f, d.mean) + " [" + fmt(f, d.ci95[0]) + ", " + fmt(f, d.ci95[1]) + "]";
}

std::string pad(const std::string& s, size_t w) { return s.size() >= w ? s + " " : s + std::string(w - s.size(), ' '); }

json describe_json(const Describe& d) {
  const auto num = [](double v) { return std::isnan(v) ? json(nullptr) : json(v); };
  return {{"n", d.n},        {"mean", num(d.mean)}, {"sd", num(d.sd)},   {"median", num(d.median)},
          {"q25", num(d.q25)}, {"q75", num(d.q75)},   {"min", num(d.min)}, {"max", num(d.max)},
          {"ci95", {num(d.ci95[0]), num(d.ci95[1])}}};
}

json value_json(double v) { return std::isnan(v) ? json(nullptr) : json(v); }

std::string short_name(const std::string& array) { return array.substr(array.find('/') + 1); }

// A per-layer measure's JSON key: the one every JSON of the CLI uses (n_missed, n_extra: counts).
std::string json_key(const std::string& measure) {
  return measure.ends_with("_over_T") ? measure : names::layer_field(measure).key();
}

const std::vector<std::string> kLayerColumns{"r_ind_over_T", "r_casc_over_T", "depth_jaccard", "casc_fidelity",
                                             "turnover", "adds", "removes"};
const std::vector<std::string> kSummaryRows{"gram_savings", "gram_entries_ind", "gram_entries_casc", "mean_depth_jaccard",
                                            "mean_casc_fidelity", "mean_turnover", "mean_r_ind", "mean_r_casc",
                                            "mean_compression_ind", "total_missed", "total_extra"};

}  // namespace

std::string study_table(const study::Study& s, const study::Aggregates& a, int64_t t) {
  std::ostringstream out;
  const auto taus = static_cast<int64_t>(s.taus.size());
  const double tau = s.taus.at(static_cast<size_t>(t));
  std::set<std::string> sources;
  for (const auto& d : s.documents) sources.insert(d.source.substr(0, d.source.rfind(':')));
  out << "study: " << s.documents.size() << " documents from " << sources.size() << " texts";
  if (const auto total = s.params.get("corpus_documents"); total && std::to_string(s.documents.size()) != *total) {
    out << " (of the corpus's " << *total;
    if (const auto shard = s.params.get("shard"); shard && *shard != "0/1") out << "; shard " << *shard;
    out << ")";
  }
  if (!s.failures.empty()) out << " (" << s.failures.size() << " not used, listed at the end)";
  out << "; model " << study::model_label(s) << ", tau " << fmt("%g", tau) << ", rule "
      << s.params.get("rule").value_or("?") << "\n";
  out << "mean [95% CI] over documents: percentile bootstrap, B = " << s.resamples << ", seed " << s.seed << "\n";
  if (s.documents.empty()) return out.str() + "(no documents yet)\n";

  out << "\nPer layer (paper Tables 1, 2, 5)\n" << pad("layer", 6);
  for (const auto& c : kLayerColumns) out << pad(c == "r_ind_over_T" ? "r_ind/T" : c == "r_casc_over_T" ? "r_casc/T" : c, 22);
  out << "\n";
  for (size_t l = 0; l <= s.layers.size(); ++l) {
    const bool all = l == s.layers.size();
    out << pad(all ? "all" : std::to_string(s.layers[l]), 6);
    for (const auto& c : kLayerColumns) {
      const study::ArrayAggregate* g = a.find("layers/" + c);
      if (!g) {
        out << pad("-", 22);
        continue;
      }
      const Describe& d = all ? g->over_layers.at(static_cast<size_t>(t)) : g->cells.at(l * static_cast<size_t>(taus) + static_cast<size_t>(t));
      out << pad(mean_ci(d), 22);
    }
    out << "\n";
  }

  out << "\nSummary (paper Tables 6, 9)\n"
      << pad("measure", 22) << pad("n", 5) << pad("mean", 10) << pad("sd", 10) << pad("median", 10) << pad("q25", 10)
      << pad("q75", 10) << pad("min", 10) << pad("max", 10) << "95% CI\n";
  for (const auto& m : kSummaryRows) {
    const study::ArrayAggregate* g = a.find("summary/" + m);
    if (!g) continue;
    const Describe& d = g->cells.at(static_cast<size_t>(t));
    const char* f = std::abs(d.mean) >= 1000 ? "%.4g" : "%.4f";
    out << pad(m, 22) << pad(std::to_string(d.n), 5) << pad(fmt(f, d.mean), 10) << pad(fmt(f, d.sd), 10)
        << pad(fmt(f, d.median), 10) << pad(fmt(f, d.q25), 10) << pad(fmt(f, d.q75), 10) << pad(fmt(f, d.min), 10)
        << pad(fmt(f, d.max), 10) << "[" << fmt(f, d.ci95[0]) << ", " << fmt(f, d.ci95[1]) << "]\n";
  }

  if (!s.quality_modes.empty()) {
    out << "\nADA vs exact attention (SPEC 5)\n" << pad("mode", 18);
    for (const auto& q : study::quality_measure_names()) out << pad(q, 26);
    out << "\n";
    for (size_t m = 0; m < s.quality_modes.size(); ++m) {
      out << pad(s.quality_modes[m], 18);
      for (const auto& q : study::quality_measure_names())
        if (const auto* g = a.find("quality/" + q)) out << pad(mean_ci(g->cells.at(m * static_cast<size_t>(taus) + static_cast<size_t>(t))), 26);
      out << "\n";
    }
    if (const auto* g = a.find("quality/ppl_exact")) out << pad("exact ppl", 18) << mean_ci(g->cells.at(0)) << "\n";
  }

  if (!s.methods.empty()) {
    out << "\nMethods at an equal budget (SPEC 7; budget " << s.params.get("budget").value_or("?") << ", tau "
        << fmt("%g", s.taus[0]) << ")\n"
        << pad("method", 15) << pad("r/T", 24) << pad("attn_err", 26) << pad("coverage", 24) << pad("delta_ppl", 34)
        << "kl\n";
    for (size_t k = 0; k < s.methods.size(); ++k) {
      const auto K = static_cast<int64_t>(k);
      out << pad(s.methods[k], 15) << pad(mean_ci(stats::describe(study::method_r_over_T(s, K), s.seed, s.resamples)), 24);
      for (const char* axis : {"attn_err", "coverage"}) {
        const auto* g = a.find(std::string("methods/") + axis);
        out << pad(g ? mean_ci(g->over_layers.at(k)) : "-", std::string(axis) == "attn_err" ? 26 : 24);
      }
      for (const char* q : {"delta_ppl", "kl"}) {
        const auto* g = a.find(std::string("methods/") + q);
        out << pad(g ? mean_ci(g->cells.at(k)) : "-", 34);
      }
      out << "\n";
    }
  }

  if (!a.paired.empty()) {
    out << "\nPaired comparisons over documents (a - b; Wilcoxon signed-rank, two-sided)\n"
        << pad("quantity", 11) << pad("a", 16) << pad("b", 16) << pad("tau", 6) << pad("n", 5)
        << pad("mean a-b [95% CI]", 34) << pad("p", 12) << "a lower / b lower / ties\n";
    for (const auto& r : a.paired) {
      if (std::abs(r.tau - tau) > 1e-12 && r.a != "cascade") continue;
      const auto& p = r.result;
      out << pad(r.quantity, 11) << pad(r.a, 16) << pad(r.b, 16) << pad(fmt("%g", r.tau), 6) << pad(std::to_string(p.n), 5)
          << pad(fmt("%.3e", p.mean_diff) + " [" + fmt("%.3e", p.ci95[0]) + ", " + fmt("%.3e", p.ci95[1]) + "]", 34)
          << pad(fmt("%.3g", p.wilcoxon.p) + (p.wilcoxon.exact ? " ex" : " nrm"), 12) << p.a_lower << " / " << p.b_lower
          << " / " << p.ties << "\n";
    }
  }

  if (!s.failures.empty()) {
    out << "\nNot used (" << s.failures.size() << "):\n";
    for (size_t i = 0; i < s.failures.size() && i < 20; ++i)
      out << "  " << s.failures[i].source << ": " << s.failures[i].why << "\n";
    if (s.failures.size() > 20) out << "  ... and " << s.failures.size() - 20 << " more (study show --format json lists all)\n";
  }
  return out.str();
}

std::string study_csv(const study::Study& s, const study::Aggregates& a) {
  std::ostringstream out;
  out << "scope,measure,layer,tau,mode_or_method,n,mean,sd,median,q25,q75,min,max,ci95_lo,ci95_hi\n";
  const auto row = [&](const std::string& scope, const std::string& measure, const std::string& layer, double tau,
                       const std::string& who, const Describe& d) {
    out << scope << "," << measure << "," << layer << "," << fmt("%.17g", tau) << "," << who << "," << d.n;
    for (double v : {d.mean, d.sd, d.median, d.q25, d.q75, d.min, d.max, d.ci95[0], d.ci95[1]})
      out << "," << (std::isnan(v) ? "" : fmt("%.17g", v));
    out << "\n";
  };
  const auto taus = s.taus.size();
  const double nan = std::nan("");
  for (const auto& g : a.arrays) {
    const std::string m = short_name(g.name);
    if (g.name.rfind("layers/", 0) == 0) {
      for (size_t l = 0; l < s.layers.size(); ++l)
        for (size_t t = 0; t < taus; ++t) row("layer", m, std::to_string(s.layers[l]), s.taus[t], "", g.cells[l * taus + t]);
      for (size_t t = 0; t < taus; ++t) row("all_layers", m, "all", s.taus[t], "", g.over_layers[t]);
    } else if (g.name.rfind("summary/", 0) == 0) {
      for (size_t t = 0; t < taus; ++t) row("summary", m, "", s.taus[t], "", g.cells[t]);
    } else if (g.name == "quality/ppl_exact") {
      row("quality", m, "", nan, "exact", g.cells[0]);
    } else if (g.name.rfind("quality/", 0) == 0) {
      for (size_t k = 0; k < s.quality_modes.size(); ++k)
        for (size_t t = 0; t < taus; ++t) row("quality", m, "", s.taus[t], s.quality_modes[k], g.cells[k * taus + t]);
    } else if (g.shape.size() == 2) {  // methods/<axis> [methods, layers]
      const auto L = static_cast<size_t>(g.shape[1]);
      for (size_t k = 0; k < s.methods.size(); ++k) {
        for (size_t l = 0; l < L; ++l) row("method", m, std::to_string(s.layers[l]), s.taus[0], s.methods[k], g.cells[k * L + l]);
        row("method", m, "all", s.taus[0], s.methods[k], g.over_layers[k]);
      }
    } else {  // methods/<quality> [methods]
      for (size_t k = 0; k < s.methods.size(); ++k) row("method", m, "", s.taus[0], s.methods[k], g.cells[k]);
    }
  }
  return out.str();
}

std::string paired_csv(const study::Aggregates& a) {
  std::ostringstream out;
  out << "quantity,a,b,tau,n,mean_diff,ci95_lo,ci95_hi,p,exact,w_plus,z,a_lower,b_lower,ties\n";
  for (const auto& r : a.paired) {
    const auto& p = r.result;
    out << r.quantity << "," << r.a << "," << r.b << "," << fmt("%.17g", r.tau) << "," << p.n << "," << fmt("%.17g", p.mean_diff)
        << "," << fmt("%.17g", p.ci95[0]) << "," << fmt("%.17g", p.ci95[1]) << "," << fmt("%.17g", p.wilcoxon.p) << ","
        << (p.wilcoxon.exact ? 1 : 0) << "," << fmt("%.17g", p.wilcoxon.w_plus) << "," << fmt("%.17g", p.wilcoxon.z) << ","
        << p.a_lower << "," << p.b_lower << "," << p.ties << "\n";
  }
  return out.str();
}

std::string documents_csv(const study::Study& s) {
  std::ostringstream out;
  out << "id,source,offset,T";
  std::vector<std::pair<const study::Array*, int64_t>> cols;
  for (const auto& arr : s.arrays) {
    if (arr.name.rfind("layers/", 0) == 0 || arr.shape.size() > 1) continue;
    for (int64_t i = 0; i < arr.per_document(); ++i) {
      out << "," << short_name(arr.name);
      if (arr.name.rfind("summary/", 0) == 0) out << "@" << fmt("%g", s.taus[static_cast<size_t>(i)]);
      else if (arr.name.rfind("methods/", 0) == 0) out << "@" << s.methods[static_cast<size_t>(i)];
      cols.emplace_back(&arr, i);
    }
  }
  // The quality of each mode at each τ, named mode@tau.
  if (const study::Array* q = s.find("quality/delta_ppl"))
    for (size_t k = 0; k < s.quality_modes.size(); ++k)
      for (size_t t = 0; t < s.taus.size(); ++t) {
        out << ",delta_ppl@" << s.quality_modes[k] << "@" << fmt("%g", s.taus[t]);
        cols.emplace_back(q, static_cast<int64_t>(k * s.taus.size() + t));
      }
  out << "\n";
  for (size_t d = 0; d < s.documents.size(); ++d) {
    const auto& doc = s.documents[d];
    out << doc.id << "," << data::csv_field(doc.source) << "," << doc.offset << "," << doc.T;
    for (const auto& [arr, i] : cols) {
      const double v = arr->at(static_cast<int64_t>(d), i);
      out << "," << (std::isnan(v) ? "" : fmt("%.17g", v));
    }
    out << "\n";
  }
  return out.str();
}

json study_json(const study::Study& s, const study::Aggregates& a, int64_t t) {
  json j;
  json params = json::object();
  for (const auto& [n, v] : s.params.items) params[n] = v;
  j["params"] = params;
  j["taus"] = s.taus;
  j["tau"] = s.taus.at(static_cast<size_t>(t));
  j["layers"] = s.layers;
  j["quality_modes"] = s.quality_modes;
  j["methods"] = s.methods;
  j["bootstrap"] = {{"seed", s.seed}, {"resamples", s.resamples}};
  const auto taus = static_cast<int64_t>(s.taus.size());
  const auto L = static_cast<int64_t>(s.layers.size());
  json docs = json::array();
  for (size_t d = 0; d < s.documents.size(); ++d) {
    const auto D = static_cast<int64_t>(d);
    const auto& doc = s.documents[d];
    json layers = json::array(), summary = json::object(), quality = json::object(), methods = json::object();
    for (int64_t l = 0; l < L; ++l) {
      json layer{{"layer", s.layers[static_cast<size_t>(l)]}};
      for (const auto& m : study::layer_measure_names())
        if (const auto* arr = s.find("layers/" + m)) layer[json_key(m)] = value_json(arr->at(D, l * taus + t));
      layers.push_back(layer);
    }
    for (const auto& m : study::summary_measure_names())
      if (const auto* arr = s.find("summary/" + m)) summary[m] = value_json(arr->at(D, t));
    for (size_t k = 0; k < s.quality_modes.size(); ++k) {
      json q;
      if (const auto* arr = s.find("quality/ppl_exact")) q["ppl_exact"] = value_json(arr->at(D, 0));
      for (const auto& m : study::quality_measure_names())
        if (const auto* arr = s.find("quality/" + m)) q[m] = value_json(arr->at(D, static_cast<int64_t>(k) * taus + t));
      quality[s.quality_modes[k]] = q;
    }
    for (size_t k = 0; k < s.methods.size(); ++k) {
      json m;
      for (const auto& axis : study::method_layer_axis_names())
        if (const auto* arr = s.find("methods/" + axis)) {
          json per = json::array();
          for (int64_t l = 0; l < L; ++l) per.push_back(value_json(arr->at(D, static_cast<int64_t>(k) * L + l)));
          m[axis] = per;
        }
      for (const auto& q : study::method_quality_names())
        if (const auto* arr = s.find("methods/" + q)) m[q] = value_json(arr->at(D, static_cast<int64_t>(k)));
      methods[s.methods[k]] = m;
    }
    docs.push_back({{"id", doc.id}, {"source", doc.source}, {"offset", doc.offset}, {"T", doc.T}, {"index", doc.index},
                    {"ids", doc.ids}, {"layers", layers}, {"summary", summary}, {"quality", quality}, {"methods", methods},
                    {"elapsed_ms", value_json(d < s.elapsed_ms.size() ? s.elapsed_ms[d] : std::nan(""))}});
  }
  j["documents"] = docs;

  json agg_layers = json::array(), all_layers = json::object(), summary = json::object(), quality = json::object(),
       methods = json::object();
  for (int64_t l = 0; l < L; ++l) {
    json layer{{"layer", s.layers[static_cast<size_t>(l)]}};
    for (const auto& m : study::layer_measure_names())
      if (const auto* g = a.find("layers/" + m)) layer[json_key(m)] = describe_json(g->cells.at(static_cast<size_t>(l * taus + t)));
    agg_layers.push_back(layer);
  }
  for (const auto& m : study::layer_measure_names())
    if (const auto* g = a.find("layers/" + m)) all_layers[json_key(m)] = describe_json(g->over_layers.at(static_cast<size_t>(t)));
  for (const auto& m : study::summary_measure_names())
    if (const auto* g = a.find("summary/" + m)) summary[m] = describe_json(g->cells.at(static_cast<size_t>(t)));
  for (size_t k = 0; k < s.quality_modes.size(); ++k) {
    json q;
    for (const auto& m : study::quality_measure_names())
      if (const auto* g = a.find("quality/" + m)) q[m] = describe_json(g->cells.at(k * static_cast<size_t>(taus) + static_cast<size_t>(t)));
    if (const auto* g = a.find("quality/ppl_exact")) q["ppl_exact"] = describe_json(g->cells.at(0));
    quality[s.quality_modes[k]] = q;
  }
  for (size_t k = 0; k < s.methods.size(); ++k) {
    json m;
    m["r_over_T"] = describe_json(stats::describe(study::method_r_over_T(s, static_cast<int64_t>(k)), s.seed, s.resamples));
    for (const auto& axis : study::method_layer_axis_names())
      if (const auto* g = a.find("methods/" + axis)) m[axis] = describe_json(g->over_layers.at(k));
    for (const auto& q : study::method_quality_names())
      if (const auto* g = a.find("methods/" + q)) m[q] = describe_json(g->cells.at(k));
    methods[s.methods[k]] = m;
  }
  j["aggregates"] = {{"layers", agg_layers}, {"all_layers", all_layers}, {"summary", summary}, {"quality", quality},
                     {"methods", methods}};
  json paired = json::array();
  for (const auto& r : a.paired) {
    const auto& p = r.result;
    paired.push_back({{"quantity", r.quantity}, {"a", r.a}, {"b", r.b}, {"tau", r.tau}, {"n", p.n},
                      {"mean_diff", value_json(p.mean_diff)}, {"ci95", {value_json(p.ci95[0]), value_json(p.ci95[1])}},
                      {"p", value_json(p.wilcoxon.p)}, {"exact", p.wilcoxon.exact}, {"w_plus", p.wilcoxon.w_plus},
                      {"z", value_json(p.wilcoxon.z)}, {"a_lower", p.a_lower}, {"b_lower", p.b_lower}, {"ties", p.ties}});
  }
  j["paired"] = paired;
  json failures = json::array();
  for (const auto& f : s.failures) failures.push_back({{"source", f.source}, {"why", f.why}});
  j["failures"] = failures;
  return j;
}

}  // namespace cascade::cli
