#pragma once
// What every view draws: an immutable snapshot of one run at one τ. Views never compute; they
// read this. Split in two so a τ change is cheap:
//   RunData      — τ-free: the Analyzer cache (X̂, γ, π), token strings, where it came from, the τ
//                  sweep and the ADA quality numbers (computed once per run, on the worker);
//   RunSnapshot  — one τ and rule: the SPEC §4 Analysis and every token's status at every layer.
// No Qt here (the CLI renders figures headless from the same structs); Torch stays in the .cpp.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/cascade_explain.h"
#include "core/measures.h"
#include "core/progress.h"
#include "core/session.h"
#include "core/token_status.h"

namespace cascade {
class Analyzer;
struct ActivationSet;
struct Run;
}

namespace cascade::widgets {

// A token's status at one layer (core/token_status.h), as the depth player colours it.
using ::cascade::kNumStatuses;
using ::cascade::layer_statuses;
using ::cascade::status_name;
using ::cascade::TokenStatus;

struct SweepPoint {
  double tau = 0;
  double r_ind_frac = 0, r_casc_frac = 0;  // mean r / T
  double gram_savings = 0;                 // SPEC summary gram_savings
  double casc_fidelity = 0;                // mean casc_fidelity
  std::optional<double> mean_depth_jaccard;
  std::optional<double> ada_error;  // mean relative attention error of ADA-cascade, when measured
  std::optional<double> delta_ppl;  // ppl_ada − ppl_exact, when measured
};

struct QualityNumbers {
  std::string mode;                 // the ADA mode compared with exact attention
  double ppl_exact = 0, ppl_ada = 0, mean_kl = 0, mean_attention_error = 0;
};

struct RunMeta {
  std::string source;      // model label or activation file
  std::string kind;        // "model", "activations", "synthetic"
  std::string model_type;  // gpt2, llama, ... (empty for activation files)
  std::string device = "cpu", dtype = "float32", attention = "exact";
  std::string text;        // the text that was run (empty for activation files)
  double forward_ms = 0, selection_ms = 0;
};

struct RunData {
  // The τ-free cache (X̂, γ, π). Null for a session saved without activations: then τ and the rule
  // can only take the values stored in `session` (its analysis and sweep), and the queries that need
  // X̂ (nearest representative, cosines, the Gram matrix, the cascade step's numbers) are unavailable.
  std::shared_ptr<const Analyzer> analyzer;
  // What saving this run writes besides the current snapshot's analysis: model identity, text, ids,
  // run parameters, the sweep's analyses, ADA quality, timings; γ/π when there is no analyzer. Its
  // `analysis` is the one the run was made or opened at (empty for an activation file); its X̂ lives
  // in the analyzer, never here.
  Session session;
  std::vector<std::string> tokens;  // T display strings (indices when the file had none)
  RunMeta meta;
  std::vector<SweepPoint> sweep;    // over the sweep grid, ascending τ
  std::optional<QualityNumbers> quality;

  bool has_activations() const { return analyzer != nullptr; }
  int64_t num_layers() const;
  int64_t num_tokens() const;
  std::vector<int64_t> layer_ids() const;
  const PriorMax& prior_max(int64_t layer) const;
  // Without activations: the τ values stored for `rule` (the saved analysis and the sweep), ascending.
  std::vector<double> stored_taus(Rule rule) const;
};

struct Nearest {
  int64_t token = -1;  // −1 when the set is empty
  double cosine = 0;   // signed cos(x_t, x_rep)
};

class RunSnapshot {
 public:
  // Derives the Analysis and the statuses at τ (O(T) per layer for prior-max, plus the cascade).
  // A τ and rule stored in data.session (the run's own analysis, a sweep point) give that stored
  // analysis; without activations nothing else can be shown (UsageError naming what is stored).
  static std::shared_ptr<const RunSnapshot> derive(std::shared_ptr<const RunData> data, double tau, Rule rule,
                                                   const JobControl& control = {});
  // From an Analysis already made from data's Analyzer (a model run's own, at its τ and rule).
  static std::shared_ptr<const RunSnapshot> of(std::shared_ptr<const RunData> data, Analysis analysis);

  const RunData& data() const { return *data_; }
  const std::shared_ptr<const RunData>& data_ptr() const { return data_; }
  const Analysis& analysis() const { return analysis_; }
  double tau() const { return analysis_.tau; }
  Rule rule() const { return analysis_.rule; }
  int64_t L() const { return analysis_.L(); }
  int64_t T() const { return analysis_.T; }
  const std::string& token(int64_t t) const { return data_->tokens.at(t); }
  TokenStatus status(int64_t layer, int64_t t) const { return status_[layer * T() + t]; }
  const std::vector<TokenStatus>& statuses() const { return status_; }  // [L][T] row-major
  const std::vector<float>& gamma(int64_t layer) const;
  const std::vector<int64_t>& partner(int64_t layer) const;

  bool has_activations() const { return data_->has_activations(); }
  // Queries on the τ-free cache, each O(r·d) or O(T·d): cheap enough for a hover. Without
  // activations: token −1, NaN, {} and {} respectively, and explain() throws UsageError.
  Nearest nearest_representative(int64_t layer, int64_t t) const;  // over R_casc at that layer
  double cosine(int64_t layer, int64_t a, int64_t b) const;
  std::vector<int64_t> represented_by(int64_t layer, int64_t rep) const;  // tokens whose nearest rep is rep
  // |cos| of every pair at one layer, T×T row-major (T² floats: the Gram view asks on demand).
  std::vector<float> gram(int64_t layer) const;
  // The cascade step into analysed layer `layer` (≥ 1), from R_casc of layer − 1 (R_ind at 0).
  CascadeExplanation explain(int64_t layer) const;

 private:
  std::shared_ptr<const RunData> data_;
  Analysis analysis_;
  std::vector<TokenStatus> status_;
};

// The sweep rows from analyses at several τ (ascending).
std::vector<SweepPoint> sweep_points(const std::vector<Analysis>& analyses);

// RunData from a session (every view-facing field derived from it). `analyzer`: the run's own cache;
// when null and the session stores activations, one is built from them (stored γ/π, fp16 X̂).
std::shared_ptr<RunData> run_data_from_session(Session session, std::shared_ptr<const Analyzer> analyzer = nullptr,
                                               int64_t gram_cache_bytes = 0, const JobControl& control = {});

// RunData from a model run (its Analyzer, tokens, timings and ADA quality) with the sweep over
// `taus`; meta.kind = "model". The caller fills meta.source/device/dtype/text (or builds the
// session itself with data::session_of and calls run_data_from_session).
std::shared_ptr<RunData> run_data_from_run(const Run& run, const std::vector<double>& taus, Rule rule,
                                           const JobControl& control = {});

// The session to save for what a snapshot shows: its data's session at the snapshot's τ and rule,
// with γ/π and — when asked and available — the fp16 X̂ of every layer.
Session session_to_save(const RunSnapshot& snapshot, bool with_activations);
// What the desktop app lets the Analyzer keep for fast τ changes: every layer's |Gram| when
// L·T²·4 bytes fit (T ≤ 2048 at 12 layers). See core/gram_cache.h.
inline constexpr int64_t kInteractiveGramCacheBytes = int64_t{256} << 20;

// RunData from activations (normalised and scanned here); token strings default to indices.
std::shared_ptr<RunData> run_data_from_activations(const ActivationSet& acts, const std::vector<double>& taus, Rule rule,
                                                   const JobControl& control = {},
                                                   int64_t gram_cache_bytes = kInteractiveGramCacheBytes);

}  // namespace cascade::widgets
