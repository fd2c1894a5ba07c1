// The server-to-laptop workflow end to end with the real binary and the bundled demo model:
// run --save, then analyze / sweep / export (and figures, in test_cli_figures.cpp) on the file
// alone, compared with what the model run itself printed.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_runner.h"
#include "core/run_record.h"
#include "data/session/session_file.h"

namespace {

namespace fs = std::filesystem;
using clitest::TempDirTest;

class CliSession : public TempDirTest {
 protected:
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static std::string read(const std::string& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  // RFC 4180, independently of the exporter: quoted fields may hold commas, quotes and newlines.
  static std::vector<std::vector<std::string>> csv(const std::string& p) {
    const std::string text = read(p);
    std::vector<std::vector<std::string>> rows(1);
    std::string cell;
    bool quoted = false;
    for (size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (quoted) {
        if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') cell += '"', ++i;
        else if (c == '"') quoted = false;
        else cell += c;
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        rows.back().push_back(cell), cell.clear();
      } else if (c == '\n') {
        rows.back().push_back(cell), cell.clear();
        rows.emplace_back();
      } else {
        cell += c;
      }
    }
    if (rows.back().empty()) rows.pop_back();
    return rows;
  }
};

TEST_F(CliSession, SaveThenAnalyzeReproducesTheRunWithoutTheModel) {
  const auto model_run = run({"run", "--format", "json", "--ppl", "--save", path("s.h5"), "--quiet"});
  ASSERT_EQ(model_run.code, 0) << model_run.err;
  ASSERT_TRUE(fs::exists(path("s.h5")));
  const auto from_file = this->run({"analyze", path("s.h5"), "--format", "json", "--quiet"});
  ASSERT_EQ(from_file.code, 0) << from_file.err;
  auto a = nlohmann::json::parse(model_run.out), b = nlohmann::json::parse(from_file.out);
  for (const char* key : {"T", "d", "L", "tau", "theta", "rule", "layers", "jaccard_matrix", "summary", "tokens"})
    EXPECT_EQ(a[key], b[key]) << key;
  // What the file says about the run, read back through the library.
  const cascade::RunRecord s = cascade::data::read_session(path("s.h5"));
  EXPECT_EQ(s.kind, cascade::SourceKind::Model);
  ASSERT_TRUE(s.model);
  EXPECT_EQ(s.model->model_type, "gpt2");
  EXPECT_EQ(s.model->config_sha256.size(), 64u);
  EXPECT_EQ(s.model->revision, "local");
  EXPECT_EQ(s.ids, a["input_ids"].get<std::vector<int64_t>>());
  EXPECT_FALSE(s.text.empty());
  ASSERT_TRUE(s.quality);
  EXPECT_DOUBLE_EQ(s.quality->ppl_exact, a["quality"]["ppl_exact"].get<double>());
  EXPECT_EQ(s.sweep.size(), 12u);  // the default grid 0.05:0.6:0.05
  EXPECT_FALSE(s.has_activations());
}

TEST_F(CliSession, WithoutActivationsTauIsLimitedToTheStoredValues) {
  ASSERT_EQ(run({"run", "--save", path("s.h5"), "--taus", "0.1,0.2", "--quiet"}).code, 0);
  const auto stored = run({"analyze", path("s.h5"), "--tau", "0.2", "--format", "json", "--quiet"});
  ASSERT_EQ(stored.code, 0) << stored.err;
  EXPECT_EQ(nlohmann::json::parse(stored.out)["tau"].get<double>(), 0.2);
  const auto other = run({"analyze", path("s.h5"), "--tau", "0.25", "--quiet"});
  EXPECT_EQ(other.code, 2);
  EXPECT_NE(other.err.find("saved without activations"), std::string::npos) << other.err;
  EXPECT_NE(other.err.find("0.1, 0.2, 0.3"), std::string::npos) << other.err;
  EXPECT_NE(other.err.find("--with-activations"), std::string::npos) << other.err;
  const auto sweep = run({"sweep", path("s.h5"), "--format", "csv", "--quiet"});  // the stored sweep
  ASSERT_EQ(sweep.code, 0) << sweep.err;
  EXPECT_EQ(std::count(sweep.out.begin(), sweep.out.end(), '\n'), 3);  // header + 2 taus
  EXPECT_EQ(run({"sweep", path("s.h5"), "--taus", "0.1:0.5:0.1", "--quiet"}).code, 2);
}

TEST_F(CliSession, WithActivationsTauAndRuleChangeOffline) {
  ASSERT_EQ(run({"run", "--save", path("s.h5"), "--with-activations", "--taus", "none", "--quiet"}).code, 0);
  // The same model run at another τ and rule vs the session re-derived at them.
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{"--tau", "0.4"}, std::vector<std::string>{"--tau", "0.2", "--rule", "greedy-cover"}}) {
    std::vector<std::string> model_args = {"run", "--format", "json", "--quiet"}, file_args = {"analyze", path("s.h5"), "--format", "json", "--quiet"};
    model_args.insert(model_args.end(), extra.begin(), extra.end());
    file_args.insert(file_args.end(), extra.begin(), extra.end());
    const auto m = run(model_args), f = run(file_args);
    ASSERT_EQ(m.code, 0) << m.err;
    ASSERT_EQ(f.code, 0) << f.err;
    const auto a = nlohmann::json::parse(m.out), b = nlohmann::json::parse(f.out);
    ASSERT_EQ(a["layers"].size(), b["layers"].size());
    for (size_t l = 0; l < a["layers"].size(); ++l) {
      EXPECT_EQ(a["layers"][l]["reps_ind"], b["layers"][l]["reps_ind"]) << extra[1] << " layer " << l;
      // float16 X̂ can move a borderline pair; on this text none is within 1e-3 of θ.
      EXPECT_EQ(a["layers"][l]["reps_casc"], b["layers"][l]["reps_casc"]) << extra[1] << " layer " << l;
    }
  }
  const auto sweep = run({"sweep", path("s.h5"), "--taus", "0.1,0.3", "--format", "csv", "--quiet"});
  ASSERT_EQ(sweep.code, 0) << sweep.err;
  EXPECT_EQ(std::count(sweep.out.begin(), sweep.out.end(), '\n'), 3);
}

TEST_F(CliSession, ExportWritesTidyTables) {
  ASSERT_EQ(run({"run", "--save", path("s.h5"), "--ppl", "--taus", "0.2,0.3", "--quiet"}).code, 0);
  const auto r = run({"export", path("s.h5"), "--csv", path("csv"), "--json", path("s.json"), "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  const cascade::RunRecord s = cascade::data::read_session(path("s.h5"));
  const int64_t L = s.num_layers(), T = s.num_tokens();
  const auto layers = csv(path("csv/layers.csv"));
  ASSERT_EQ(static_cast<int64_t>(layers.size()), L + 1);
  EXPECT_EQ(layers[0][2], "layer");
  EXPECT_EQ(layers[0][3], "r_ind");
  for (int64_t l = 0; l < L; ++l) EXPECT_EQ(layers[l + 1][3], std::to_string(s.analysis.layers[l].r_ind));
  const auto tokens = csv(path("csv/tokens.csv"));
  EXPECT_EQ(static_cast<int64_t>(tokens.size()), L * T + 1);
  const auto sweep = csv(path("csv/sweep.csv"));
  EXPECT_EQ(sweep.size(), 3u);
  EXPECT_EQ(csv(path("csv/sweep_layers.csv")).size(), static_cast<size_t>(2 * L + 1));
  EXPECT_EQ(csv(path("csv/jaccard.csv")).size(), static_cast<size_t>(L * L + 1));
  EXPECT_TRUE(fs::exists(path("csv/quality.csv")));
  // tokens.csv agrees with the file's sets, row by row (the text column holds "," and quotes).
  ASSERT_EQ(tokens[0], (std::vector<std::string>{"tau", "rule", "layer", "token", "id", "text", "status", "reps_ind",
                                                 "reps_casc", "added", "removed", "gamma", "partner"}));
  int64_t added = 0, reps = 0;
  for (size_t i = 1; i < tokens.size(); ++i) {
    ASSERT_EQ(tokens[i].size(), 13u) << "row " << i;
    const int64_t l = (static_cast<int64_t>(i) - 1) / T, t = (static_cast<int64_t>(i) - 1) % T;
    EXPECT_EQ(tokens[i][3], std::to_string(t));
    EXPECT_EQ(tokens[i][5], s.tokens[t]);
    added += tokens[i][9] == "1";
    reps += tokens[i][8] == "1";
    if (tokens[i][9] == "1") {
      EXPECT_EQ(tokens[i][6], "cascade-added");
    }
    EXPECT_EQ(tokens[i][2], std::to_string(s.analysis.layers[l].layer));
  }
  EXPECT_EQ(added, s.analysis.summary.total_adds);
  int64_t r_casc = 0;
  for (const auto& m : s.analysis.layers) r_casc += m.r_casc;
  EXPECT_EQ(reps, r_casc);
  const auto j = nlohmann::json::parse(read(path("s.json")));
  EXPECT_EQ(j["format_version"], cascade::kSessionFormatVersion);
  EXPECT_EQ(j["analysis"]["summary"]["total_adds"], s.analysis.summary.total_adds);
  EXPECT_EQ(j["sweep"].size(), 2u);
}

TEST_F(CliSession, ClearErrors) {
  auto r = run({"run", "--save", path("s.txt"), "--quiet"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(".h5"), std::string::npos) << r.err;
  r = run({"run", "--with-activations", "--quiet"});
  EXPECT_EQ(r.code, 2);
  r = run({"export", path("none.h5"), "--csv", path("x")});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("no such file"), std::string::npos) << r.err;
  std::ofstream(path("text.h5")) << "not hdf5";
  r = run({"export", path("text.h5"), "--csv", path("x")});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("not an HDF5 file"), std::string::npos) << r.err;
  ASSERT_EQ(run({"run", "--save", path("s.h5"), "--taus", "none", "--quiet"}).code, 0);
  r = run({"analyze", path("s.h5"), "--layers", "1:3"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("does not apply to a session"), std::string::npos) << r.err;
  r = run({"export", path("s.h5")});
  EXPECT_EQ(r.code, 2);
}

// compare --save: the run with its comparison; export --json carries it as compare printed it and
// export --csv writes methods.csv; comparing the session again appends a second comparison.
TEST_F(CliSession, CompareSavesItsComparisonAndExportCarriesIt) {
  auto r = run({"compare", "--save", path("s.h5"), "--with-activations", "--taus", "0.2,0.3", "--methods",
                "cascade,random,top-k", "--format", "json", "--out", path("c.json"), "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto c = nlohmann::json::parse(read(path("c.json")));
  const cascade::RunRecord s = cascade::data::read_session(path("s.h5"));
  ASSERT_EQ(s.comparisons.size(), 1u);
  EXPECT_EQ(s.sweep.size(), 2u);  // as run --save stores it
  EXPECT_TRUE(s.has_activations());
  EXPECT_EQ(s.comparisons[0].methods.size(), 3u);
  r = run({"export", path("s.h5"), "--csv", path("csv"), "--json", path("s.json"), "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(read(path("s.json")));
  ASSERT_EQ(j["comparisons"].size(), 1u);
  for (const char* k : {"methods", "order", "tau", "theta", "rule", "nearest", "budget", "seed", "document", "T",
                        "ppl_exact", "notes"})
    EXPECT_EQ(j["comparisons"][0][k], c[k]) << k;
  const auto rows = csv(path("csv/methods.csv"));
  ASSERT_EQ(rows[0], (std::vector<std::string>{"comparison", "tau", "budget", "method", "layer", "r", "coverage",
                                               "covered", "attn_err", "selection_ms", "selection_macs"}));
  const int64_t L = s.num_layers();
  ASSERT_EQ(static_cast<int64_t>(rows.size()), 3 * L + 1);
  EXPECT_EQ(rows[1][0], "0");
  EXPECT_EQ(rows[1][2], "cascade");
  EXPECT_EQ(rows[1][3], "cascade");
  EXPECT_EQ(rows[1][5], std::to_string(s.analysis.layers[0].r_casc));
  EXPECT_EQ(rows[2 * L + 1][3], "top-k");
  EXPECT_EQ(rows[2 * L + 1][6], "");  // an element method has no coverage
  // The session compared again, at another tau and budget: its comparison is kept, one is added.
  r = run({"compare", path("s.h5"), "--save", path("s2.h5"), "--tau", "0.4", "--budget", "count:3", "--methods",
           "recency", "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  const cascade::RunRecord s2 = cascade::data::read_session(path("s2.h5"));
  ASSERT_EQ(s2.comparisons.size(), 2u);
  EXPECT_EQ(s2.comparisons[1].budget, cascade::parse_budget("count:3"));
  EXPECT_EQ(s2.comparisons[1].tau, 0.4);
  EXPECT_EQ(s2.analysis.tau, 0.4);
  EXPECT_EQ(s2.comparisons[0].methods.size(), 3u);
  // A session without comparisons writes no methods.csv, and removes an old one from the folder.
  ASSERT_EQ(run({"run", "--save", path("plain.h5"), "--taus", "none", "--quiet"}).code, 0);
  ASSERT_EQ(run({"export", path("plain.h5"), "--csv", path("csv"), "--json", path("p.json"), "--quiet"}).code, 0);
  EXPECT_FALSE(fs::exists(path("csv/methods.csv")));
  EXPECT_TRUE(nlohmann::json::parse(read(path("p.json")))["comparisons"].empty());
  r = run({"compare", "--with-activations", "--quiet"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--with-activations goes with --save"), std::string::npos) << r.err;
  r = run({"compare", "--save", path("c.txt"), "--quiet"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(".h5"), std::string::npos) << r.err;
}

}  // namespace
