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

 Q_SIGNALS:
  void changed();           // anything a figure draws changed
  void run_changed();       // a new snapshot (new run or new τ)
  void layer_changed(qint64 layer);
  void token_changed(qint64 token);

 private:
  void drop_explanation();

  std::shared_ptr<const RunSnapshot> snapshot_;
  FigureState state_;
  std::vector<float> gram_;
  int64_t gram_layer_ = -1;
  std::unique_ptr<CascadeExplanation> explanation_;
};

}  // namespace cascade::widgets
