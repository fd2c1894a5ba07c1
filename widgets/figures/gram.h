#pragma once
#include "widgets/figure.h"

namespace cascade::widgets {

// |cos| of every token pair at the selected layer (state.gram, computed on demand), zoomable to a
// token range (state.gram_zoom); representatives of R_casc ticked along both edges, the selected
// token's row and column marked.
class GramFigure final : public Figure {
 public:
  QString id() const override { return "gram"; }
  QString title() const override { return "Gram matrix"; }
  QSizeF natural_size(const RunSnapshot&) const override { return {420, 400}; }
  bool available(const RunSnapshot& run, const FigureState& state) const override;
  QString unavailable_reason(const RunSnapshot& run, const FigureState& state) const override;
  Demand demand() const override { return Demand::Gram; }
  Placement placement() const override { return Placement::RightDock; }
  std::optional<QRectF> zoomed(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF at,
                               double factor) const override;
  std::optional<QRectF> panned(const QRectF& rect, const RunSnapshot& run, const FigureState& state, const QRectF& from,
                               QPointF delta) const override;
  void paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const override;
  Hit hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const override;
  // The plotted square and the visible token range (x: columns, y: rows).
  // The matrix's square (under the title, left of the colour bar) at this state's type size.
  static QRectF plot_area(const QRectF& rect, const RunSnapshot& run, const FigureState& state);
  double height_for_width(const RunSnapshot& run, const FigureState& state, double width) const override;
  static QRectF visible_range(const RunSnapshot& run, const FigureState& state);
};

}  // namespace cascade::widgets
