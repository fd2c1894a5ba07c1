// cascadelens-cli end to end: the real binary on files the test writes, including malformed ones.
#include <ATen/ATen.h>
#include <algorithm>
#include <chrono>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_runner.h"
#include "core/analyzer.h"
#include "core/sets.h"
#include "core/synthetic.h"
#include "data/formats/activation_io.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using clitest::Result;

class Cli : public clitest::TempDirTest {
 protected:
  // Synthetic activations written by the CLI itself, small enough to be quick.
  fs::path synth(const std::string& name, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"synth", (dir_ / name).string(), "--layers", "5", "--tokens", "40", "--dim", "16"};
    args.insert(args.end(), extra.begin(), extra.end());
    const Result r = run(args);
    EXPECT_EQ(r.code, 0) << r.err;
    return dir_ / name;
  }
  void write_bytes(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }
};

}  // namespace

namespace {

void expect_bad_input(const Result& r, const fs::path& file, const std::string& phrase) {
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find(file.string()), std::string::npos) << "message must name the file: " << r.err;
  EXPECT_NE(r.err.find(phrase), std::string::npos) << "expected '" << phrase << "' in: " << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
}

}  // namespace

TEST_F(Cli, VersionReportsBlas) {
  const Result r = run({"--version"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("LibTorch"), std::string::npos);
  EXPECT_NE(r.out.find("BLAS"), std::string::npos);
  EXPECT_NE(r.out.find("GFLOP/s"), std::string::npos);
  EXPECT_NE(r.out.find("selection kernels"), std::string::npos) << "--version says what runs the selection on a GPU";
  if (r.out.find("reference BLAS") != std::string::npos) {
    EXPECT_NE(r.err.find("warning"), std::string::npos) << "the reference BLAS must be warned about";
  }
}

TEST_F(Cli, HelpOnEveryCommandAndUsageErrors) {
  for (const std::string cmd : {"analyze", "sweep", "synth"}) {
    const Result r = run({cmd, "--help"});
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_NE(r.out.find("usage: cascadelens-cli " + cmd), std::string::npos) << r.out;
  }
  EXPECT_EQ(run({"--help"}).code, 0);
  EXPECT_EQ(run({}).code, 2);
  EXPECT_EQ(run({"frobnicate"}).code, 2);
  const fs::path f = synth("a.npy");
  EXPECT_EQ(run({"analyze", f.string(), "--bogus"}).code, 2);
  EXPECT_EQ(run({"analyze", f.string(), "--tau", "1.5"}).code, 2);
  EXPECT_EQ(run({"analyze", f.string(), "--tau", "abc"}).code, 2);
  EXPECT_EQ(run({"analyze", f.string(), "--rule", "nearest"}).code, 2);
  EXPECT_EQ(run({"analyze", f.string(), "--format", "xml"}).code, 2);
  EXPECT_EQ(run({"analyze", f.string(), "--layers", "9:"}).code, 2);
  EXPECT_EQ(run({"analyze", f.string(), "--tau"}).code, 2);
  EXPECT_EQ(run({"sweep", f.string(), "--taus", "0.1:0.5"}).code, 2);
}

// The JSON carries every SPEC name and agrees with an in-process analysis of the same file.
TEST_F(Cli, AnalyzeJsonMatchesTheLibrary) {
  const fs::path f = synth("acts.npy");
  const Result r = run({"analyze", f.string(), "--tau", "0.3", "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["T"], 40);
  EXPECT_EQ(j["d"], 16);
  EXPECT_EQ(j["L"], 5);
  EXPECT_DOUBLE_EQ(j["tau"].get<double>(), 0.3);
  EXPECT_EQ(j["rule"], "prior-max");
  ASSERT_EQ(j["tokens"].size(), 40u);
  ASSERT_EQ(j["jaccard_matrix"].size(), 5u);

  cascade::ActivationSet acts = cascade::data::load_activations(f.string());
  cascade::validate(acts);
  const cascade::Analysis ref = cascade::Analyzer(acts).analyze(0.3, cascade::Rule::PriorMax);
  ASSERT_EQ(j["layers"].size(), 5u);
  for (size_t l = 0; l < 5; ++l) {
    const json& m = j["layers"][l];
    for (const char* key : {"layer", "r_ind", "r_casc", "depth_jaccard", "casc_fidelity", "missed", "extra", "adds",
                            "removes", "turnover", "gram_entries_ind", "gram_entries_casc", "reps_ind", "reps_casc",
                            "added", "removed"})
      EXPECT_TRUE(m.contains(key)) << key;
    EXPECT_EQ(m["reps_ind"].get<cascade::TokenSet>(), ref.layers[l].reps_ind);
    EXPECT_EQ(m["reps_casc"].get<cascade::TokenSet>(), ref.layers[l].reps_casc);
    EXPECT_EQ(m["r_ind"].get<size_t>(), m["reps_ind"].size());
    EXPECT_EQ(m["missed"].get<cascade::TokenSet>(),
              cascade::set_difference(m["reps_ind"].get<cascade::TokenSet>(), m["reps_casc"].get<cascade::TokenSet>()));
    EXPECT_EQ(m["gram_entries_ind"], 40 * 40);
    EXPECT_EQ(m["depth_jaccard"].is_null(), l == 4);
    EXPECT_EQ(m["turnover"].is_null(), l == 0);
  }
  EXPECT_NEAR(j["summary"]["gram_savings"].get<double>(), ref.summary.gram_savings, 1e-12);
}

TEST_F(Cli, TableCsvLayersAndOut) {
  const fs::path f = synth("acts.npy");
  const Result table = run({"analyze", f.string()});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_NE(table.out.find("summary: mean depth_jaccard"), std::string::npos);
  EXPECT_NE(table.out.find("gram_savings"), std::string::npos);

  const Result csv = run({"analyze", f.string(), "--format", "csv", "--layers", "1:4"});
  ASSERT_EQ(csv.code, 0) << csv.err;
  std::istringstream lines(csv.out);
  std::string header, row;
  std::getline(lines, header);
  EXPECT_EQ(header,
            "layer,r_ind,r_casc,depth_jaccard,casc_fidelity,missed,extra,adds,removes,turnover,gram_entries_ind,"
            "gram_entries_casc");
  std::vector<std::string> rows;
  while (std::getline(lines, row)) rows.push_back(row);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].substr(0, 2), "1,");
  EXPECT_EQ(rows[2].substr(0, 2), "3,");

  const fs::path out = dir_ / "out.json";
  const Result written = run({"analyze", f.string(), "--format", "json", "--out", out.string()});
  ASSERT_EQ(written.code, 0) << written.err;
  EXPECT_TRUE(written.out.empty());
  std::ifstream in(out);
  EXPECT_EQ(json::parse(in)["L"], 5);
  // A folder or an unwritable place: a clear error, and no temporary left behind.
  EXPECT_EQ(run({"analyze", f.string(), "--out", dir_.string()}).code, 2);
  const Result unwritable = run({"analyze", f.string(), "--out", (dir_ / "no" / "such" / "x.txt").string()});
  EXPECT_EQ(unwritable.code, 1);
  EXPECT_NE(unwritable.err.find("cannot write"), std::string::npos) << unwritable.err;
  EXPECT_FALSE(fs::exists(dir_ / "no"));
}

TEST_F(Cli, SweepFormats) {
  const fs::path f = synth("acts.npy");
  const Result j = run({"sweep", f.string(), "--taus", "0.1:0.3:0.1", "--format", "json"});
  ASSERT_EQ(j.code, 0) << j.err;
  const json parsed = json::parse(j.out);
  ASSERT_EQ(parsed["sweep"].size(), 3u);
  EXPECT_DOUBLE_EQ(parsed["sweep"][2]["tau"].get<double>(), 0.3);
  EXPECT_EQ(parsed["sweep"][0]["layers"].size(), 5u);
  EXPECT_TRUE(parsed["sweep"][0]["layers"][1]["n_missed"].is_number()) << "counts are n_missed in every JSON";
  // Larger τ ⇒ more tokens redundant ⇒ r never grows (prior-max sets are nested in τ).
  EXPECT_GE(parsed["sweep"][0]["summary"]["mean_r_ind"].get<double>(),
            parsed["sweep"][2]["summary"]["mean_r_ind"].get<double>());
  const Result csv = run({"sweep", f.string(), "--taus", "0.1,0.2", "--format", "csv", "--rule", "greedy-cover"});
  ASSERT_EQ(csv.code, 0) << csv.err;
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 3);
  EXPECT_EQ(csv.out.rfind("tau,theta,mean_r_ind", 0), 0u);
}

TEST_F(Cli, AllInputFormatsGiveTheSameAnswer) {
  const fs::path npy = synth("a.npy");
  fs::create_directories(dir_ / "st");
  fs::create_directories(dir_ / "h5");
  const fs::path st = dir_ / "st" / "a.safetensors";
  const fs::path h5 = dir_ / "h5" / "a.h5";
  ASSERT_EQ(run({"synth", st.string(), "--layers", "5", "--tokens", "40", "--dim", "16"}).code, 0);
  ASSERT_EQ(run({"synth", h5.string(), "--layers", "5", "--tokens", "40", "--dim", "16"}).code, 0);
  auto reps = [&](const fs::path& p) {
    const Result r = run({"analyze", p.string(), "--format", "json"});
    EXPECT_EQ(r.code, 0) << r.err;
    return json::parse(r.out)["layers"][3]["reps_casc"].get<cascade::TokenSet>();
  };
  EXPECT_EQ(reps(npy), reps(st));
  EXPECT_EQ(reps(npy), reps(h5));
}

TEST_F(Cli, BundledDefaultRunsWithoutArguments) {
  const Result r = run({"analyze"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("bundled demo"), std::string::npos);
  EXPECT_EQ(run({"analyze", "--quiet"}).err, "") << "--quiet silences the notice";
  EXPECT_NE(r.out.find("summary:"), std::string::npos);
}

TEST_F(Cli, MalformedInputsExitWith3AndNameTheFile) {
  const fs::path garbage = dir_ / "garbage.npy";
  write_bytes(garbage, "this is not a numpy file at all");
  expect_bad_input(run({"analyze", garbage.string()}), garbage, "");

  const fs::path missing = dir_ / "missing.npy";
  expect_bad_input(run({"analyze", missing.string()}), missing, "");

  // A valid header whose data is cut short.
  const fs::path truncated = dir_ / "truncated.npy";
  {
    cascade::data::write_npy(truncated.string(), at::ones({2, 4, 8}));
    const auto size = fs::file_size(truncated);
    fs::resize_file(truncated, size - 10);
  }
  expect_bad_input(run({"analyze", truncated.string()}), truncated, "");

  const fs::path nan = dir_ / "nan.npy";
  at::Tensor bad = at::ones({2, 4, 8});
  bad[1][3][2] = std::nanf("");
  cascade::data::write_npy(nan.string(), bad);
  expect_bad_input(run({"analyze", nan.string()}), nan, "layer 1 token 3 contains a NaN");

  const fs::path empty_t = dir_ / "empty.npy";
  cascade::data::write_npy(empty_t.string(), at::ones({2, 0, 8}));
  expect_bad_input(run({"analyze", empty_t.string()}), empty_t, "T = 0");

  const fs::path rank2 = dir_ / "rank2.npy";
  cascade::data::write_npy(rank2.string(), at::ones({4, 8}));
  expect_bad_input(run({"analyze", rank2.string()}), rank2, "rank");
}

// The engine end to end through the kernel source (its CPU emulation): the bundled demo's run gives
// the same JSON tables as the LibTorch path (timings aside), and a bad CASCADE_KERNELS is a usage error.
TEST_F(Cli, RunThroughTheKernelEmulationGivesTheSameTables) {
  auto tables = [](const std::string& out) {
    json j = json::parse(out);
    j.erase("timings_ms");
    return j;
  };
  const Result plain = run({"run", "--format", "json", "--tau", "0.3"});
  ASSERT_EQ(plain.code, 0) << plain.err;
  setenv("CASCADE_KERNELS", "host-emulation", 1);
  const Result emulated = run({"run", "--format", "json", "--tau", "0.3"});
  setenv("CASCADE_KERNELS", "sometimes", 1);
  const Result bad = run({"run", "--format", "json"});
  unsetenv("CASCADE_KERNELS");
  ASSERT_EQ(emulated.code, 0) << emulated.err;
  const json want = tables(plain.out), got = tables(emulated.out);
  ASSERT_GT(want.at("layers").size(), 1u);
  EXPECT_EQ(got, want);
  EXPECT_EQ(bad.code, 2) << bad.err;
  EXPECT_NE(bad.err.find("CASCADE_KERNELS"), std::string::npos) << bad.err;
}

namespace cascade {
namespace {

// The hostile-input probe's CLI cases (issue: nothing crashes, hangs or misleads on bad input),
// each a clear one-line error with the README's exit code, decided before any long work.
class CliProbe : public clitest::TempDirTest {};

TEST_F(CliProbe, ProbeCasesFailFastWithTheRightCodeAndOneLine) {
  const auto one_line = [](const clitest::Result& r) {
    return !r.err.empty() && r.err.find('\n') == r.err.size() - 1;
  };
  const auto t0 = std::chrono::steady_clock::now();
  // --text-file DIR was "internal error", exit 1.
  auto r = run({"run", "--text-file", dir_.string(), "--quiet"});
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find(dir_.string() + ": is a folder, not a text file"), std::string::npos) << r.err;
  EXPECT_TRUE(one_line(r)) << r.err;
  // --ids outside the vocabulary is bad input (3), as the README says; it was 2.
  r = run({"run", "--ids", "1,99999999", "--quiet"});
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("99999999 is outside the model's vocabulary (0..4095)"), std::string::npos) << r.err;
  // --threads 100000 hung creating the threads.
  r = run({"run", "--threads", "100000", "--quiet"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--threads 100000: this machine has"), std::string::npos) << r.err;
  // --generate 1000000000 ran for minutes before failing on the context: now refused up front.
  r = run({"run", "--generate", "1000000000", "--quiet"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("the model's context is 512, so at most"), std::string::npos) << r.err;
  EXPECT_TRUE(one_line(r)) << r.err;
  // figures printed a Qt warning as its first stderr line: an error is one line now.
  r = run({"figures", (dir_ / "missing.h5").string(), "--out", (dir_ / "figs").string()});
  if (r.err.find("this build has no figures") == std::string::npos) {  // a build without the GUI (sanitize) has none
    EXPECT_EQ(r.code, 3) << r.err;
    EXPECT_TRUE(one_line(r)) << r.err;
    EXPECT_EQ(r.err.rfind("cascadelens-cli figures: ", 0), 0u) << r.err;
  }
  // synth had no size check: 100000³ went to the allocator. Now a budget, raised by --memory-limit.
  r = run({"synth", (dir_ / "x.npy").string(), "--layers", "100000", "--tokens", "100000", "--dim", "100000"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("needs about"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--memory-limit GIB raises it"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "x.npy"));
  r = run({"synth", (dir_ / "y.npy").string(), "--layers", "4", "--tokens", "64", "--dim", "64", "--memory-limit", "0.0001"});
  EXPECT_EQ(r.code, 2) << r.err;  // 4·64·64·12 bytes > 0.0001 GiB
  r = run({"synth", (dir_ / "y.npy").string(), "--layers", "4", "--tokens", "64", "--dim", "64", "--memory-limit", "0.01"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(60));  // each one fails fast
}

// --memory-limit holds every command that reads activations: a file needing more than the budget
// is refused before its tensor is allocated (exit 3, saying how to raise it), and a larger budget reads it.
TEST_F(CliProbe, TheMemoryBudgetHoldsWhatFilesAsk) {
  const std::string npy = (dir_ / "a.npy").string(), h5 = (dir_ / "a.h5").string();
  ASSERT_EQ(run({"synth", npy, "--layers", "4", "--tokens", "64", "--dim", "64"}).code, 0);
  ASSERT_EQ(run({"synth", h5, "--layers", "4", "--tokens", "64", "--dim", "64"}).code, 0);
  for (const std::string& file : {npy, h5}) {
    for (const char* command : {"analyze", "sweep", "compare"}) {
      auto r = run({command, file, "--memory-limit", "0.00001"});  // 10.7 KB < the 64 KiB float32 tensor
      EXPECT_EQ(r.code, 3) << command << " " << file << ": " << r.err;
      EXPECT_NE(r.err.find("more than the memory budget"), std::string::npos) << r.err;
      EXPECT_NE(r.err.find("--memory-limit GIB raises it"), std::string::npos) << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
    EXPECT_EQ(run({"analyze", file, "--memory-limit", "1"}).code, 0) << file;
  }
  const auto r = run({"analyze", npy, "--memory-limit", "-2"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--memory-limit must be > 0"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace cascade
