#pragma once
#include "widgets/figure.h"

namespace cascade::widgets {

// Per layer: r_ind and r_casc (top panel); adds up, removes down and turnover % (bottom panel).
class ProfileFigure final : public Figure {
 public:
  QString id() const override { return "profile"; }
  QString title() const override { return "r profile and turnover"; }
  QSizeF natural_size(const RunSnapshot&) const override { return {500, 380}; }
  double height_for_width(const RunSnapshot& run, const FigureState& state, double width) const override;
  void paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const override;
  Hit hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const override;
};

}  // namespace cascade::widgets
