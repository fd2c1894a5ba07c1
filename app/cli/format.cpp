#include "cli/format.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/errors.h"
#include "core/engine.h"
#include "core/session.h"

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
std::string opt_fixed(const std::optional<double>& v, int digits, const std::string& none = "-") {
  return v ? fixed(*v, digits) : none;
}
// CSV leaves a missing value empty; JSON writes null.
std::string csv_opt(const std::optional<double>& v) { return v ? fixed(*v, 6) : ""; }
nlohmann::json json_opt(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }

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

const std::vector<std::string> kLayerColumns = {
    "layer",    "r_ind",   "r_casc",  "depth_jaccard",    "casc_fidelity",     "missed", "extra",
    "adds",     "removes", "turnover", "gram_entries_ind", "gram_entries_casc"};

std::string header_line(const Analysis& a, const RunInfo& info) {
  std::ostringstream out;
  out << "source: " << info.source << "\n"
      << "T=" << a.T << "  d=" << a.d << "  L=" << a.L() << "  tau=" << fixed(a.tau, 3)
      << " (theta=1-tau^2=" << fixed(a.theta, 4) << ")  rule=" << to_string(a.rule) << "\n";
  return out.str();
}

std::string summary_lines(const Summary& s, int64_t T) {
  std::ostringstream out;
  out << "summary: mean depth_jaccard " << opt_fixed(s.mean_depth_jaccard, 3) << " | gram_savings "
      << fixed(100.0 * s.gram_savings, 1) << "% (cascade " << s.gram_entries_casc << " vs independent "
      << s.gram_entries_ind << " entries) | mean r_ind " << fixed(s.mean_r_ind, 1) << " (T/r " << fixed(s.mean_compression_ind, 2)
      << ") | mean r_casc " << fixed(s.mean_r_casc, 1) << "\n"
      << "         mean casc_fidelity " << fixed(s.mean_casc_fidelity, 3) << " | missed " << s.total_missed
      << " | extra " << s.total_extra << " | adds " << s.total_adds << " | removes " << s.total_removes
      << " | mean turnover " << (s.mean_turnover ? fixed(100.0 * *s.mean_turnover, 1) + "%" : "-") << "\n";
  return out.str();
}

nlohmann::json summary_json(const Summary& s) {
  return {{"mean_depth_jaccard", json_opt(s.mean_depth_jaccard)},
          {"gram_savings", s.gram_savings},
          {"gram_entries_ind", s.gram_entries_ind},
          {"gram_entries_casc", s.gram_entries_casc},
          {"mean_r_ind", s.mean_r_ind},
          {"mean_r_casc", s.mean_r_casc},
          {"mean_compression_ind", s.mean_compression_ind},
          {"mean_compression_casc", s.mean_compression_casc},
          {"mean_casc_fidelity", s.mean_casc_fidelity},
          {"mean_turnover", json_opt(s.mean_turnover)},
          {"total_missed", s.total_missed},
          {"total_extra", s.total_extra},
          {"total_adds", s.total_adds},
          {"total_removes", s.total_removes}};
}

nlohmann::json layer_numbers_json(const LayerMeasures& m) {
  return {{"layer", m.layer},
          {"r_ind", m.r_ind},
          {"r_casc", m.r_casc},
          {"depth_jaccard", json_opt(m.depth_jaccard)},
          {"casc_fidelity", m.casc_fidelity},
          {"n_missed", m.missed.size()},
          {"n_extra", m.extra.size()},
          {"adds", m.adds},
          {"removes", m.removes},
          {"turnover", json_opt(m.turnover)},
          {"gram_entries_ind", m.gram_entries_ind},
          {"gram_entries_casc", m.gram_entries_casc},
          {"gram_macs_ind", m.gram_macs_ind},
          {"gram_macs_casc", m.gram_macs_casc},
          {"compression_ind", m.compression_ind},
          {"compression_casc", m.compression_casc}};
}

std::vector<std::string> layer_cells(const LayerMeasures& m, bool csv) {
  auto opt = [csv](const std::optional<double>& v) { return csv ? csv_opt(v) : opt_fixed(v, 3); };
  auto turnover = [&]() -> std::string {
    if (csv) return csv_opt(m.turnover);
    return m.turnover ? fixed(100.0 * *m.turnover, 1) + "%" : "-";
  };
  const bool first = !m.turnover;  // the first analysed layer has no cascade step into it
  return {std::to_string(m.layer),
          std::to_string(m.r_ind),
          std::to_string(m.r_casc),
          opt(m.depth_jaccard),
          csv ? fixed(m.casc_fidelity, 6) : fixed(m.casc_fidelity, 3),
          std::to_string(m.missed.size()),
          std::to_string(m.extra.size()),
          (!csv && first) ? "-" : std::to_string(m.adds),
          (!csv && first) ? "-" : std::to_string(m.removes),
          turnover(),
          std::to_string(m.gram_entries_ind),
          std::to_string(m.gram_entries_casc)};
}

std::string csv_join(const std::vector<std::string>& cells) {
  std::string out;
  for (size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + cells[i];
  return out + "\n";
}

}  // namespace

std::string analysis_table(const Analysis& a, const RunInfo& info) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : a.layers) rows.push_back(layer_cells(m, false));
  return header_line(a, info) + "\n" + render_columns(kLayerColumns, rows) + "\n" + summary_lines(a.summary, a.T);
}

std::string analysis_csv(const Analysis& a) {
  std::string out = csv_join(kLayerColumns);
  for (const auto& m : a.layers) out += csv_join(layer_cells(m, true));
  return out;
}

nlohmann::json analysis_json(const Analysis& a, const RunInfo& info) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& m : a.layers) {
    nlohmann::json j = layer_numbers_json(m);
    j["reps_ind"] = m.reps_ind;
    j["reps_casc"] = m.reps_casc;
    j["missed"] = m.missed;  // lists; the counts are n_missed / n_extra in every JSON
    j["extra"] = m.extra;
    j["added"] = m.added;
    j["removed"] = m.removed;
    layers.push_back(std::move(j));
  }
  nlohmann::json out = {{"source", info.source},     {"T", a.T},
                        {"d", a.d},                  {"L", a.L()},
                        {"tau", a.tau},              {"theta", a.theta},
                        {"rule", to_string(a.rule)}, {"layers", layers},
                        {"jaccard_matrix", a.jaccard_matrix}, {"summary", summary_json(a.summary)}};
  if (!info.tokens.empty()) out["tokens"] = info.tokens;
  return out;
}

namespace {
const std::vector<std::string> kSweepColumns = {
    "tau",          "theta",           "mean_r_ind",          "mean_r_casc",  "r_ind_over_T",
    "gram_savings", "mean_depth_jaccard", "mean_casc_fidelity", "total_missed", "total_extra", "mean_turnover"};

std::vector<std::string> sweep_cells(const Analysis& a, bool csv) {
  const Summary& s = a.summary;
  const int digits = csv ? 6 : 3;
  return {fixed(a.tau, csv ? 6 : 3),
          fixed(a.theta, 4),
          fixed(s.mean_r_ind, csv ? 6 : 1),
          fixed(s.mean_r_casc, csv ? 6 : 1),
          fixed(a.T ? s.mean_r_ind / static_cast<double>(a.T) : 0.0, digits),
          csv ? fixed(s.gram_savings, 6) : fixed(100.0 * s.gram_savings, 1) + "%",
          csv ? csv_opt(s.mean_depth_jaccard) : opt_fixed(s.mean_depth_jaccard, 3),
          fixed(s.mean_casc_fidelity, digits),
          std::to_string(s.total_missed),
          std::to_string(s.total_extra),
          csv ? csv_opt(s.mean_turnover)
              : (s.mean_turnover ? fixed(100.0 * *s.mean_turnover, 1) + "%" : std::string("-"))};
}
}  // namespace

std::string sweep_table(const std::vector<Analysis>& runs, const RunInfo& info) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& a : runs) rows.push_back(sweep_cells(a, false));
  std::ostringstream out;
  if (!runs.empty())
    out << "source: " << info.source << "\nT=" << runs[0].T << "  d=" << runs[0].d << "  L=" << runs[0].L()
        << "  rule=" << to_string(runs[0].rule) << "  (" << runs.size() << " values of tau)\n\n";
  out << render_columns(kSweepColumns, rows);
  return out.str();
}

std::string sweep_csv(const std::vector<Analysis>& runs) {
  std::string out = csv_join(kSweepColumns);
  for (const auto& a : runs) out += csv_join(sweep_cells(a, true));
  return out;
}

nlohmann::json sweep_json(const std::vector<Analysis>& runs, const RunInfo& info) {
  nlohmann::json taus = nlohmann::json::array();
  for (const auto& a : runs) {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& m : a.layers) layers.push_back(layer_numbers_json(m));
    taus.push_back({{"tau", a.tau}, {"theta", a.theta}, {"summary", summary_json(a.summary)}, {"layers", layers}});
  }
  nlohmann::json out = {{"source", info.source}, {"sweep", taus}};
  if (!runs.empty()) {
    out["T"] = runs[0].T;
    out["d"] = runs[0].d;
    out["L"] = runs[0].L();
    out["rule"] = to_string(runs[0].rule);
  }
  return out;
}

std::string quality_lines(const AdaQuality& q, const std::string& mode) {
  std::ostringstream out;
  if (std::isnan(q.ppl_exact)) {
    out << "quality: needs at least 2 tokens (perplexity predicts each next token)\n";
    return out.str();
  }
  out << "quality (" << mode << " vs exact): ppl_exact " << q.ppl_exact << " | ppl_ada " << q.ppl_ada
      << " | delta_ppl " << q.ppl_ada - q.ppl_exact << " | mean_kl " << q.mean_kl << " | mean attention error "
      << mean_attention_error(q) << "\n";
  return out.str();
}

std::string run_line(const Session& s) {
  std::ostringstream out;
  out << "model: " << s.model->model_type << ", " << s.model->num_layers << " layers, d=" << s.model->hidden_size
      << ", attention " << s.attention << " (nearest: " << s.nearest << "); forward "
      << static_cast<int64_t>(s.timings.forward_ms) << " ms, selection " << static_cast<int64_t>(s.timings.selection_ms)
      << " ms";
  return out.str();
}

void add_run_json(nlohmann::json& j, const Session& s, bool quality) {
  if (s.model)
    j["model"] = {{"name", s.model->name}, {"model_type", s.model->model_type}, {"layers", s.model->num_layers},
                  {"hidden_size", s.model->hidden_size}, {"heads", s.model->num_heads}};
  if (!s.ids.empty()) j["input_ids"] = s.ids;
  j["attention"] = s.attention;
  j["nearest"] = s.nearest;
  j["timings_ms"] = {{"forward", s.timings.forward_ms}, {"selection", s.timings.selection_ms},
                     {"quality", s.timings.quality_ms}};
  if (quality && s.quality)
    j["quality"] = {{"ppl_exact", s.quality->ppl_exact}, {"ppl_ada", s.quality->ppl_ada},
                    {"mean_kl", s.quality->mean_kl}, {"attention_error", s.quality->attention_error}};
}

}  // namespace cascade::cli
