#pragma once
#include "widgets/figure.h"

namespace cascade::widgets {

// Teaching: the cascade step into the selected layer (state.layer ≥ 1), Algorithm 1 one stage at a
// time (state.teach_step): 0 inherit, 1 validate r×r, 2 cross-Gram, 3 remove, 4 add. Each stage is
// drawn (token chips, and the |cos| bars against θ that decide it) and narrated in one sentence.
class CascadeStepFigure final : public Figure {
 public:
  static constexpr int kSteps = 5;
  QString id() const override { return "cascade-step"; }
  QString title() const override { return "Cascade step (teaching)"; }
  QSizeF natural_size(const RunSnapshot& run) const override { return {640, 420}; }
  bool available(const RunSnapshot& run, const FigureState& state) const override;
  QString unavailable_reason(const RunSnapshot& run, const FigureState& state) const override;
  Demand demand() const override { return Demand::Explanation; }
  Placement placement() const override { return Placement::Teaching; }
  bool links_on_hover() const override { return true; }
  void paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const override;
  Hit hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const override;
  static QString step_name(int step);
  // The one-sentence narration of a stage, with this run's numbers.
  static QString narration(const RunSnapshot& run, const FigureState& state);
};

}  // namespace cascade::widgets
