// cascadelens-cli study: SPEC §8 — every measure over the documents of a corpus, with aggregates,
// bootstrap CIs and paired tests; resumable (a journal commits each document), shardable (Slurm job
// arrays + `study merge`) and, built with CASCADE_MPI=ON, dealt over MPI ranks.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/model_input.h"
#include "cli/options.h"
#include "cli/shared.h"
#include "cli/study_format.h"
#include "cli/study_mpi.h"
#include "core/analyzer.h"
#include "core/errors.h"
#include "data/study/corpus.h"
#include "data/study/study_file.h"
#include "data/study/study_runner.h"

namespace fs = std::filesystem;

namespace cascade::cli {

namespace {

const OptionSpec kStudyFormat{"--format", "FMT", "table, csv or json", "table"};
const OptionSpec kStudyTau{"--tau", "TAU", "which tau of the grid the tables and JSON show", "the first of --taus"};
const OptionSpec kWhat{"--what", "W", "with --format csv: aggregates, paired or documents", "aggregates"};

const std::vector<OptionSpec> kStudySpecs = {
    {"--out", "S.h5", "the study file (resumable: rerun the same command to continue); without it nothing is saved", ""},
    {"--corpus-kind", "K", "auto, folder (.txt files, recursive), jsonl, list (a file naming one text file a line) or text", "auto"},
    {"--field", "NAME", "JSONL: the member holding the text", "text"},
    {"--max-tokens", "T", "tokens per document window (with the BOS the tokenizer adds)", "256"},
    {"--stride", "N", "tokens between window starts (default: windows do not overlap)", ""},
    {"--min-tokens", "N", "leave out shorter windows (a short text, a text's tail)", "32"},
    {"--limit", "N", "at most N documents, the first in corpus order", ""},
    {"--max-bytes", "N", "report and leave out texts longer than N bytes", "16777216"},
    kModel,
    kDevice,
    kDtype,
    {"--taus", "GRID", "the tau grid (START:STOP:STEP or a list); the first is the headline tau", "0.3"},
    kRule,
    kNearest,
    {"--quality", "LIST", "ADA modes measured against exact: ada-cascade,ada-independent, one of them, or none",
     "ada-cascade,ada-independent"},
    {"--methods", "LIST", "SPEC 7 methods at the first tau: all, none, or a comma list of " + method_names(), "all"},
    {"--budget", "B", "tokens the methods keep per layer: cascade, independent, ratio:R or count:N", "cascade"},
    {"--seed", "S", "the bootstrap's seed (and the one random and kmeans derive theirs from)", "0"},
    {"--resamples", "B", "bootstrap resamples", "10000"},
    {"--shard", "i/N", "run only the documents of shard i of N (SPEC 8: id mod N); merge the files with study merge", "0/1"},
    {"--sessions", "DIR", "also save each document as a session DIR/<id>.h5 (opens in the GUI)", ""},
    kStudyFormat,
    kStudyTau,
    kWhat,
    kThreads, kMemoryLimit,
    kQuiet,
    kHelp};

const std::vector<OptionSpec> kShowSpecs = {kStudyFormat, kStudyTau, kWhat, kHelp};
const std::vector<OptionSpec> kMergeSpecs = {kQuiet, kHelp};

std::pair<int64_t, int64_t> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument(text);
    size_t a = 0, b = 0;
    const long i = std::stol(text.substr(0, slash), &a), n = std::stol(text.substr(slash + 1), &b);
    if (a != slash || b != text.size() - slash - 1 || n < 1 || i < 0 || i >= n) throw std::invalid_argument(text);
    return {i, n};
  } catch (const std::logic_error&) {
    throw UsageError("--shard expects i/N with 0 <= i < N, got '" + text + "'");
  }
}

std::vector<AttentionMode> parse_quality(const std::string& text) {
  std::vector<AttentionMode> out;
  if (text == "none") return out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    const AttentionMode m = with_flag("--quality: ", [&] { return parse_attention_mode(item); });
    if (m == AttentionMode::Exact) throw UsageError("--quality lists ADA modes (exact is what they are measured against)");
    if (std::find(out.begin(), out.end(), m) == out.end()) out.push_back(m);
  }
  return out;
}

data::StudyConfig config_of(const Options& opts) {
  data::StudyConfig c;
  c.corpus.path = opts.positional().empty() ? "" : opts.positional()[0];
  c.corpus.kind = opts.value_or_default("--corpus-kind");
  c.corpus.field = opts.value_or_default("--field");
  c.corpus.max_tokens = opts.integer("--max-tokens");
  c.corpus.stride = opts.integer("--stride", 0);
  c.corpus.min_tokens = opts.integer("--min-tokens");
  c.corpus.limit = opts.integer("--limit", 0);
  c.corpus.max_bytes = opts.integer("--max-bytes");
  if (opts.value("--stride") && c.corpus.stride < 1) throw UsageError("--stride must be at least 1");
  if (opts.value("--limit") && c.corpus.limit < 1) throw UsageError("--limit must be at least 1");
  c.taus = with_flag("--taus: ", [&] { return parse_tau_grid(opts.value_or_default("--taus")); });
  c.rule = rule_option(opts);
  c.nearest = parse_nearest_rule(opts.value_or_default("--nearest"));
  c.quality = parse_quality(opts.value_or_default("--quality"));
  const std::string methods = opts.value_or_default("--methods");
  if (methods != "none") {
    c.methods = with_flag("--methods: ", [&] { return parse_methods(methods); });
    if (std::find(c.methods.begin(), c.methods.end(), Method::Cascade) == c.methods.end())
      c.methods.insert(c.methods.begin(), Method::Cascade);  // what every paired comparison is against
  }
  c.budget = with_flag("--budget: ", [&] { return parse_budget(opts.value_or_default("--budget")); });
  c.seed = unsigned_option(opts, "--seed");
  c.resamples = opts.integer("--resamples");
  if (c.resamples < 100) throw UsageError("--resamples must be at least 100");
  std::tie(c.shard_index, c.shard_count) = parse_shard(opts.value_or_default("--shard"));
  c.sessions_dir = opts.value_or("--sessions", "");
  return c;
}

int64_t tau_index_option(const Options& opts, const study::Study& s) {
  if (!opts.value("--tau")) return 0;
  const double tau = tau_option(opts);
  const int64_t t = s.tau_index(tau);
  if (t < 0) throw UsageError("--tau " + *opts.value("--tau") + " is not in the study's grid (" + s.params.get("taus").value_or("") + ")");
  return t;
}

void print_study(const Options& opts, const study::Study& s, const study::Aggregates& a) {
  const Format format = parse_format(opts.value_or_default("--format"));
  const int64_t t = tau_index_option(opts, s);
  if (format == Format::Json) {
    std::cout << study_json(s, a, t).dump(1) << "\n";
  } else if (format == Format::Csv) {
    const std::string what = opts.value_or_default("--what");
    if (what == "aggregates") std::cout << study_csv(s, a);
    else if (what == "paired") std::cout << paired_csv(a);
    else if (what == "documents") std::cout << documents_csv(s);
    else throw UsageError("--what must be aggregates, paired or documents, got '" + what + "'");
  } else {
    std::cout << study_table(s, a, t);
  }
}

// Failures in one order whatever the sharding: by source, then reason.
void sort_failures(std::vector<study::Failure>& f) {
  std::sort(f.begin(), f.end(), [](const auto& a, const auto& b) { return std::tie(a.source, a.why) < std::tie(b.source, b.why); });
  f.erase(std::unique(f.begin(), f.end(), [](const auto& a, const auto& b) { return a.source == b.source && a.why == b.why; }),
          f.end());
}

int study_show(const std::vector<std::string>& args) {
  const Options opts(kShowSpecs, args);
  if (opts.flag("--help")) {
    std::cout << format_help("cascadelens-cli study show S.h5 [--format table|csv|json] [--tau TAU] [--what W]",
                             "Print a study file's tables (per layer, summary, quality, methods, paired tests).", kShowSpecs);
    return 0;
  }
  if (opts.positional().size() != 1) throw UsageError("study show takes one study file");
  study::Aggregates a;
  const study::Study s = data::read_study(opts.positional()[0], &a);
  if (a.arrays.empty() && !s.documents.empty()) {  // a study still running writes none: compute them
    std::fprintf(stderr, "study show: %s has no aggregates yet (a study in progress): computing them\n",
                 opts.positional()[0].c_str());
    a = study::aggregate(s);
  }
  print_study(opts, s, a);
  return 0;
}

int study_merge(const std::vector<std::string>& args) {
  const Options opts(kMergeSpecs, args);
  if (opts.flag("--help")) {
    std::cout << format_help("cascadelens-cli study merge OUT.h5 FILES...",
                             "Merge the study files of one study's shards (--shard i/N) into the file one process would\n"
                             "have written: the documents in corpus order, aggregates recomputed from the merged table.\n"
                             "The order of FILES does not matter; a document in two files is counted once.",
                             kMergeSpecs);
    return 0;
  }
  const auto& pos = opts.positional();
  if (pos.size() < 2) throw UsageError("study merge needs OUT.h5 and at least one study file");
  if (fs::exists(pos[0]) && std::find(pos.begin() + 1, pos.end(), pos[0]) != pos.end())
    throw UsageError("study merge: OUT " + pos[0] + " is also an input");
  study::Study merged;
  std::map<std::string, study::DocumentResult> seen;
  std::set<int64_t> shards;
  int64_t count = 0;
  for (size_t i = 1; i < pos.size(); ++i) {
    const study::Study s = data::read_study(pos[i]);
    const std::string shard = s.params.get("shard").value_or("0/1");
    const auto [index, n] = parse_shard(shard);
    if (i == 1) {
      merged = s;
      merged.documents.clear();
      merged.elapsed_ms.clear();
      for (auto& arr : merged.arrays) arr.values.clear();
      merged.failures.clear();
      count = n;
    } else {
      const std::string diff = merged.params.difference(s.params, {"shard"});
      if (!diff.empty()) throw InputError(pos[i], "not a shard of the same study as " + pos[1] + " (" + diff + ")");
      if (n != count) throw InputError(pos[i], "is shard " + shard + ", the others are of " + std::to_string(count));
    }
    if (!shards.insert(index).second && !opts.flag("--quiet"))
      std::fprintf(stderr, "study merge: shard %s given twice; its documents are counted once\n", shard.c_str());
    for (int64_t d = 0; d < static_cast<int64_t>(s.documents.size()); ++d) {
      study::DocumentResult r = study::row(s, d);
      const auto it = seen.find(r.document.id);
      if (it == seen.end()) {
        seen.emplace(r.document.id, r);
        study::append(merged, r);
      }
    }
    merged.failures.insert(merged.failures.end(), s.failures.begin(), s.failures.end());
  }
  merged.params.set("shard", "0/1");
  study::canonicalize(merged);
  sort_failures(merged.failures);
  data::write_study(pos[0], merged, study::aggregate(merged));
  if (!opts.flag("--quiet")) {
    std::fprintf(stderr, "study merge: %zu of the corpus's %s documents from %zu files into %s\n", merged.documents.size(),
                 merged.params.get("corpus_documents").value_or("?").c_str(), pos.size() - 1, pos[0].c_str());
    if (static_cast<int64_t>(shards.size()) < count)
      std::fprintf(stderr, "study merge: only %zu of %ld shards were given: the study is incomplete\n", shards.size(),
                   static_cast<long>(count));
  }
  return 0;
}

}  // namespace

int cmd_study(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "show") return study_show({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "merge") return study_merge({args.begin() + 1, args.end()});
  const Options opts(kStudySpecs, args);
  if (opts.flag("--help")) {
    std::cout << format_help(
        "cascadelens-cli study [CORPUS] [--out S.h5] [options]\n"
        "       cascadelens-cli study merge OUT.h5 FILES...\n"
        "       cascadelens-cli study show S.h5 [--format table|csv|json]",
        "SPEC.md section 8: run the model over every document (window) of a corpus and report every\n"
        "measure per layer with mean, sd, quantiles and bootstrap 95% CIs over documents, the quality of\n"
        "ADA against exact attention, the SPEC 7 methods at an equal budget, and paired comparisons\n"
        "(cascade vs independent, cascade vs each method: mean difference, CI, Wilcoxon p).\n"
        "CORPUS: a folder of .txt files (recursive), a .jsonl file (--field), a list file naming one text\n"
        "file a line, or one .txt file. Without CORPUS: the bundled corpus (data/demo/corpus) and the\n"
        "bundled demo model. Each finished document is committed to S.h5.journal at once: after Ctrl-C or\n"
        "a kill, rerun the same command to continue. Slurm arrays: --shard $SLURM_ARRAY_TASK_ID/N, then\n"
        "study merge. MPI (built with CASCADE_MPI=ON): mpirun -np N cascadelens-cli study ...",
        kStudySpecs);
    return 0;
  }
  if (opts.positional().size() > 1) throw UsageError("study takes one CORPUS (see --help)");
  data::StudyConfig config = config_of(opts);
  const auto out = opts.value("--out");
  if (out) {
    const auto ext = fs::path(*out).extension();
    if (ext != ".h5" && ext != ".hdf5") throw UsageError("--out writes an HDF5 study file: give a file ending in .h5 or .hdf5");
  }
  const int world = mpi_start();
  const bool root = mpi_rank() == 0;
  const bool quiet = opts.flag("--quiet") || !root;
  apply_resource_options(opts);
  install_sigint();
  StderrProgress progress(quiet);
  const JobControl control = progress.control();
  if (config.corpus.path.empty()) {
    config.corpus.path = data::bundled_corpus_dir() + "/default.list";
    if (!quiet) std::fprintf(stderr, "study: no CORPUS given, using the bundled corpus %s\n", config.corpus.path.c_str());
  }
  std::vector<std::string> quiet_args(args);  // the other ranks load the model without notes
  quiet_args.push_back("--quiet");
  const data::LoadedModel m = load_model_option(root ? opts : Options(kStudySpecs, quiet_args), "study");
  if (!m.tokenizer)
    throw InputError(m.dir, "a study tokenizes its corpus, and this model has no usable tokenizer (" + m.tokenizer_error + ")");
  if (m.config.max_positions > 0 && config.corpus.max_tokens > m.config.max_positions)
    throw UsageError("--max-tokens " + std::to_string(config.corpus.max_tokens) + " is over the model's context of " +
                     std::to_string(m.config.max_positions) + " positions");
  StudyWork work;
  work.run = [&](const study::Document& d) { return data::run_document(m, config, d, control); };
  if (!root) {
    mpi_work(work);
    mpi_stop();
    return 0;
  }

  const std::string tokenizer_id = data::tokenizer_identity(m.dir);
  const data::Corpus corpus = data::read_corpus(config.corpus, *m.tokenizer, tokenizer_id, control);
  study::Params params = data::study_params(config, m, tokenizer_id);
  params.set("corpus_documents", std::to_string(corpus.documents.size()));  // what a complete study has
  std::vector<study::Document> mine;
  for (const auto& d : corpus.documents)
    if (study::shard_of(d.id, config.shard_count) == config.shard_index) mine.push_back(d);
  if (!quiet) {
    std::fprintf(stderr, "study: %ld texts, %zu documents of at most %ld tokens", static_cast<long>(corpus.texts),
                 corpus.documents.size(), static_cast<long>(config.corpus.max_tokens));
    if (config.shard_count > 1) std::fprintf(stderr, "; shard %ld/%ld has %zu", static_cast<long>(config.shard_index),
                                             static_cast<long>(config.shard_count), mine.size());
    if (!corpus.failures.empty()) std::fprintf(stderr, "; %zu texts not used (listed with the tables)", corpus.failures.size());
    std::fprintf(stderr, "\n");
  }
  if (corpus.documents.empty()) throw InputError(config.corpus.path, "no document to study (every text was left out)");

  study::Study s = data::empty_study(config, params, m.config.num_layers);
  std::set<std::string> done;
  std::optional<data::StudyJournal> journal;
  if (out) {
    if (fs::exists(*out)) {
      if (!data::is_study_file(*out)) throw InputError(*out, "exists and is not a study file; give another --out");
      const study::Study prev = data::read_study(*out);
      const std::string diff = prev.params.difference(params);
      if (!diff.empty())
        throw UsageError(*out + " holds a study with other parameters (" + diff +
                         "): give another --out, or remove the file (and " + *out + ".journal) to start again");
      for (int64_t d = 0; d < static_cast<int64_t>(prev.documents.size()); ++d)
        if (done.insert(prev.documents[static_cast<size_t>(d)].id).second) study::append(s, study::row(prev, d));
      s.failures = prev.failures;
    }
    journal.emplace(*out + ".journal", params);
    for (const auto& r : journal->committed())
      if (done.insert(r.document.id).second) study::append(s, r);
    s.failures.insert(s.failures.end(), journal->failed().begin(), journal->failed().end());
    if (!quiet)
      for (const auto& [id, rank] : journal->in_flight())
        std::fprintf(stderr, "study: document %s was in flight on rank %d when the study stopped; it runs again\n", id.c_str(), rank);
  }
  std::vector<study::Document> todo;
  for (const auto& d : mine)
    if (!done.count(d.id) && !(journal && journal->failed(d.id))) todo.push_back(d);
  if (!quiet && !done.empty())
    std::fprintf(stderr, "study: resuming %s: %zu documents done, %zu to go\n", out->c_str(), done.size(), todo.size());
  s.failures.insert(s.failures.end(), corpus.failures.begin(), corpus.failures.end());

  int64_t finished = 0;
  const auto total = static_cast<int64_t>(todo.size());
  // A long study also rewrites S.h5 now and then (without aggregates: `study show` computes them), so
  // that it can be looked at while it runs; the journal is what makes it resumable.
  auto last_write = std::chrono::steady_clock::now();
  const char* every = std::getenv("CASCADE_STUDY_CHECKPOINT_SECONDS");  // default 300
  const std::chrono::duration<double> interval(every ? std::atof(every) : 300.0);
  const auto checkpoint = [&] {
    if (!out || std::chrono::steady_clock::now() - last_write < interval) return;
    study::Study copy = s;
    study::canonicalize(copy);
    data::write_study(*out, copy, {});
    last_write = std::chrono::steady_clock::now();
  };
  work.commit = [&](const study::DocumentResult& r) {
    if (journal) journal->commit(r);
    study::append(s, r);
    control.report("documents", ++finished, total);
    checkpoint();
  };
  work.fail = [&](const study::Document& d, const std::string& why) {
    if (journal) journal->commit_failure(d, why);
    s.failures.push_back(data::document_failure(d, why));
    if (!quiet) std::fprintf(stderr, "study: document %s (%s at byte %ld) failed: %s\n", d.id.c_str(), d.source.c_str(),
                             static_cast<long>(d.offset), why.c_str());
    control.report("documents", ++finished, total);
  };
  work.dealt = [&](const std::string& id, int rank) {
    if (journal) journal->dealt(id, rank);
  };
  bool stopped = false;
  try {
    control.report("documents", 0, total);
    if (world > 1) {
      mpi_deal(todo, work, [&] { return control.cancelled(); });
    } else {
      for (const auto& d : todo) {
        study::DocumentResult r;
        try {
          r = work.run(d);
        } catch (const Cancelled&) {
          throw;
        } catch (const Error& e) {
          work.fail(d, e.what());
          continue;
        }
        work.commit(r);
      }
    }
  } catch (const Cancelled&) {
    stopped = true;
  }
  mpi_stop();
  sort_failures(s.failures);  // the file's, the journal's, the corpus's and this run's, each once
  study::canonicalize(s);
  const study::Aggregates aggregates = study::aggregate(s);
  if (out) {
    data::write_study(*out, s, aggregates);
    if (!stopped) journal->remove();
    if (!quiet) std::fprintf(stderr, "study: saved %s (%zu documents)\n", out->c_str(), s.documents.size());
  }
  if (stopped) {
    std::fprintf(stderr, "study: stopped after %ld of %ld documents; %s\n", static_cast<long>(finished), static_cast<long>(total),
                 out ? "rerun the same command to continue" : "nothing was saved (give --out S.h5 to keep and resume)");
    throw Cancelled();
  }
  print_study(opts, s, aggregates);
  return 0;
}

}  // namespace cascade::cli
