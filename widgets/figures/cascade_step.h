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
  double height_for_width(const RunSnapshot& run, const FigureState& state, double width) const override;
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
  // Whether a stage compares anything: not the cross-Gram and add stages when every token was
  // inherited (the step out of layer 0, where each token is its own representative), nor
  // validation with a single inherited token. The teaching window skips such stages.
  static bool stage_compares(const CascadeExplanation& ex, int64_t T, int step);
  // What the presenter might say at a stage (the notes line of the teaching window).
  static QString presenter_note(int step);
};

}  // namespace cascade::widgets
