#pragma once
// One run at one τ and rule: the SPEC §4 Analysis and every token's status at every layer,
// derived from the τ-free RunRecord. Immutable and shared: every view draws one, the CLI renders
// figures from one, a τ change derives a new one (O(T) per layer for prior-max, plus the cascade)
// and never re-runs the model.
#include <memory>
#include <vector>

#include "core/cascade_explain.h"
#include "core/progress.h"
#include "core/run_record.h"
#include "core/token_status.h"

namespace cascade {

struct Nearest {
  int64_t token = -1;  // −1 when the set is empty
  double cosine = 0;   // signed cos(x_t, x_rep)
};

enum class RepSet { Independent, Cascade };  // R_ind or R_casc of a layer

class RunSnapshot {
 public:
  // A τ and rule stored in the record (its own analysis, a sweep point) give that stored analysis,
  // exactly; otherwise the analysis is derived from the record's Analyzer. Without activations only
  // the stored values can be shown (UsageError naming them).
  static std::shared_ptr<const RunSnapshot> derive(std::shared_ptr<const RunRecord> record, double tau, Rule rule,
                                                   const JobControl& control = {});
  // From an Analysis already made from the record's Analyzer (a model run's own, at its τ and rule).
  static std::shared_ptr<const RunSnapshot> of(std::shared_ptr<const RunRecord> record, Analysis analysis);

  const RunRecord& record() const { return *record_; }
  const std::shared_ptr<const RunRecord>& record_ptr() const { return record_; }
  const Analysis& analysis() const { return analysis_; }
  double tau() const { return analysis_.tau; }
  Rule rule() const { return analysis_.rule; }
  int64_t L() const { return analysis_.L(); }
  int64_t T() const { return analysis_.T; }
  const std::string& token(int64_t t) const { return record_->tokens.at(t); }
  TokenStatus status(int64_t layer, int64_t t) const { return status_[layer * T() + t]; }
  const std::vector<TokenStatus>& statuses() const { return status_; }  // [L][T] row-major
  // The second status a token holds besides status() (core/token_status.h: hidden_relation):
  // Missed or Extra, or Redundant when it holds only one.
  TokenStatus also(int64_t layer, int64_t t) const { return also_[layer * T() + t]; }
  const std::vector<float>& gamma(int64_t layer) const { return record_->prior_max_of(layer).gamma; }
  const std::vector<int64_t>& partner(int64_t layer) const { return record_->prior_max_of(layer).partner; }

  bool has_activations() const { return record_->has_activations(); }
  // Queries on the τ-free cache, each O(r·d) or O(T·d): cheap enough for a hover. Without
  // activations: token −1, NaN, {} and {} respectively, and explain() throws UsageError.
  // Over R_casc at that layer, or R_ind with RepSet::Independent (the inspector shows both).
  Nearest nearest_representative(int64_t layer, int64_t t, RepSet set = RepSet::Cascade) const;
  double cosine(int64_t layer, int64_t a, int64_t b) const;
  // The tokens whose nearest representative in that set is rep (rep itself left out).
  std::vector<int64_t> represented_by(int64_t layer, int64_t rep, RepSet set = RepSet::Cascade) const;
  // |cos| of every pair at one layer, T×T row-major (T² floats: the Gram view asks on demand).
  std::vector<float> gram(int64_t layer) const;
  // The cascade step into analysed layer `layer` (≥ 1), from R_casc of layer − 1 (R_ind at 0).
  CascadeExplanation explain(int64_t layer) const;

  // The record as it would be saved from this view: the snapshot's analysis as the record's own.
  RunRecord record_at_snapshot() const;
  const TokenSet& reps(int64_t layer, RepSet set) const;

 private:
  std::shared_ptr<const RunRecord> record_;
  Analysis analysis_;
  std::vector<TokenStatus> status_, also_;
};

}  // namespace cascade
