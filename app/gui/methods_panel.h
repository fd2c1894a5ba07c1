#pragma once
// The Methods dock (SPEC §7): every method at an equal budget at the shown τ, as the "methods"
// figure, with its controls — the budget, the axis (attn_err or coverage), end-to-end quality, the
// trade-off over the τ sweep — and the method picker the depth player and the token map colour by.
// It asks the controller for a comparison (a background job with progress and cancel) when the run
// or τ changes while the dock is shown, or when the user presses Compare.
#include <QWidget>

#include <optional>

#include "core/methods.h"

class QCheckBox;
class QComboBox;
class QPushButton;
class QTimer;

namespace cascade::widgets {
class FigureView;
class RunView;
}  // namespace cascade::widgets

namespace cascade::app {

class Controller;

class MethodsPanel : public QWidget {
  Q_OBJECT
 public:
  MethodsPanel(widgets::RunView* view, Controller* controller, QWidget* parent = nullptr);
  widgets::FigureView* figure_view() { return figure_; }
  QComboBox* budget_box() { return budget_; }
  QComboBox* axis_box() { return axis_; }
  QComboBox* method_a_box() { return method_a_; }
  QComboBox* method_b_box() { return method_b_; }
  QCheckBox* quality_box() { return quality_; }
  // Picks the methods the depth player and token map colour by (none: the cascade statuses).
  void pick(std::optional<Method> a, std::optional<Method> b = std::nullopt);
  // Compares now at the shown τ (false when it cannot start: no run, a job running, no activations).
  bool compare_now();
  bool compare_tradeoff();  // at up to 8 τ of the sweep
  // While shown, a new run or τ without a comparison starts one (once per run, τ and budget).
  void set_auto(bool on);

 Q_SIGNALS:
  void export_requested(const QString& id);

 private:
  Budget budget() const;
  void schedule();       // after the run, τ or budget changed (debounced: a τ drag asks once)
  void maybe_compare();  // the scheduled check
  void sync_from_view(); // the budget box follows a session's comparisons

  widgets::RunView* view_;
  Controller* controller_;
  widgets::FigureView* figure_ = nullptr;
  QComboBox *budget_ = nullptr, *axis_ = nullptr, *method_a_ = nullptr, *method_b_ = nullptr;
  QCheckBox* quality_ = nullptr;
  QPushButton *compare_ = nullptr, *tradeoff_ = nullptr;
  QTimer* timer_ = nullptr;
  bool auto_ = false;
  QString attempted_;  // the last run/τ/budget an automatic comparison was started for
};

}  // namespace cascade::app
