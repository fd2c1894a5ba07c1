#include "data/session/session_export.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <optional>

#include "core/errors.h"
#include "core/names.h"
#include "core/token_status.h"
#include "data/formats/io_util.h"

namespace fs = std::filesystem;

namespace cascade::data {

namespace {

// Shortest text that reads back to the same double; empty for NaN (no value).
std::string num(double v) {
  if (std::isnan(v)) return "";
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}
std::string num(const std::optional<double>& v) { return v ? num(*v) : ""; }
std::string num(int64_t v) { return std::to_string(v); }

class Table {
 public:
  explicit Table(std::vector<std::string> header) : columns_(header.size()) { row(header); }
  void row(const std::vector<std::string>& cells) {
    if (cells.size() != columns_) throw std::logic_error("csv row width");
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i) text_ += ',';
      text_ += csv_field(cells[i]);
    }
    text_ += "\n";
  }
  void save(const fs::path& path, std::vector<std::string>& written) const {
    write_file_atomically(path.string(), text_);
    written.push_back(path.string());
  }

 private:
  size_t columns_;
  std::string text_;
};

template <class F, class R>
std::string cell(const F& field, const R& record) {
  const auto v = field.get(record);
  return !v ? "" : field.integer ? num(static_cast<int64_t>(*v)) : num(*v);
}

std::vector<std::string> layer_header() {
  std::vector<std::string> out;
  for (const names::LayerField* f : names::layer_fields()) out.push_back(f->name);
  return out;
}
std::vector<std::string> layer_row(const LayerMeasures& m) {
  std::vector<std::string> out;
  for (const names::LayerField* f : names::layer_fields()) out.push_back(cell(*f, m));
  return out;
}

}  // namespace

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::vector<std::string> export_session_csv(const RunRecord& s, const std::string& dir_name) {
  const fs::path dir(dir_name);
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) throw UsageError(dir_name + " exists and is not a folder");
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir, ec)) throw Error(dir_name + ": cannot create the folder");
  std::vector<std::string> written;
  const Analysis& a = s.analysis;
  const std::string tau = num(a.tau), rule = to_string(a.rule);

  {
    std::vector<std::string> header = {"tau", "rule"};
    const auto lh = layer_header();
    header.insert(header.end(), lh.begin(), lh.end());
    Table t(header);
    for (const auto& m : a.layers) {
      std::vector<std::string> row = {tau, rule};
      const auto cells = layer_row(m);
      row.insert(row.end(), cells.begin(), cells.end());
      t.row(row);
    }
    t.save(dir / "layers.csv", written);
  }
  {
    Table t({"tau", "rule", "layer", "token", "id", "text", "status", "reps_ind", "reps_casc", "added", "removed",
             "gamma", "partner"});
    const int64_t T = a.T;
    std::vector<TokenStatus> status(static_cast<size_t>(T));
    for (int64_t i = 0; i < a.L(); ++i) {
      const LayerMeasures& m = a.layers[i];
      layer_statuses(m, T, status.data());
      std::vector<uint8_t> bits(static_cast<size_t>(T), 0);
      auto mark = [&](const TokenSet& set, uint8_t bit) {
        for (int64_t x : set) bits[x] |= bit;
      };
      mark(m.reps_ind, 1), mark(m.reps_casc, 2), mark(m.added, 4), mark(m.removed, 8);
      const PriorMax* pm = i < s.num_layers() ? &s.prior_max_of(i) : nullptr;
      for (int64_t x = 0; x < T; ++x)
        t.row({tau, rule, num(m.layer), num(x), x < static_cast<int64_t>(s.ids.size()) ? num(s.ids[x]) : "",
               x < static_cast<int64_t>(s.tokens.size()) ? s.tokens[x] : "", status_name(status[x]),
               num(int64_t{(bits[x] & 1) != 0}), num(int64_t{(bits[x] & 2) != 0}), num(int64_t{(bits[x] & 4) != 0}),
               num(int64_t{(bits[x] & 8) != 0}),
               pm && x > 0 ? num(static_cast<double>(pm->gamma[x])) : "", pm && x > 0 ? num(pm->partner[x]) : ""});
    }
    t.save(dir / "tokens.csv", written);
  }
  {
    Table t({"tau", "rule", "layer_a", "layer_b", "jaccard"});
    for (int64_t i = 0; i < a.L(); ++i)
      for (int64_t j = 0; j < a.L(); ++j)
        t.row({tau, rule, num(a.layers[i].layer), num(a.layers[j].layer), num(a.jaccard_matrix[i][j])});
    t.save(dir / "jaccard.csv", written);
  }
  if (!s.sweep.empty()) {
    std::vector<std::string> header;
    for (const names::SweepField* f : names::sweep_fields()) header.push_back(f->name);
    header.insert(header.begin() + 2, "rule");
    Table t(header);
    std::vector<std::string> per_layer_header = {"tau", "rule"};
    const auto lh = layer_header();
    per_layer_header.insert(per_layer_header.end(), lh.begin(), lh.end());
    Table per_layer(per_layer_header);
    for (const SweepEntry& e : s.sweep) {
      const Analysis& x = e.analysis;
      std::vector<std::string> row;
      for (const names::SweepField* f : names::sweep_fields()) row.push_back(cell(*f, e));
      row.insert(row.begin() + 2, to_string(x.rule));
      t.row(row);
      for (const auto& l : x.layers) {
        std::vector<std::string> row = {num(x.tau), to_string(x.rule)};
        const auto cells = layer_row(l);
        row.insert(row.end(), cells.begin(), cells.end());
        per_layer.row(row);
      }
    }
    t.save(dir / "sweep.csv", written);
    per_layer.save(dir / "sweep_layers.csv", written);
  }
  if (s.quality) {
    Table t({"mode", "block", "head", "attention_error"});
    for (size_t b = 0; b < s.quality->attention_error.size(); ++b)
      for (size_t h = 0; h < s.quality->attention_error[b].size(); ++h)
        t.row({to_string(s.quality_mode), num(static_cast<int64_t>(b)), num(static_cast<int64_t>(h)),
               num(s.quality->attention_error[b][h])});
    t.save(dir / "quality.csv", written);
  }
  if (!s.comparisons.empty()) {  // SPEC §7: one row per comparison, method and layer
    std::vector<std::string> header = {"comparison", "tau", "budget", "method"};
    for (const names::MethodField* f : names::method_fields()) header.push_back(f->name);
    Table t(header);
    for (size_t i = 0; i < s.comparisons.size(); ++i) {
      const Comparison& c = s.comparisons[i];
      for (const MethodResult& m : c.methods)
        for (const MethodLayer& l : m.layers) {
          std::vector<std::string> row = {num(static_cast<int64_t>(i)), num(c.tau), to_string(c.budget), to_string(m.method)};
          for (const names::MethodField* f : names::method_fields()) row.push_back(cell(*f, l));
          t.row(row);
        }
    }
    t.save(dir / "methods.csv", written);
  }
  // A table this session does not have must not survive from an earlier export into the folder.
  for (const char* name : {"sweep.csv", "sweep_layers.csv", "quality.csv", "methods.csv"})
    if (std::find(written.begin(), written.end(), (dir / name).string()) == written.end()) fs::remove(dir / name, ec);
  return written;
}

}  // namespace cascade::data
