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

std::string run_line(const RunRecord& r) {
  std::ostringstream out;
  out << "model: " << r.model->model_type << ", " << r.model->num_layers << " layers, d=" << r.model->hidden_size
      << ", attention " << to_string(r.attention) << " (nearest: " << to_string(r.nearest) << "); forward "
      << static_cast<int64_t>(r.timings.forward_ms) << " ms, selection " << static_cast<int64_t>(r.timings.selection_ms)
      << " ms";
  return out.str();
}

}  // namespace cascade::cli
