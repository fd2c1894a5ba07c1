#pragma once
#include "widgets/figure.h"

namespace cascade::widgets {

// The whole run at a glance: one cell per (token, layer), coloured by status; layer 0 at the top,
// the selected layer and token outlined.
class TokenMapFigure final : public Figure {
 public:
  QString id() const override { return "token-map"; }
  QString title() const override { return "Token × layer map"; }
  QSizeF natural_size(const RunSnapshot& run) const override;
  double height_for_width(const RunSnapshot& run, const FigureState& state, double width) const override;
  void paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const override;
  Hit hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const override;
};

}  // namespace cascade::widgets
