#include "cli/format.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/errors.h"
#include "core/names.h"
#include "core/run_record.h"

namespace cascade::cli {

Format parse_format(const std::string& name) {
  if (name == "table") return Format::Table;
  if (name == "csv") return Format::Csv;
  if (name == "json") return Format::Json;
  throw UsageError("unknown format '" + name + "' (expected table, csv or json)");
}

namespace {

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// Right-aligned columns sized to their widest cell.
std::string render_columns(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  std::ostringstream out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t c = 0; c < cells.size(); ++c)
      out << (c ? "  " : "") << std::string(width[c] - cells[c].size(), ' ') << cells[c];
    out << "\n";
  };
  line(header);
  for (const auto& row : rows) line(row);
  return out.str();
}

std::string csv_join(const std::vector<std::string>& cells) {
  std::string out;
  for (size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + cells[i];
  return out + "\n";
}

// One column of a CLI table: a field of the name tables and how people read it. The CSV of the
// same columns always prints `csv_digits` decimals and leaves a missing value empty.
template <class R>
struct Column {
  const names::Field<R>* field;
  int table_digits = 3;
  int csv_digits = 6;
  bool percent = false;  // the table shows 100·v with one decimal and "%"
  bool step = false;     // part of the cascade step into a layer: "-" in the table at the first layer

  std::string cell(const R& record, bool csv, bool first_layer = false) const {
    if (!csv && step && first_layer) return "-";
    const auto v = field->get(record);
    if (!v) return csv ? "" : "-";
    if (field->integer) return std::to_string(static_cast<int64_t>(*v));
    if (csv) return fixed(*v, csv_digits);
    return percent ? fixed(100.0 * *v, 1) + "%" : fixed(*v, table_digits);
  }
};

const std::vector<Column<LayerMeasures>>& layer_columns() {
  using namespace names::per_layer;
  static const std::vector<Column<LayerMeasures>> columns = {
      {&layer},  {&r_ind},   {&r_casc}, {&depth_jaccard}, {&casc_fidelity},  {&missed},
      {&extra},  {&adds, 3, 6, false, true}, {&removes, 3, 6, false, true}, {&turnover, 3, 6, true},
      {&gram_entries_ind}, {&gram_entries_casc}};
  return columns;
}

const std::vector<Column<SweepEntry>>& sweep_columns() {
  using namespace names;
  static const std::vector<Column<SweepEntry>> columns = {
      {&sweep::tau},
      {&sweep::theta, 4, 4},
      {&sweep::of(summary::mean_r_ind), 1},
      {&sweep::of(summary::mean_r_casc), 1},
      {&sweep::r_ind_over_T},
      {&sweep::of(summary::gram_savings), 3, 6, true},
      {&sweep::of(summary::mean_depth_jaccard)},
      {&sweep::of(summary::mean_casc_fidelity)},
      {&sweep::of(summary::total_missed)},
      {&sweep::of(summary::total_extra)},
      {&sweep::of(summary::mean_turnover), 3, 6, true}};
  return columns;
}

template <class R>
std::vector<std::string> header_of(const std::vector<Column<R>>& columns) {
  std::vector<std::string> out;
  for (const auto& c : columns) out.push_back(c.field->name);
  return out;
}

std::vector<std::string> layer_cells(const LayerMeasures& m, bool csv) {
  const bool first = !m.turnover;  // the first analysed layer has no cascade step into it
  std::vector<std::string> out;
  for (const auto& c : layer_columns()) out.push_back(c.cell(m, csv, first));
  return out;
}

std::vector<std::string> sweep_cells(const Analysis& a, bool csv) {
  const SweepEntry e{a, std::nullopt, std::nullopt};
  std::vector<std::string> out;
  for (const auto& c : sweep_columns()) out.push_back(c.cell(e, csv));
  return out;
}

std::string header_line(const Analysis& a, const std::string& source) {
  std::ostringstream out;
  out << "source: " << source << "\n"
      << "T=" << a.T << "  d=" << a.d << "  L=" << a.L() << "  tau=" << fixed(a.tau, 3)
      << " (theta=1-tau^2=" << fixed(a.theta, 4) << ")  rule=" << to_string(a.rule) << "\n";
  return out.str();
}

std::string summary_lines(const Summary& s) {
  auto opt = [](const std::optional<double>& v) { return v ? fixed(*v, 3) : std::string("-"); };
  std::ostringstream out;
  out << "summary: mean depth_jaccard " << opt(s.mean_depth_jaccard) << " | gram_savings "
      << fixed(100.0 * s.gram_savings, 1) << "% (cascade " << s.gram_entries_casc << " vs independent "
      << s.gram_entries_ind << " entries) | mean r_ind " << fixed(s.mean_r_ind, 1) << " (T/r " << fixed(s.mean_compression_ind, 2)
      << ") | mean r_casc " << fixed(s.mean_r_casc, 1) << "\n"
      << "         mean casc_fidelity " << fixed(s.mean_casc_fidelity, 3) << " | missed " << s.total_missed
      << " | extra " << s.total_extra << " | adds " << s.total_adds << " | removes " << s.total_removes
      << " | mean turnover " << (s.mean_turnover ? fixed(100.0 * *s.mean_turnover, 1) + "%" : "-") << "\n";
  return out.str();
}

}  // namespace

std::string analysis_table(const Analysis& a, const std::string& source) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : a.layers) rows.push_back(layer_cells(m, false));
  return header_line(a, source) + "\n" + render_columns(header_of(layer_columns()), rows) + "\n" + summary_lines(a.summary);
}

std::string analysis_csv(const Analysis& a) {
  std::string out = csv_join(header_of(layer_columns()));
  for (const auto& m : a.layers) out += csv_join(layer_cells(m, true));
  return out;
}

std::string sweep_table(const std::vector<Analysis>& runs, const std::string& source) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& a : runs) rows.push_back(sweep_cells(a, false));
  std::ostringstream out;
  if (!runs.empty())
    out << "source: " << source << "\nT=" << runs[0].T << "  d=" << runs[0].d << "  L=" << runs[0].L()
        << "  rule=" << to_string(runs[0].rule) << "  (" << runs.size() << " values of tau)\n\n";
  out << render_columns(header_of(sweep_columns()), rows);
  return out.str();
}

std::string sweep_csv(const std::vector<Analysis>& runs) {
  std::string out = csv_join(header_of(sweep_columns()));
  for (const auto& a : runs) out += csv_join(sweep_cells(a, true));
  return out;
}

std::string quality_lines(const AdaQuality& q, AttentionMode mode) {
  std::ostringstream out;
  if (std::isnan(q.ppl_exact)) {
    out << "quality: needs at least 2 tokens (perplexity predicts each next token)\n";
    return out.str();
  }
  out << "quality (" << to_string(mode) << " vs exact): ppl_exact " << q.ppl_exact << " | ppl_ada " << q.ppl_ada
      << " | delta_ppl " << q.ppl_ada - q.ppl_exact << " | mean_kl " << q.mean_kl << " | mean attention error "
      << mean_attention_error(q) << "\n";
  return out.str();
}

namespace {

std::string optional_cell(const std::optional<double>& v, int digits, bool csv) {
  if (!v) return csv ? "" : "-";
  return fixed(*v, csv ? 6 : digits);
}

}  // namespace

std::string comparison_table(const Comparison& c, const std::string& source) {
  std::ostringstream out;
  out << "source: " << source << "\nT=" << c.T << "  tau=" << fixed(c.tau, 3) << " (theta=" << fixed(1 - c.tau * c.tau, 4)
      << ")  rule=" << c.rule << "  nearest=" << c.nearest << "  budget=" << to_string(c.budget) << "  seed=" << c.seed;
  if (c.ppl_exact) out << "  ppl_exact=" << fixed(*c.ppl_exact, 4);
  out << "\n";
  for (const std::string& n : c.notes) out << "note: " << n << "\n";
  // The summary: one row per method, every axis.
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> whys;
  for (const MethodResult& m : c.methods) {
    double ms = 0;
    int64_t macs = 0;
    bool have_ms = false, have_macs = false;
    for (const MethodLayer& l : m.layers) {
      if (l.selection_ms) ms += *l.selection_ms, have_ms = true;
      if (l.selection_macs) macs += *l.selection_macs, have_macs = true;
    }
    const bool element = is_element_method(m.method);
    rows.push_back({to_string(m.method), element ? "-" : fixed(m.mean_r(), 1),
                    element ? "-" : fixed(m.mean_r() / static_cast<double>(std::max<int64_t>(c.T, 1)), 3),
                    optional_cell(m.mean(&MethodLayer::coverage), 3, false),
                    optional_cell(m.mean(&MethodLayer::covered), 3, false),
                    optional_cell(m.mean(&MethodLayer::attn_err), 4, false), optional_cell(m.ppl, 3, false),
                    optional_cell(m.delta_ppl, 3, false), optional_cell(m.kl, 4, false),
                    have_ms ? fixed(ms, 2) : "-", have_macs ? std::to_string(macs) : "-"});
    std::string why = !m.layers.empty() ? m.layers.back().why : "";
    for (const MethodLayer& l : m.layers)
      if (!l.why.empty()) why = l.why;
    if (!m.quality_why.empty()) why += (why.empty() ? "" : "; ") + std::string("ppl/kl ") + m.quality_why;
    if (m.method == Method::TopTheta && m.self_calibrated) why += (why.empty() ? "" : "; ") + std::string("self-calibrated");
    if (!why.empty()) whys.push_back(to_string(m.method) + ": " + why);
  }
  out << "\nsummary (means over layers; selection time and MACs summed)\n"
      << render_columns({"method", "mean_r", "r/T", "coverage", "covered", "attn_err", "ppl", "delta_ppl", "kl",
                         "selection_ms", "selection_macs"},
                        rows);
  for (const std::string& w : whys) out << "  " << w << "\n";
  // Per layer: one table per axis, methods side by side.
  const struct {
    const char* name;
    std::optional<double> MethodLayer::*axis;
    int digits;
  } axes[] = {{"attn_err", &MethodLayer::attn_err, 4}, {"coverage", &MethodLayer::coverage, 3}, {"covered", &MethodLayer::covered, 3}};
  if (!c.methods.empty()) {
    std::vector<std::string> header{"layer"};
    for (const MethodResult& m : c.methods) header.push_back(to_string(m.method));
    std::vector<std::vector<std::string>> r_rows;
    for (size_t i = 0; i < c.methods.front().layers.size(); ++i) {
      std::vector<std::string> row{std::to_string(c.methods.front().layers[i].layer)};
      for (const MethodResult& m : c.methods) row.push_back(is_element_method(m.method) ? "-" : std::to_string(m.layers[i].r));
      r_rows.push_back(row);
    }
    out << "\nr per layer\n" << render_columns(header, r_rows);
    for (const auto& axis : axes) {
      std::vector<std::vector<std::string>> layer_rows;
      bool any = false;
      for (size_t i = 0; i < c.methods.front().layers.size(); ++i) {
        std::vector<std::string> row{std::to_string(c.methods.front().layers[i].layer)};
        for (const MethodResult& m : c.methods) {
          const auto& v = m.layers[i].*axis.axis;
          any |= v.has_value();
          row.push_back(optional_cell(v, axis.digits, false));
        }
        layer_rows.push_back(row);
      }
      if (any) out << "\n" << axis.name << " per layer\n" << render_columns(header, layer_rows);
    }
  }
  return out.str();
}

std::string comparison_csv(const Comparison& c) {
  std::vector<std::string> header{"method"};
  for (const names::MethodField* f : names::method_fields()) header.push_back(f->name);
  for (const char* extra : {"ppl", "delta_ppl", "kl", "why"}) header.push_back(extra);
  std::string out = csv_join(header);
  for (const MethodResult& m : c.methods) {
    for (const MethodLayer& l : m.layers) {
      std::vector<std::string> row{to_string(m.method)};
      for (const names::MethodField* f : names::method_fields()) {
        const auto v = f->get(l);
        row.push_back(!v ? "" : f->integer ? std::to_string(static_cast<int64_t>(*v)) : fixed(*v, 6));
      }
      // ppl, delta_ppl and kl are end to end: on the method's own row with layer "all" below.
      row.insert(row.end(), {"", "", "", l.why});
      out += csv_join(row);
    }
    std::vector<std::string> row{to_string(m.method), "all", fixed(m.mean_r(), 6),
                                 optional_cell(m.mean(&MethodLayer::coverage), 6, true),
                                 optional_cell(m.mean(&MethodLayer::covered), 6, true),
                                 optional_cell(m.mean(&MethodLayer::attn_err), 6, true), "", "",
                                 optional_cell(m.ppl, 6, true), optional_cell(m.delta_ppl, 6, true),
                                 optional_cell(m.kl, 6, true), m.quality_why};
    out += csv_join(row);
  }
  return out;
}

std::string run_line(const RunRecord& r) {
  std::ostringstream out;
  out << "model: " << r.model->model_type << ", " << r.model->num_layers << " layers, d=" << r.model->hidden_size
      << ", attention " << to_string(r.attention) << " (nearest: " << to_string(r.nearest) << "); forward "
      << static_cast<int64_t>(r.timings.forward_ms) << " ms, selection " << static_cast<int64_t>(r.timings.selection_ms)
      << " ms";
  return out.str();
}

}  // namespace cascade::cli
