#pragma once
// A session: everything one analysed run produced that is worth keeping, in a form that reopens
// without the model — the record data/session_file.h writes as HDF5 (data/SESSION_FORMAT.md) and
// that the CLI (analyze / sweep / figures / export) and the desktop app read back. No HDF5 here.
#include <ATen/core/Tensor.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/analyzer.h"
#include "core/engine.h"
#include "core/measures.h"
#include "core/selection.h"

namespace cascade {

// The schema version this build writes, and the newest it reads.
inline constexpr int64_t kSessionFormatVersion = 1;

struct ModelIdentity {
  std::string name;           // hub id or folder name
  std::string model_type;     // gpt2, opt, gptj, gpt_neox, llama
  std::string config_sha256;  // SHA-256 of config.json's bytes (hex); empty when unknown
  std::string revision;       // the HF cache snapshot (commit hash), or "local" for a plain folder
  int64_t num_layers = 0, hidden_size = 0, num_heads = 0, vocab_size = 0;
  bool operator==(const ModelIdentity&) const = default;
};

// One τ of the sweep: the whole analysis, and the ADA quality at that τ when it was measured.
struct SweepEntry {
  Analysis analysis;
  std::optional<double> ada_error;  // mean relative attention error of ADA-cascade vs exact
  std::optional<double> delta_ppl;  // ppl_ada − ppl_exact
};

struct Session {
  std::string app_version;  // the Cascade Lens that wrote it
  std::string created;      // ISO 8601 UTC, e.g. 2026-11-22T10:04:05Z
  std::string kind = "model";  // "model" (a model run) | "activations" (an activation file)
  std::string source;          // model label or activation file, for display
  std::optional<ModelIdentity> model;  // kind == "model"
  std::string text;                    // the text that was run ("" for activation files)
  std::vector<int64_t> ids;            // token ids ([] for activation files)
  std::vector<std::string> tokens;     // T display strings
  // How the run was made (τ and rule are the analysis's own).
  std::string attention = "exact", nearest = "paper", device = "cpu", dtype = "float32";
  Analysis analysis;                 // SPEC §4 at the saved τ and rule, every set of every layer
  std::vector<PriorMax> prior_max;   // τ-free γ and π of every analysed layer
  std::vector<SweepEntry> sweep;     // ascending τ (may be empty)
  std::optional<AdaQuality> quality;
  std::string quality_mode;          // the ADA mode `quality` compares with exact attention
  Timings timings;
  at::Tensor xhat;  // [L, T, d] float16 normalised activations, or undefined when not stored

  // The analysis stored for τ and rule (the saved one or a sweep point), or null.
  const Analysis* stored(double tau, Rule rule) const;
  // The τ values stored for `rule`, ascending, without repeats.
  std::vector<double> stored_taus(Rule rule) const;
  int64_t num_layers() const { return analysis.L(); }
  int64_t num_tokens() const { return analysis.T; }
  std::vector<int64_t> layer_ids() const;
  bool has_activations() const { return xhat.defined(); }
};

// A model's name, type and shape (no hash or revision: data::model_identity adds those).
ModelIdentity identity_of(const ModelConfig& config);

// A model run as a session: analysis, γ/π, ids, tokens, attention/nearest, ADA quality, timings,
// the model's shape. The caller adds source, text, device/dtype, the model's hash and revision, the
// sweep (sweep_entries) and, when wanted, the activations (stack_normalized).
Session session_from_run(const Run& run);

// The sweep as session entries (no ADA numbers).
std::vector<SweepEntry> sweep_entries(const std::vector<Analysis>& analyses);

// Every analysed layer's X̂ from an Analyzer, stacked [L, T, d] on the CPU in `dtype` (float16 for files).
at::Tensor stack_normalized(const Analyzer& analyzer, at::ScalarType dtype);

// The τ-free cache of a session saved with activations: its stored γ/π (exact, as saved) and its X̂
// (re-normalised to float32). UsageError when the session has no activations.
std::shared_ptr<const Analyzer> analyzer_from_session(const Session& session, int64_t gram_cache_bytes = 0,
                                                      const JobControl& control = {});

// The Analysis the stored sets imply: rebuilds the cascade traces from reps_casc, added and
// removed and re-measures (one definition of every SPEC §4 number, core/measures.h). Used by the
// reader; `where` names the group in errors. Throws InputError when the sets contradict each other
// (a result that is not valid ∪ added, a removed token that was not inherited, ...).
Analysis remeasure(int64_t T, int64_t d, double tau, Rule rule, const std::vector<int64_t>& layer_ids,
                   const std::vector<TokenSet>& independent, const std::vector<TokenSet>& cascade,
                   const std::vector<TokenSet>& added, const std::vector<TokenSet>& removed,
                   const std::string& where);

// "ada-cascade" for an exact run (what its quality numbers compare), else the run's own mode.
std::string quality_mode_of(const std::string& attention);

// Now as ISO 8601 UTC.
std::string utc_now_iso8601();

}  // namespace cascade
