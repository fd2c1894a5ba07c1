#pragma once
#include "widgets/figure.h"

namespace cascade::widgets {

// L×L Jaccard of the independent sets; the consecutive-layer diagonal outlined; a cascade-fidelity
// strip (J(R_casc, R_ind) per layer) beside it in the same colour scale; values on hover.
class JaccardFigure final : public Figure {
 public:
  QString id() const override { return "jaccard"; }
  QString title() const override { return "Jaccard heatmap"; }
  Placement placement() const override { return Placement::RightDock; }
  QSizeF natural_size(const RunSnapshot&) const override { return {420, 360}; }
  void paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const override;
  Hit hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const override;

  struct Layout {
    QRectF matrix, fidelity, colorbar;
    double cell = 0;
  };
  // `title`: the title drawn (empty: none), which the matrix sits under.
  static Layout layout(const QRectF& rect, int64_t L, double f, const QString& title);
  double height_for_width(const RunSnapshot& run, const FigureState& state, double width) const override;
};

}  // namespace cascade::widgets
