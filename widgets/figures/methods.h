#pragma once
#include "widgets/figure.h"

namespace cascade::widgets {

// SPEC §7 at the shown τ: per layer, attn_err (or coverage: FigureState::methods_coverage) of every
// method of state.comparison at its budget, one series per method, the cascade emphasised. A
// method without values on the axis (an attention method without the model) stays in the legend
// with its reason. hit() reports the layer and the values of the series nearest the pointer.
class MethodsFigure final : public Figure {
 public:
  QString id() const override { return "methods"; }
  QString title() const override { return "Methods at an equal budget"; }
  Placement placement() const override { return Placement::Methods; }
  QSizeF natural_size(const RunSnapshot&) const override { return {500, 340}; }
  bool available(const RunSnapshot& run, const FigureState& state) const override;
  QString unavailable_reason(const RunSnapshot& run, const FigureState& state) const override;
  double height_for_width(const RunSnapshot& run, const FigureState& state, double width) const override;
  void paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const override;
  Hit hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const override;
  // Where method m's point at `layer` is drawn in `rect` (nullopt: no value on the axis there).
  static std::optional<QPointF> where(const QRectF& rect, const RunSnapshot& run, const FigureState& state, Method m,
                                      int64_t layer);
};

}  // namespace cascade::widgets
