#pragma once
#include "widgets/figure.h"

namespace cascade::widgets {

// Gram entries per layer, independent vs cascade, and the cumulative savings (right axis, %).
class GramCostFigure final : public Figure {
 public:
  QString id() const override { return "gram-cost"; }
  QString title() const override { return "Gram cost"; }
  QSizeF natural_size(const RunSnapshot&) const override { return {500, 300}; }
  double height_for_width(const RunSnapshot& run, const FigureState& state, double width) const override;
  void paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const override;
  Hit hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const override;
};

}  // namespace cascade::widgets
