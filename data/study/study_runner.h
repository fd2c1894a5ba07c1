#pragma once
// Running a study: the parameters (what a rerun compares), one document through the model (every
// SPEC §4 measure at every τ, the §5 quality of each ADA mode, the §7 methods at the first τ), and
// the journal that commits each document as it finishes so that a kill loses only the documents in
// flight. The CLI's `study` (one process, a Slurm array task or an MPI rank) is built on these.
#include <cstdio>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/ada.h"
#include "core/methods.h"
#include "core/progress.h"
#include "core/selection.h"
#include "core/study.h"
#include "data/hf/model_source.h"
#include "data/study/corpus.h"

namespace cascade::data {

struct StudyConfig {
  CorpusOptions corpus;
  std::vector<double> taus;                 // the first is the headline τ (methods, show --format json)
  Rule rule = Rule::PriorMax;
  NearestRule nearest = NearestRule::Paper;
  std::vector<AttentionMode> quality;       // ADA modes measured against exact (may be empty)
  std::vector<Method> methods;              // SPEC §7 methods (the cascade always among them), or empty
  Budget budget;
  uint64_t seed = 0;                        // the bootstrap's, and the one random/kmeans derive theirs from
  int64_t resamples = stats::kBootstrapResamples;
  int64_t shard_index = 0, shard_count = 1;  // --shard i/N
  std::string sessions_dir;                 // a session per document (<dir>/<id>.h5), or ""
};

// Every parameter the numbers depend on, in a fixed order: the corpus and its windows, the model's
// identity and tokenizer, τ grid, rule, nearest rule, quality modes, methods, budget, seed,
// resamples, the shard, and the software version. "shard" differs between the files of one study.
study::Params study_params(const StudyConfig& config, const LoadedModel& model, const std::string& tokenizer_id);

// An empty study with the config's grid, layers, modes and methods (documents are appended).
study::Study empty_study(const StudyConfig& config, const study::Params& params, int64_t num_layers);

// One document: the exact run (with the analysis at every τ), an ADA pass per mode and τ, and the
// methods at the first τ; a session in config.sessions_dir when asked. Throws what the engine throws.
study::DocumentResult run_document(const LoadedModel& model, const StudyConfig& config, const study::Document& document,
                                   const JobControl& control = {});

// How a document that failed is listed among the study's failures: its source "@" offset, and why.
study::Failure document_failure(const study::Document& document, const std::string& why);

// The journal beside a study file (S.h5.journal): JSON Lines; the first line holds the parameters,
// then one line per committed document (or failed document), each flushed and fsync'd before the
// next document starts. A torn last line (a kill mid-write) is ignored.
class StudyJournal {
 public:
  // Opens (creating when absent) the journal. An existing journal with other parameters is refused
  // (UsageError naming the first difference); `ignore` names parameters not compared.
  StudyJournal(const std::string& path, const study::Params& params);
  ~StudyJournal();
  StudyJournal(const StudyJournal&) = delete;
  StudyJournal& operator=(const StudyJournal&) = delete;

  const std::vector<study::DocumentResult>& committed() const { return committed_; }
  const std::vector<study::Failure>& failed() const { return failed_; }
  bool failed(const std::string& id) const { return failed_ids_.count(id) > 0; }
  // Documents handed to an MPI rank and never committed: (document id, rank) — what a dead rank had.
  const std::vector<std::pair<std::string, int>>& in_flight() const { return in_flight_; }
  void commit(const study::DocumentResult& result);
  void commit_failure(const study::Document& document, const std::string& why);
  void dealt(const std::string& id, int rank);  // MPI: which rank is working on which document
  const std::string& path() const { return path_; }
  void remove();  // the study file holds everything: the journal is no longer needed

 private:
  void write_line(const std::string& line);
  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<study::DocumentResult> committed_;
  std::vector<study::Failure> failed_;
  std::set<std::string> failed_ids_;
  std::vector<std::pair<std::string, int>> in_flight_;
};

// A document result as one line of JSON and back (doubles exactly; NaN as null).
std::string result_json(const study::DocumentResult& result);
study::DocumentResult result_from_json(const std::string& line);

}  // namespace cascade::data
