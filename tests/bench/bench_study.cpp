// bench_study: what a study costs (run by hand, never by CTest; RESULTS.md §11 comes from here).
//
//   bench_study [--docs 4] [--gpt2-docs 2] [--gpt2-full-docs 0] [--merge-docs 1000] [--reps 3]
//               [--dir /tmp] [--cli build/app/cascadelens-cli] [--threads N]
//
// 1. documents/s of data::run_document for the bundled demo model (windows of T = 256 and 512) and a
//    GPT-2-124M-shaped model with random weights (T = 512, the demo tokenizer's ids, all < 4096),
//    for three configs: the analysis alone, + the quality of both ADA modes, + every SPEC §7 method
//    (the CLI's default study). The GPT-2 shape's full study takes ~4 minutes a document on 2 cores
//    (a forward per method): it runs only with --gpt2-full-docs N.
// 2. The study's overhead over the bare forwards (analysis only): doc i's bare model.forward, then
//    doc i's run_document, all documents, --reps times; medians per document. Then the rest of the
//    study's machinery — study::append + StudyJournal::commit (fsync) per document, and the final
//    canonicalize + aggregate (B = 10000) + write_study — against the same bare forwards.
// 3. `study merge` of 100 shard files: --merge-docs documents (copies of the demo's real results
//    under new ids and indexes), shard k = index % 100; the CLI timed end to end, and the same steps
//    in-process, one by one.
// Every ratio is between numbers of the same run: the machine is shared and its speed drifts.
#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "bench_models_common.h"
#include "core/methods.h"
#include "core/model.h"
#include "core/study.h"
#include "core/version.h"
#include "core/weights.h"
#include "data/hf/model_source.h"
#include "data/study/corpus.h"
#include "data/study/study_file.h"
#include "data/study/study_runner.h"
#include "data/tokenizers/tokenizer_loader.h"

namespace fs = std::filesystem;
using namespace cascade;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

template <class F>
double time_ms(F&& f) {
  const auto t0 = Clock::now();
  f();
  return ms_since(t0);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double sum(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

std::string corpus_list() { return data::bundled_corpus_dir() + "/default.list"; }

enum class Work { Analysis, Quality, Methods };
const char* label(Work w) {
  return w == Work::Analysis ? "analysis only" : w == Work::Quality ? "+ quality (ada-cascade, ada-independent)"
                                                                    : "+ methods (all, budget cascade)";
}

// The CLI's study config (τ = 0.3, prior-max, paper, seed 0, B = 10000) but for what `w` measures:
// --quality none --methods none, then the quality, then the quality and every method (the default).
data::StudyConfig config_of(Work w, int64_t T) {
  data::StudyConfig c;
  c.corpus.path = corpus_list();
  c.corpus.max_tokens = T;
  c.taus = {0.3};
  if (w != Work::Analysis) c.quality = {AttentionMode::AdaCascade, AttentionMode::AdaIndependent};
  if (w == Work::Methods) c.methods = all_methods();
  return c;
}

// The bundled corpus's first `n` windows of T tokens, tokenized with the demo tokenizer (the GPT-2
// shape runs the same ids: they are < 4096, valid in its 50257-token vocabulary).
std::vector<study::Document> windows(const data::LoadedModel& demo, int64_t T, int64_t n) {
  data::CorpusOptions o = config_of(Work::Analysis, T).corpus;
  o.limit = n;
  return data::read_corpus(o, *demo.tokenizer, data::tokenizer_identity(demo.dir)).documents;
}

struct Subject {
  std::string name;
  const data::LoadedModel* model;
  int64_t T;
  std::vector<study::Document> docs;
};

// Section 2's measurements of one subject; section 1 takes its analysis-only documents/s from them
// (the medians of the interleaved runs) rather than spend another pass.
struct Overhead {
  std::vector<double> bare, study, journal;  // per document: medians over the reps
  double finish_ms = 0;                      // canonicalize + aggregate + write_study, once
  std::vector<study::DocumentResult> results;
};

Overhead overhead(const Subject& s, int reps, const std::string& dir) {
  const data::StudyConfig config = config_of(Work::Analysis, s.T);
  const study::Params params = data::study_params(config, *s.model, data::tokenizer_identity(s.model->dir));
  const size_t n = s.docs.size();
  std::vector<std::vector<double>> bare(n), run(n), journal(n);
  Overhead out;
  for (int rep = 0; rep < reps; ++rep) {
    // Each rep a fresh study and journal: append and commit as the CLI does after every document.
    const std::string path = dir + "/bench_study_overhead.h5";
    fs::remove(path + ".journal");
    study::Study st = data::empty_study(config, params, s.model->config.num_layers);
    data::StudyJournal j(path + ".journal", params);
    for (size_t i = 0; i < n; ++i) {
      const study::Document& d = s.docs[i];
      const at::Tensor ids = at::tensor(d.ids, at::kLong);
      bare[i].push_back(time_ms([&] { s.model->model->forward(ids, nullptr, nullptr); }));
      study::DocumentResult r;
      run[i].push_back(time_ms([&] { r = data::run_document(*s.model, config, d); }));
      journal[i].push_back(time_ms([&] {
        study::append(st, r);
        j.commit(r);
      }));
      if (rep == 0) out.results.push_back(std::move(r));
    }
    if (rep == 0) {
      out.finish_ms = time_ms([&] {
        study::canonicalize(st);
        data::write_study(path, st, study::aggregate(st));
      });
      fs::remove(path);
    }
    j.remove();
  }
  for (size_t i = 0; i < n; ++i) {
    out.bare.push_back(median(bare[i]));
    out.study.push_back(median(run[i]));
    out.journal.push_back(median(journal[i]));
  }
  return out;
}

double run_all(const Subject& s, Work w, size_t n) {
  const data::StudyConfig config = config_of(w, s.T);
  return time_ms([&] {
    for (size_t i = 0; i < n && i < s.docs.size(); ++i) data::run_document(*s.model, config, s.docs[i]);
  });
}

// Section 3: `count` documents from the real `results` (copied under new ids and indexes), written
// as 100 shard files the way `study --shard k/100` writes them.
std::vector<std::string> write_shards(const data::LoadedModel& demo, const std::vector<study::DocumentResult>& results,
                                      int64_t count, const std::string& dir) {
  const data::StudyConfig config = config_of(Work::Analysis, 256);
  const std::string tokenizer_id = data::tokenizer_identity(demo.dir);
  const study::Params params = data::study_params(config, demo, tokenizer_id);
  constexpr int64_t kShards = 100;
  std::vector<study::Study> shards;
  for (int64_t k = 0; k < kShards; ++k) {
    shards.push_back(data::empty_study(config, params, demo.config.num_layers));
    shards.back().params.set("shard", std::to_string(k) + "/" + std::to_string(kShards));
  }
  for (int64_t k = 0; k < count; ++k) {
    study::DocumentResult r = results[static_cast<size_t>(k) % results.size()];
    r.document.index = k;
    r.document.id = data::document_id(r.document.source + "#copy", k, r.document.T, tokenizer_id);
    study::append(shards[static_cast<size_t>(k % kShards)], r);
  }
  std::vector<std::string> paths;
  fs::create_directories(dir);
  for (int64_t k = 0; k < kShards; ++k) {
    paths.push_back(dir + "/shard" + std::to_string(k) + ".h5");
    data::write_study(paths.back(), shards[static_cast<size_t>(k)], study::aggregate(shards[static_cast<size_t>(k)]));
  }
  return paths;
}

double run_command(const std::string& command) {
  return time_ms([&] {
    if (std::system(command.c_str()) != 0) std::fprintf(stderr, "bench_study: failed: %s\n", command.c_str());
  });
}

}  // namespace

int main(int argc, char** argv) {
  int64_t demo_docs = 4, gpt2_docs = 2, gpt2_full_docs = 0, merge_docs = 1000;
  int reps = 3, threads = 0;
  std::string dir = "/tmp", cli = "/work/wt-bench/build/app/cascadelens-cli";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--docs") demo_docs = std::atol(v.c_str());
    else if (a == "--gpt2-docs") gpt2_docs = std::atol(v.c_str());
    else if (a == "--gpt2-full-docs") gpt2_full_docs = std::atol(v.c_str());
    else if (a == "--merge-docs") merge_docs = std::atol(v.c_str());
    else if (a == "--reps") reps = std::atoi(v.c_str());
    else if (a == "--dir") dir = v;
    else if (a == "--cli") cli = v;
    else if (a == "--threads") threads = std::atoi(v.c_str());
    else {
      std::fprintf(stderr, "bench_study: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (threads > 0) set_compute_threads(threads);
  const auto start = Clock::now();
  const BlasInfo blas = detect_blas();

  data::ModelRequest request;  // empty spec: the bundled demo model
  const data::LoadedModel demo = data::load_model(request);
  data::LoadedModel gpt2;
  gpt2.config = bench::gpt2_124m_like("gpt2");
  gpt2.model = make_model(gpt2.config, RandomWeights(7), at::kCPU, at::kFloat);
  gpt2.dir = demo.dir;  // its tokenizer (and identity) is the demo's
  gpt2.tokenizer = data::load_tokenizer(demo.dir, "gpt2");

  const int64_t most = std::max(gpt2_docs, gpt2_full_docs);
  const std::vector<Subject> subjects = {
      {"demo (6 × 256)", &demo, 256, windows(demo, 256, demo_docs)},
      {"demo (6 × 256)", &demo, 512, windows(demo, 512, demo_docs)},
      {"GPT-2-124M random (12 × 768)", &gpt2, 512, windows(demo, 512, most)},
  };
  std::printf("# bench_study — data::run_document on the CPU, τ = 0.3, prior-max, B = 10000\n\n");
  std::printf("- BLAS: %s, sgemm 512^3 %.0f GFLOP/s; LibTorch %s, %d intra-op threads; demo dtype %s\n\n",
              blas.name.c_str(), blas.sgemm_gflops, torch_version().c_str(), blas.threads, to_string(demo.dtype).c_str());

  // Warm-up: the first forward of each model allocates its buffers.
  for (const Subject& s : subjects) data::run_document(*s.model, config_of(Work::Analysis, s.T), s.docs[0]);

  std::vector<Overhead> over;
  for (const Subject& s : subjects) {
    Subject head = s;
    if (s.model == &gpt2) head.docs.resize(std::min<size_t>(head.docs.size(), static_cast<size_t>(gpt2_docs)));
    over.push_back(overhead(head, reps, dir));
  }

  std::printf("## 1. Documents/s\n\n");
  std::printf("| model | T | config | documents | ms / document | documents/s | × analysis only |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (size_t k = 0; k < subjects.size(); ++k) {
    const Subject& s = subjects[k];
    const size_t n_head = over[k].study.size();
    const double analysis = sum(over[k].study) / static_cast<double>(n_head);
    std::printf("| %s | %lld | %s | %zu (median of %d) | %.0f | %.2f | 1.00 |\n", s.name.c_str(),
                static_cast<long long>(s.T), label(Work::Analysis), n_head, reps, analysis, 1000.0 / analysis);
    for (Work w : {Work::Quality, Work::Methods}) {
      // The GPT-2 shape's full study runs a forward per method and mode: fewer documents.
      const size_t n = std::min(s.docs.size(), static_cast<size_t>(s.model == &gpt2 && w == Work::Methods ? gpt2_full_docs
                                                                                                            : static_cast<int64_t>(s.docs.size())));
      if (n == 0) {
        std::printf("| %s | %lld | %s | 0 | (--gpt2-full-docs 0) | | |\n", s.name.c_str(), static_cast<long long>(s.T), label(w));
        continue;
      }
      const double per = run_all(s, w, n) / static_cast<double>(n);
      std::printf("| %s | %lld | %s | %zu | %.0f | %.2f | %.2f |\n", s.name.c_str(), static_cast<long long>(s.T), label(w),
                  n, per, 1000.0 / per, per / analysis);
      std::fflush(stdout);
    }
  }

  std::printf("\n## 2. Overhead over the bare forwards (analysis only; per document the median of %d interleaved reps)\n\n", reps);
  std::printf("| model | T | documents | bare forwards ms | study ms | study / bare | (study − bare) / bare |"
              " append + journal ms / doc | append + journal / bare | canonicalize + aggregate + write_study ms (once) |"
              " machinery / bare |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (size_t k = 0; k < subjects.size(); ++k) {
    const Overhead& o = over[k];
    const double bare = sum(o.bare), run = sum(o.study), journal = sum(o.journal);
    const auto n = static_cast<double>(o.bare.size());
    std::printf("| %s | %lld | %zu | %.0f | %.0f | %.2f | %+.0f%% | %.2f | %.1f%% | %.0f | %.1f%% |\n", subjects[k].name.c_str(),
                static_cast<long long>(subjects[k].T), o.bare.size(), bare, run, run / bare, 100.0 * (run - bare) / bare,
                journal / n, 100.0 * journal / bare, o.finish_ms, 100.0 * (journal + o.finish_ms) / bare);
  }

  std::printf("\n## 3. study merge of 100 shard files (%lld documents, demo T = 256, analysis only)\n\n",
              static_cast<long long>(merge_docs));
  const std::string shard_dir = dir + "/bench_study_shards";
  fs::remove_all(shard_dir);
  const std::vector<std::string> shards = write_shards(demo, over[0].results, merge_docs, shard_dir);
  std::uintmax_t bytes = 0;
  for (const auto& p : shards) bytes += fs::file_size(p);
  const std::string merged = shard_dir + "/merged.h5";
  std::printf("- shard files: %zu, %.1f MiB in all\n\n", shards.size(), static_cast<double>(bytes) / (1 << 20));
  std::printf("| step | ms |\n|---|---|\n");
  if (fs::exists(cli)) {
    std::string command = cli + " study merge --quiet " + merged;
    for (const auto& p : shards) command += " " + p;
    std::vector<double> t, startup;
    for (int rep = 0; rep < reps; ++rep) {
      fs::remove(merged);
      t.push_back(run_command(command));
      // What any CLI invocation pays before it does anything: loading LibTorch and the libraries.
      startup.push_back(run_command(cli + " study merge --help > /dev/null"));
    }
    std::printf("| `cascadelens-cli study merge OUT` + 100 files, end to end (median of %d) | %.0f |\n", reps, median(t));
    std::printf("| of which the process's start (`study merge --help`) | %.0f |\n", median(startup));
  } else {
    std::printf("| (no CLI at %s: only the in-process steps) | |\n", cli.c_str());
  }
  // The same steps in this process (study_merge's, without its checks), each on its own.
  std::vector<study::Study> read;
  const double read_ms = time_ms([&] {
    for (const auto& p : shards) read.push_back(data::read_study(p));
  });
  study::Study all;
  const double append_ms = time_ms([&] {
    all = read[0];
    all.documents.clear();
    all.elapsed_ms.clear();
    for (auto& a : all.arrays) a.values.clear();
    for (const auto& s : read)
      for (int64_t d = 0; d < static_cast<int64_t>(s.documents.size()); ++d) study::append(all, study::row(s, d));
    all.params.set("shard", "0/1");
  });
  const double canon_ms = time_ms([&] { study::canonicalize(all); });
  study::Aggregates agg;
  const double agg_ms = time_ms([&] { agg = study::aggregate(all); });
  const double write_ms = time_ms([&] { data::write_study(merged, all, agg); });
  std::printf("| in-process: read_study × 100 | %.0f |\n", read_ms);
  std::printf("| in-process: row + append of %zu documents | %.0f |\n", all.documents.size(), append_ms);
  std::printf("| in-process: canonicalize | %.1f |\n", canon_ms);
  std::printf("| in-process: aggregate (B = 10000) | %.0f |\n", agg_ms);
  std::printf("| in-process: write_study | %.0f |\n", write_ms);
  std::printf("| in-process: total | %.0f |\n", read_ms + append_ms + canon_ms + agg_ms + write_ms);
  fs::remove_all(shard_dir);
  std::printf("\n(total bench time %.0f s)\n", ms_since(start) / 1000.0);
  return 0;
}
