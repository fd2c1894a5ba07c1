#pragma once
// The state every view shares: the current snapshot and what is selected. Selecting a layer or a
// token anywhere selects it everywhere (each view listens to changed()). Cheap per-selection data
// the figures need — the hovered token's representative link, the selected layer's Gram matrix,
// the teaching step's explanation — is fetched here, never in paint().
#include <QObject>

#include <memory>

#include "widgets/figure.h"

namespace cascade::widgets {

class RunView : public QObject {
  Q_OBJECT
 public:
  explicit RunView(QObject* parent = nullptr);

  const RunSnapshot* snapshot() const { return snapshot_.get(); }
  std::shared_ptr<const RunSnapshot> snapshot_ptr() const { return snapshot_; }
  const FigureState& state() const { return state_; }
  bool has_run() const { return snapshot_ != nullptr; }

  // Largest T whose Gram matrix (and teaching explanation) is computed on request, on the UI
  // thread: 2048² floats are 16 MiB and ~6 GFLOP at d = 768 (~0.1 s here). Export with
  // `cascadelens-cli figures` for up to 4096.
  static constexpr int64_t kMaxGramTokens = 2048;

  void set_snapshot(std::shared_ptr<const RunSnapshot> snapshot);  // keeps layer/token when they fit
  void set_layer(int64_t layer);
  void set_token(int64_t token);
  void set_hover(int64_t token);  // −1 clears; links a redundant token to its nearest representative
  void set_phase(double phase);
  void set_teach_step(int step);
  void set_gram_zoom(const QRectF& tokens);
  void step_layer(int delta);     // wraps at neither end
  // Computes the selected layer's Gram matrix now (false, and nothing changes, when T is too large
  // or the run has no activations).
  bool ensure_gram();
  bool gram_ready() const { return gram_layer_ == state_.layer && !gram_.empty(); }
  // Computes the cascade step into the selected layer for the teaching view (false at layer 0, or
  // without activations).
  bool ensure_explanation();
  // The data a figure demands, computed now when this run can provide it (false otherwise).
  bool ensure(Demand demand);
  // Whether ensure(demand) would provide something that is not there yet.
  bool can_provide(Demand demand) const;

  // SPEC §7 comparisons of this run: the record's own when it arrives, plus those the Methods dock
  // computes. state().comparison is the one at the shown τ, rule and budget (null when there is
  // none), state().tradeoff those of the budget at two or more τ. A new run starts from its record's.
  const std::vector<Comparison>& comparisons() const { return comparisons_; }
  void add_comparisons(const std::vector<Comparison>& comparisons);  // replaces any at the same τ, rule and budget
  const Budget& comparison_budget() const { return budget_; }
  void set_comparison_budget(const Budget& budget);
  // The depth player's and the token map's colouring: method A's set, or A against B (none: statuses).
  void set_methods(std::optional<Method> a, std::optional<Method> b);
  void set_methods_coverage(bool coverage);

 Q_SIGNALS:
  void changed();           // anything a figure draws changed
  void run_changed();       // a new snapshot (new run or new τ)
  void layer_changed(qint64 layer);
  void token_changed(qint64 token);
  void comparisons_changed();  // added, or a new run's own (the budget may have changed with them)

 private:
  void drop_explanation();
  void point_comparison();  // state_.comparison and tradeoff for the shown τ, rule and budget

  std::shared_ptr<const RunSnapshot> snapshot_;
  FigureState state_;
  std::vector<float> gram_;
  int64_t gram_layer_ = -1;
  std::unique_ptr<CascadeExplanation> explanation_;
  std::vector<Comparison> comparisons_;
  std::vector<Comparison> tradeoff_;
  Budget budget_;
};

}  // namespace cascade::widgets
