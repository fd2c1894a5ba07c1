// cascadelens-cli study (SPEC §8) end to end with the bundled demo model: per-document values against
// `run` and `compare` of the same window (an independent path through the engine), the aggregates
// against a direct computation from the per-document table, shards + merge and MPI against one
// process (every value bit for bit), kill-and-resume, refused reruns, and malformed corpus files.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli_runner.h"
#include "data/study/study_file.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A small corpus: three demo texts (one long enough for two windows of 64 tokens).
void write_corpus(const fs::path& dir) {
  fs::create_directories(dir / "sub");
  for (const char* name : {"teaching.txt", "space.txt", "cooking.txt"}) {
    const fs::path to = std::string(name) == "space.txt" ? dir / "sub" / name : dir / name;
    fs::copy_file(fs::path(CASCADE_SOURCE_DIR) / "data/demo/texts" / name, to);
  }
}

const std::vector<std::string> kSmall = {"--max-tokens", "64", "--taus", "0.3,0.5", "--methods", "cascade,random,h2o,kmeans",
                                         "--resamples", "500", "--quiet"};

std::vector<std::string> study_args(const fs::path& corpus, const fs::path& out, std::vector<std::string> extra = {}) {
  std::vector<std::string> a{"study", corpus.string(), "--out", out.string()};
  a.insert(a.end(), kSmall.begin(), kSmall.end());
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

bool same_bits(double a, double b) { return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b) || (std::isnan(a) && std::isnan(b)); }

// Every result of two study files equal bit for bit (not the timings, which are wall time).
void expect_same_study(const fs::path& a_path, const fs::path& b_path) {
  cascade::study::Aggregates aa, ba;
  const auto a = cascade::data::read_study(a_path.string(), &aa);
  const auto b = cascade::data::read_study(b_path.string(), &ba);
  EXPECT_EQ(a.params.items, b.params.items);
  ASSERT_EQ(a.documents.size(), b.documents.size());
  for (size_t d = 0; d < a.documents.size(); ++d) {
    EXPECT_EQ(a.documents[d].id, b.documents[d].id);
    EXPECT_EQ(a.documents[d].ids, b.documents[d].ids);
    EXPECT_EQ(a.documents[d].index, b.documents[d].index);
  }
  ASSERT_EQ(a.arrays.size(), b.arrays.size());
  for (size_t i = 0; i < a.arrays.size(); ++i) {
    ASSERT_EQ(a.arrays[i].name, b.arrays[i].name);
    ASSERT_EQ(a.arrays[i].values.size(), b.arrays[i].values.size());
    for (size_t k = 0; k < a.arrays[i].values.size(); ++k)
      ASSERT_TRUE(same_bits(a.arrays[i].values[k], b.arrays[i].values[k])) << a.arrays[i].name << " at " << k;
  }
  ASSERT_EQ(a.failures.size(), b.failures.size());
  ASSERT_EQ(aa.arrays.size(), ba.arrays.size());
  for (size_t i = 0; i < aa.arrays.size(); ++i)
    for (size_t c = 0; c < aa.arrays[i].cells.size(); ++c) {
      const auto &x = aa.arrays[i].cells[c], &y = ba.arrays[i].cells[c];
      EXPECT_EQ(x.n, y.n);
      EXPECT_TRUE(same_bits(x.mean, y.mean) && same_bits(x.sd, y.sd) && same_bits(x.ci95[0], y.ci95[0]) &&
                  same_bits(x.ci95[1], y.ci95[1]))
          << aa.arrays[i].name;
    }
  ASSERT_EQ(aa.paired.size(), ba.paired.size());
  for (size_t i = 0; i < aa.paired.size(); ++i)
    EXPECT_TRUE(same_bits(aa.paired[i].result.wilcoxon.p, ba.paired[i].result.wilcoxon.p));
}

class CliStudy : public clitest::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    corpus_ = dir_ / "corpus";
    write_corpus(corpus_);
  }
  json show(const fs::path& file, std::vector<std::string> extra = {}) {
    std::vector<std::string> a{"study", "show", file.string(), "--format", "json"};
    a.insert(a.end(), extra.begin(), extra.end());
    const auto r = run(a);
    EXPECT_EQ(r.code, 0) << r.err;
    return json::parse(r.out);
  }
  json cli_json(std::vector<std::string> args) {
    args.insert(args.end(), {"--format", "json", "--quiet"});
    const auto r = run(args);
    EXPECT_EQ(r.code, 0) << r.err;
    return json::parse(r.out);
  }
  fs::path corpus_;
};

int committed_lines(const fs::path& journal) {
  std::ifstream in(journal);
  int n = 0;
  for (std::string line; std::getline(in, line);) n += line.rfind("{\"document\"", 0) == 0;
  return n;
}

std::string ids_text(const json& ids) {
  std::string s;
  for (const auto& id : ids) s += (s.empty() ? "" : ",") + std::to_string(id.get<int64_t>());
  return s;
}

}  // namespace

// Each document's measures at every τ, its ADA quality and its deterministic methods equal what
// `run --ids` and `compare --ids` report for the same window.
TEST_F(CliStudy, PerDocumentValuesEqualRunForTheSameWindow) {
  const auto r = run(study_args(corpus_, dir_ / "s.h5"));
  ASSERT_EQ(r.code, 0) << r.err;
  const json s = show(dir_ / "s.h5");
  ASSERT_GE(s["documents"].size(), 4u);  // teaching.txt makes two windows of 64
  for (const double tau : {0.3, 0.5}) {
    const json st = tau == 0.3 ? s : show(dir_ / "s.h5", {"--tau", "0.5"});
    for (size_t d = 0; d < 2; ++d) {
      const json& doc = st["documents"][d];
      SCOPED_TRACE(doc["source"].get<std::string>() + " tau " + std::to_string(tau));
      EXPECT_EQ(doc["T"].get<size_t>(), doc["ids"].size());
      const json ref = cli_json({"run", "--ids", ids_text(doc["ids"]), "--tau", std::to_string(tau)});
      ASSERT_EQ(ref["layers"].size(), doc["layers"].size());
      for (size_t l = 0; l < ref["layers"].size(); ++l)
        for (const char* key : {"layer", "r_ind", "r_casc", "depth_jaccard", "casc_fidelity", "n_missed", "n_extra", "adds",
                                "removes", "turnover", "gram_entries_ind", "gram_entries_casc", "compression_casc"})
          EXPECT_EQ(doc["layers"][l][key], ref["layers"][l][key]) << key << " layer " << l;
      EXPECT_EQ(doc["summary"]["gram_savings"], ref["summary"]["gram_savings"]);
      for (const char* mode : {"ada-cascade", "ada-independent"}) {
        const json q = cli_json({"run", "--ids", ids_text(doc["ids"]), "--tau", std::to_string(tau), "--attention", mode, "--ppl"});
        const json& mine = doc["quality"][mode];
        EXPECT_EQ(mine["ppl_exact"], q["quality"]["ppl_exact"]) << mode;
        EXPECT_EQ(mine["ppl_ada"], q["quality"]["ppl_ada"]) << mode;
        EXPECT_EQ(mine["kl"], q["quality"]["mean_kl"]) << mode;
        double sum = 0;
        int n = 0;
        for (const auto& layer : q["quality"]["attention_error"])
          for (const auto& head : layer) sum += head.get<double>(), ++n;
        EXPECT_NEAR(mine["attn_err"].get<double>(), sum / n, 1e-12) << mode;
      }
    }
  }
  // The methods at the first τ: cascade, h2o and kmeans's per-layer sizes and attention errors as
  // compare reports them (random and kmeans seed per document, so only their sizes are compared).
  const json& doc = s["documents"][0];
  const json c = cli_json({"compare", "--ids", ids_text(doc["ids"]), "--methods", "cascade,random,h2o,kmeans", "--tau", "0.3"});
  for (const char* m : {"cascade", "h2o", "random", "kmeans"}) {
    const json& mine = doc["methods"][m];
    const json& ref = c["methods"][m]["layers"];
    ASSERT_EQ(mine["r"].size(), ref.size());
    for (size_t l = 0; l < ref.size(); ++l) {
      EXPECT_EQ(mine["r"][l], ref[l]["r"]) << m;
      if (std::string(m) == "cascade" || std::string(m) == "h2o") {
        EXPECT_EQ(mine["attn_err"][l], ref[l]["attn_err"]) << m << " layer " << l;
        EXPECT_EQ(mine["coverage"][l], ref[l]["coverage"]) << m << " layer " << l;
      }
    }
  }
}

// The aggregates are those of the per-document table: n, mean, sd (n − 1), median and quantiles
// (linear interpolation), min and max computed here from the documents' values; the CI holds the mean.
TEST_F(CliStudy, AggregatesEqualADirectComputationFromTheDocuments) {
  ASSERT_EQ(run(study_args(corpus_, dir_ / "s.h5")).code, 0);
  const json s = show(dir_ / "s.h5");
  const auto quantile = [](std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    const double h = (static_cast<double>(v.size()) - 1) * q;
    const auto lo = static_cast<size_t>(std::floor(h));
    return lo + 1 < v.size() ? v[lo] + (h - static_cast<double>(lo)) * (v[lo + 1] - v[lo]) : v[lo];
  };
  for (size_t l = 0; l < s["layers"].size(); ++l)
    for (const char* m : {"r_casc_over_T", "depth_jaccard", "casc_fidelity", "turnover", "adds"}) {
      std::vector<double> v;
      for (const auto& doc : s["documents"])
        if (!doc["layers"][l][m].is_null()) v.push_back(doc["layers"][l][m].get<double>());
      const json& agg = s["aggregates"]["layers"][l][m];
      SCOPED_TRACE(std::string(m) + " layer " + std::to_string(l));
      ASSERT_EQ(agg["n"].get<size_t>(), v.size());
      if (v.empty()) continue;
      double mean = 0;
      for (double x : v) mean += x;
      mean /= static_cast<double>(v.size());
      EXPECT_NEAR(agg["mean"].get<double>(), mean, 1e-12);
      if (v.size() > 1) {
        double ss = 0;
        for (double x : v) ss += (x - mean) * (x - mean);
        EXPECT_NEAR(agg["sd"].get<double>(), std::sqrt(ss / static_cast<double>(v.size() - 1)), 1e-12);
      }
      EXPECT_NEAR(agg["median"].get<double>(), quantile(v, 0.5), 1e-12);
      EXPECT_NEAR(agg["q25"].get<double>(), quantile(v, 0.25), 1e-12);
      EXPECT_NEAR(agg["q75"].get<double>(), quantile(v, 0.75), 1e-12);
      EXPECT_EQ(agg["min"].get<double>(), *std::min_element(v.begin(), v.end()));
      EXPECT_EQ(agg["max"].get<double>(), *std::max_element(v.begin(), v.end()));
      EXPECT_LE(agg["ci95"][0].get<double>(), mean + 1e-12);
      EXPECT_GE(agg["ci95"][1].get<double>(), mean - 1e-12);
    }
  // The summary, per document, and the paired rows: cascade vs independent on delta_ppl.
  std::vector<double> savings;
  for (const auto& doc : s["documents"]) savings.push_back(doc["summary"]["gram_savings"].get<double>());
  EXPECT_EQ(s["aggregates"]["summary"]["gram_savings"]["n"].get<size_t>(), savings.size());
  bool found = false;
  for (const auto& p : s["paired"])
    if (p["quantity"] == "delta_ppl" && p["a"] == "ada-cascade" && p["b"] == "ada-independent" && p["tau"] == 0.3) {
      found = true;
      double diff = 0;
      int64_t lower = 0;
      for (const auto& doc : s["documents"]) {
        const double a = doc["quality"]["ada-cascade"]["delta_ppl"], b = doc["quality"]["ada-independent"]["delta_ppl"];
        diff += a - b;
        lower += a < b;
      }
      EXPECT_NEAR(p["mean_diff"].get<double>(), diff / static_cast<double>(s["documents"].size()), 1e-12);
      EXPECT_EQ(p["a_lower"].get<int64_t>(), lower);
    }
  EXPECT_TRUE(found);
}

// SPEC §8 sharding: three shards merged, in any order, are the one-process file bit for bit.
TEST_F(CliStudy, ShardsAndMergeEqualOneProcess) {
  ASSERT_EQ(run(study_args(corpus_, dir_ / "one.h5")).code, 0);
  for (int i = 0; i < 3; ++i) {
    const auto r = run(study_args(corpus_, dir_ / ("s" + std::to_string(i) + ".h5"), {"--shard", std::to_string(i) + "/3"}));
    ASSERT_EQ(r.code, 0) << r.err;
  }
  auto merge = [&](const char* out, std::vector<int> order) {
    std::vector<std::string> a{"study", "merge", (dir_ / out).string()};
    for (int i : order) a.push_back((dir_ / ("s" + std::to_string(i) + ".h5")).string());
    const auto r = run(a);
    ASSERT_EQ(r.code, 0) << r.err;
  };
  merge("m1.h5", {2, 0, 1});
  merge("m2.h5", {0, 1, 2});
  expect_same_study(dir_ / "one.h5", dir_ / "m1.h5");
  expect_same_study(dir_ / "m1.h5", dir_ / "m2.h5");
  // A shard of another study is refused, naming the difference.
  ASSERT_EQ(run(study_args(corpus_, dir_ / "other.h5", {"--shard", "0/3", "--seed", "7"})).code, 0);
  const auto r = run({"study", "merge", (dir_ / "bad.h5").string(), (dir_ / "s1.h5").string(), (dir_ / "other.h5").string()});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("seed"), std::string::npos) << r.err;
}

// mpirun -np 2 deals the documents over two ranks; rank 0 writes the one-process file.
TEST_F(CliStudy, MpiTwoRanksEqualOneProcess) {
  if (std::system("command -v mpirun >/dev/null 2>&1") != 0) GTEST_SKIP() << "mpirun is not installed (Debian: openmpi-bin)";
  // OpenBLAS's results depend on its thread count (mpirun binds each rank to one core): the same
  // --threads in both runs.
  ASSERT_EQ(run(study_args(corpus_, dir_ / "one.h5", {"--threads", "1"})).code, 0);
  std::string cmd = "mpirun -np 2 --allow-run-as-root --oversubscribe '" + std::string(CASCADE_CLI) + "'";
  for (const auto& a : study_args(corpus_, dir_ / "mpi.h5", {"--threads", "1"})) cmd += " '" + a + "'";
  cmd += " > '" + (dir_ / "mpi.log").string() + "' 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream log(dir_ / "mpi.log");
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  if (text.find("built without MPI") != std::string::npos) GTEST_SKIP() << "this build has CASCADE_MPI=OFF";
  ASSERT_EQ(status, 0) << text;
  expect_same_study(dir_ / "one.h5", dir_ / "mpi.h5");

  // Rank 1 killed mid-study: mpirun reports it, the committed documents stay in the journal, and the
  // rerun names what rank 1 had in flight and ends with the one-process file.
  const fs::path out = dir_ / "dead.h5";
  std::string launch = "mpirun -np 2 --allow-run-as-root --oversubscribe '" + std::string(CASCADE_CLI) + "'";
  for (const auto& a : study_args(corpus_, out, {"--threads", "1"})) launch += " '" + a + "'";
  launch += " > '" + (dir_ / "dead.log").string() + "' 2>&1";
  std::thread job([&] { std::system(launch.c_str()); });
  const auto start = std::chrono::steady_clock::now();
  bool killed = false;
  while (!killed && std::chrono::steady_clock::now() - start < std::chrono::seconds(60)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (committed_lines(dir_ / "dead.h5.journal") < 1) continue;
    for (const auto& proc : fs::directory_iterator("/proc")) {  // the process whose rank is 1
      std::ifstream env(proc.path() / "environ");
      const std::string e((std::istreambuf_iterator<char>(env)), std::istreambuf_iterator<char>());
      std::ifstream cmd(proc.path() / "cmdline");
      const std::string c((std::istreambuf_iterator<char>(cmd)), std::istreambuf_iterator<char>());
      if (c.find(out.string()) != std::string::npos && c.find("mpirun") == std::string::npos &&
          e.find(std::string("OMPI_COMM_WORLD_RANK=1") + '\0') != std::string::npos)
        killed = ::kill(std::stoi(proc.path().filename().string()), SIGKILL) == 0;
    }
  }
  job.join();
  ASSERT_TRUE(killed) << "rank 1 was not found (or the study ended first)";
  std::ifstream dead_log(dir_ / "dead.log");
  const std::string dead((std::istreambuf_iterator<char>(dead_log)), std::istreambuf_iterator<char>());
  EXPECT_NE(dead.find("rank 1"), std::string::npos) << dead;
  auto args = study_args(corpus_, out, {"--threads", "1"});
  args.erase(std::find(args.begin(), args.end(), "--quiet"));
  const auto r = run(args);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("in flight on rank 1"), std::string::npos) << r.err;
  expect_same_study(dir_ / "one.h5", out);
}

// Kill -9 after two documents are committed: the rerun continues, and the result is the one-shot
// file (nothing lost, nothing counted twice). Ctrl-C (SIGINT) stops with 130 and keeps what was done.
TEST_F(CliStudy, KillAndResumeLosesNothingAndDuplicatesNothing) {
  ASSERT_EQ(run(study_args(corpus_, dir_ / "one.h5")).code, 0);
  const fs::path out = dir_ / "k.h5", journal = dir_ / "k.h5.journal";
  for (const int sig : {SIGKILL, SIGINT}) {
    SCOPED_TRACE(sig == SIGKILL ? "SIGKILL" : "SIGINT");
    const auto args = study_args(corpus_, out);
    const int before = committed_lines(journal);
    const pid_t pid = fork();
    if (pid == 0) {
      std::vector<char*> argv{const_cast<char*>(CASCADE_CLI)};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      freopen("/dev/null", "w", stdout);
      setenv("CASCADE_STUDY_CHECKPOINT_SECONDS", "0", 1);  // S.h5 rewritten after every document
      execv(CASCADE_CLI, argv.data());
      _exit(127);
    }
    // Wait (bounded) until the journal holds one more committed document.
    const auto committed = [&] { return committed_lines(journal); };
    const auto start = std::chrono::steady_clock::now();
    const int want = before + 1;
    while ((committed() < want || !fs::exists(out)) && std::chrono::steady_clock::now() - start < std::chrono::seconds(60))
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    kill(pid, sig);
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) GTEST_SKIP() << "the study finished before the signal";
    if (sig == SIGINT) {
      EXPECT_EQ(WEXITSTATUS(status), 130);
    }
    ASSERT_GE(committed(), want);
    // What was written so far can be looked at: the in-progress file's aggregates are computed.
    const auto partial = run({"study", "show", out.string(), "--format", "json"});
    ASSERT_EQ(partial.code, 0) << partial.err;
    EXPECT_GE(json::parse(partial.out)["documents"].size(), 1u);
    EXPECT_FALSE(json::parse(partial.out)["aggregates"]["summary"].empty());
  }
  const auto r = run(study_args(corpus_, out));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(fs::exists(journal)) << "a finished study needs no journal";
  expect_same_study(dir_ / "one.h5", out);
}

// A rerun with other arguments into the same file is refused, naming the difference; the same
// arguments after completion change nothing.
TEST_F(CliStudy, RerunWithOtherArgumentsIsRefused) {
  ASSERT_EQ(run(study_args(corpus_, dir_ / "s.h5")).code, 0);
  const auto r = run(study_args(corpus_, dir_ / "s.h5", {"--budget", "ratio:0.25"}));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("budget"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ratio:0.25"), std::string::npos) << r.err;
  const auto again = run(study_args(corpus_, dir_ / "s.h5"));
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(show(dir_ / "s.h5")["documents"].size(), show(dir_ / "s.h5")["documents"].size());
}

// Invalid UTF-8, an empty file, a JSONL line without the field, a line that is not JSON and a huge
// line are each reported with the reason; the other texts are studied.
TEST_F(CliStudy, MalformedCorpusFilesAreReportedAndTheRestContinue) {
  std::ofstream(corpus_ / "bad.txt", std::ios::binary) << "Hello \xff\xfe world, this is not UTF-8 at all.";
  std::ofstream(corpus_ / "empty.txt") << "";
  auto r = run(study_args(corpus_, dir_ / "f.h5", {"--methods", "none", "--quality", "none"}));
  ASSERT_EQ(r.code, 0) << r.err;
  json s = show(dir_ / "f.h5");
  std::map<std::string, std::string> why;
  for (const auto& f : s["failures"]) why[f["source"]] = f["why"];
  EXPECT_NE(why["bad.txt"].find("not UTF-8 (byte 6)"), std::string::npos) << s["failures"].dump();
  EXPECT_NE(why["empty.txt"].find("empty"), std::string::npos);
  EXPECT_GE(s["documents"].size(), 4u);

  const std::string text = "The cat sat on the mat and looked at the bird in the tree outside the window all day.";
  std::ofstream(dir_ / "c.jsonl") << json{{"text", text}}.dump() << "\n"
                                  << json{{"body", text}}.dump() << "\n"
                                  << "{not json\n"
                                  << json{{"text", std::string(3000, 'a')}}.dump() << "\n"
                                  << json{{"text", text + " Again."}}.dump() << "\n";
  r = run({"study", (dir_ / "c.jsonl").string(), "--out", (dir_ / "j.h5").string(), "--max-tokens", "64", "--min-tokens", "8",
           "--max-bytes", "2000", "--methods", "none", "--quality", "none", "--resamples", "200", "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  s = show(dir_ / "j.h5");
  why.clear();
  for (const auto& f : s["failures"]) why[f["source"]] = f["why"];
  EXPECT_NE(why["c.jsonl:2"].find("no string member \"text\""), std::string::npos) << s["failures"].dump();
  EXPECT_NE(why["c.jsonl:3"].find("not JSON"), std::string::npos);
  EXPECT_NE(why["c.jsonl:4"].find("over the limit"), std::string::npos);
  ASSERT_EQ(s["documents"].size(), 2u);
  EXPECT_EQ(s["documents"][0]["source"], "c.jsonl:1");
  EXPECT_EQ(s["documents"][1]["source"], "c.jsonl:5");
}

TEST_F(CliStudy, BadOptionsAreUsageErrors) {
  for (const auto& extra : std::vector<std::vector<std::string>>{
           {"--shard", "3/2"}, {"--quality", "exact"}, {"--methods", "nope"}, {"--taus", "2"}, {"--budget", "ratio:7"},
           {"--max-tokens", "1024"}}) {  // the demo model's context is 512
    const auto r = run(study_args(corpus_, dir_ / "x.h5", extra));
    EXPECT_EQ(r.code, 2) << extra[0] << " " << extra[1] << ": " << r.err;
  }
  EXPECT_EQ(run({"study", (dir_ / "missing").string(), "--quiet"}).code, 3);
  EXPECT_EQ(run({"study", "show", (corpus_ / "teaching.txt").string()}).code, 3);
}

// --sessions DIR: every document is also a session (<id>.h5) that `analyze` reopens without the
// model, with the document's measures.
TEST_F(CliStudy, PerDocumentSessionsReopen) {
  const auto r = run(study_args(corpus_, dir_ / "s.h5", {"--sessions", (dir_ / "sessions").string(), "--limit", "2"}));
  ASSERT_EQ(r.code, 0) << r.err;
  const json s = show(dir_ / "s.h5");
  ASSERT_EQ(s["documents"].size(), 2u);
  for (const auto& doc : s["documents"]) {
    const fs::path session = dir_ / "sessions" / (doc["id"].get<std::string>() + ".h5");
    ASSERT_TRUE(fs::exists(session)) << session;
    const json a = cli_json({"analyze", session.string(), "--tau", "0.3"});
    ASSERT_EQ(a["layers"].size(), doc["layers"].size());
    for (size_t l = 0; l < a["layers"].size(); ++l)
      for (const char* key : {"r_ind", "r_casc", "casc_fidelity", "turnover"})
        EXPECT_EQ(a["layers"][l][key], doc["layers"][l][key]) << key;
  }
}
