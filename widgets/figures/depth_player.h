#pragma once
#include <QPainterPath>

#include "widgets/figure.h"

namespace cascade::widgets {

// The text as tokens, each coloured by its status at the selected layer; blends towards the next
// layer as state.phase goes 0 → 1; a hovered redundant token is linked to its representative.
// Tokens are chips with their text while they fit, one small cell each beyond that (long runs).
class DepthPlayerFigure final : public Figure {
 public:
  QString id() const override { return "depth"; }
  QString title() const override { return "Depth player"; }
  Placement placement() const override { return Placement::Centre; }
  bool links_on_hover() const override { return true; }
  QSizeF natural_size(const RunSnapshot& run) const override;
  double height_for_width(const RunSnapshot& run, const FigureState& state, double width) const override;
  void paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const override;
  Hit hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const override;

  struct Layout {
    QRectF header, body, legend;
    std::vector<QRectF> cells;  // one per token drawn: cells[i] is token first + i
    int64_t first = 0;          // the first token drawn (FigureState::tokens)
    bool chips = true;          // text chips (false: plain cells)
    int64_t cols = 0;           // cells per row (cell mode)
    double side = 0;            // cell side (cell mode)
    double font_pt = 9;
  };
  static Layout layout(const QRectF& rect, const RunSnapshot& run, const FigureState& state);
};

// Status legend entries (shared with the token map).
// The status colours and the marker of a second status (draw_also_marker) from `origin`, wrapped
// to `width`; status_legend_height says how tall that is.
void draw_status_legend(QPainter& p, QPointF origin, double font_pt, double width);
double status_legend_height(double width, double font_pt);
// The second channel beside colour: removed tokens striped rising (/), extra ones falling (\\),
// so that a reader who cannot tell vermillion from orange or green from purple still can.
bool status_hatched(TokenStatus s);
void hatch_status(QPainter& p, const QPainterPath& region, TokenStatus s, double font_pt);
// A token's second status (RunSnapshot::also): an inset outline and a corner dot in its colour.
void draw_also_marker(QPainter& p, const QRectF& cell, TokenStatus also, double font_pt);
// "Layer 3 (block 3) · r 41/180 · +2 −1 · missed 0" for the header lines.
QString layer_caption(const RunSnapshot& run, int64_t layer);

}  // namespace cascade::widgets
