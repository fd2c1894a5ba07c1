#include "widgets/figures/depth_player.h"

#include <QFontMetricsF>
#include <QPainterPath>

#include <cmath>

#include "widgets/figures/token_flow.h"
#include "widgets/palette.h"
#include "widgets/plot.h"

namespace cascade::widgets {

namespace {

constexpr int kMaxChipChars = 24;

QColor fill_for(const RunSnapshot& run, const FigureState& state, int64_t t) {
  const QColor now = status_color(run.status(state.layer, t));
  if (state.phase <= 0 || state.layer + 1 >= run.L()) return now;
  return mix(now, status_color(run.status(state.layer + 1, t)), state.phase);
}

}  // namespace

QString layer_caption(const RunSnapshot& run, int64_t layer) {
  const LayerMeasures& m = run.analysis().layers.at(layer);
  QString s = QString("Layer %1 of 0–%2 (block %3)  ·  r_casc %4 / %5  ·  r_ind %6")
                  .arg(layer)
                  .arg(run.L() - 1)
                  .arg(m.layer)
                  .arg(m.r_casc)
                  .arg(run.T())
                  .arg(m.r_ind);
  if (layer > 0) s += QString("  ·  +%1 \u2212%2").arg(m.adds).arg(m.removes);
  s += QString("  ·  missed %1").arg(m.missed.size());
  return s;
}

namespace {

std::vector<LegendEntry> status_legend(double font_pt) {
  std::vector<LegendEntry> entries;
  for (TokenStatus s : {TokenStatus::Representative, TokenStatus::Added, TokenStatus::Removed, TokenStatus::Missed,
                        TokenStatus::Extra, TokenStatus::Redundant})
    entries.push_back({status_color(s), status_name(s), false});
  // The second status a token can hold: an outline and a corner dot in its colour.
  LegendEntry also{status_color(TokenStatus::Removed), "+ also missed / extra", false};
  also.swatch = [font_pt](QPainter& p, const QRectF& square) {
    const QRectF cell = square.adjusted(-font_pt * 0.2, -font_pt * 0.15, font_pt * 0.5, font_pt * 0.15);
    p.setPen(Qt::NoPen);
    p.setBrush(status_color(TokenStatus::Removed));
    p.drawRect(cell);
    draw_also_marker(p, cell, TokenStatus::Missed, font_pt * 0.7);
  };
  entries.push_back(also);
  return entries;
}

}  // namespace

double status_legend_height(double width, double font_pt) {
  return legend_size(status_legend(font_pt), font_pt, width).height();
}

void draw_status_legend(QPainter& p, QPointF origin, double font_pt, double width) {
  draw_legend(p, origin, status_legend(font_pt), font_pt, width);
}

void draw_also_marker(QPainter& p, const QRectF& cell, TokenStatus also, double font_pt) {
  if (also == TokenStatus::Redundant) return;
  const double w = std::max(1.0, font_pt * 0.2);
  p.setPen(QPen(status_color(also), w));
  p.setBrush(Qt::NoBrush);
  p.drawRect(cell.adjusted(w / 2, w / 2, -w / 2, -w / 2));
  const double r = std::max(1.5, font_pt * 0.28);
  p.setPen(QPen(kInk, std::max(0.5, w * 0.4)));
  p.setBrush(status_color(also));
  p.drawEllipse(QPointF(cell.right() - r, cell.top() + r), r, r);
}

QSizeF DepthPlayerFigure::natural_size(const RunSnapshot& run) const {
  // About 12 tokens a line at 500 pt; tall enough for the text, capped at a page.
  const double lines = std::ceil(static_cast<double>(run.T()) / 11.0);
  return {500, std::clamp(60 + lines * 17, 160.0, 700.0)};
}

DepthPlayerFigure::Layout DepthPlayerFigure::layout(const QRectF& rect, const RunSnapshot& run,
                                                    const FigureState& state) {
  Layout out;
  out.font_pt = 9 * state.scale;
  const double f = out.font_pt;
  out.header = QRectF(rect.left(), rect.top(), rect.width(), f * 3.6);
  const double legend_h = status_legend_height(rect.width() - f * 1.2, f) + f * 0.7;
  out.legend = QRectF(rect.left(), rect.bottom() - legend_h, rect.width(), legend_h);
  out.body = QRectF(rect.left() + f * 0.6, out.header.bottom(), rect.width() - f * 1.2,
                    out.legend.top() - out.header.bottom() - f * 0.4);
  // Chips flowing like text while they fit; one cell per token beyond that (long runs).
  if (run.T() <= 4096 && flow_chips(run, out.body, f, kMaxChipChars, out.cells)) return out;
  out.chips = false;
  const Grid grid = grid_cells(out.body, run.T(), out.cells);
  out.cols = grid.cols;
  out.side = grid.side;
  return out;
}

void DepthPlayerFigure::paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const {
  const Layout lay = layout(rect, run, state);
  const double f = lay.font_pt;
  // Header: what layer, what the numbers are.
  p.setPen(kInk);
  p.setFont(figure_font(f * 1.1, true));
  p.drawText(QRectF(lay.header.left() + f * 0.6, lay.header.top(), lay.header.width(), f * 1.9),
             Qt::AlignLeft | Qt::AlignVCenter, layer_caption(run, state.layer));
  p.setFont(figure_font(f * 0.9));
  p.setPen(kMuted);
  QString sub = QString("τ = %1 (θ = %2), %3")
                    .arg(run.tau(), 0, 'f', 2)
                    .arg(run.analysis().theta, 0, 'f', 3)
                    .arg(QString::fromStdString(to_string(run.rule())));
  if (!state.anonymous) sub += "  ·  " + QString::fromStdString(short_source(run.record()));
  if (state.phase > 0 && state.layer + 1 < run.L()) sub += QString("  ·  → layer %1").arg(state.layer + 1);
  p.drawText(QRectF(lay.header.left() + f * 0.6, lay.header.top() + f * 1.8, lay.header.width() - f, f * 1.6),
             Qt::AlignLeft | Qt::AlignVCenter, QFontMetricsF(p.font()).elidedText(sub, Qt::ElideMiddle, lay.header.width() - f));

  const int64_t T = run.T();
  if (lay.chips) {
    p.setFont(figure_font(f));
    for (int64_t t = 0; t < T; ++t) {
      const QRectF& c = lay.cells[t];
      const QColor fill = fill_for(run, state, t);
      p.setPen(Qt::NoPen);
      p.setBrush(fill);
      p.drawRoundedRect(c, f * 0.3, f * 0.3);
      p.setPen(qGray(fill.rgb()) < 140 ? QColor(Qt::white) : kInk);
      p.drawText(c, Qt::AlignCenter, token_label(run.token(t), kMaxChipChars));
      draw_also_marker(p, c, run.also(state.layer, t), f);
    }
  } else {
    p.setRenderHint(QPainter::Antialiasing, false);
    for (int64_t t = 0; t < T; ++t) p.fillRect(lay.cells[t], fill_for(run, state, t));
    if (lay.side >= 6)
      for (int64_t t = 0; t < T; ++t) draw_also_marker(p, lay.cells[t], run.also(state.layer, t), lay.side);
    p.setRenderHint(QPainter::Antialiasing, true);
  }
  // Selection and hover outlines, and the link from a redundant token to its representative.
  auto outline = [&](int64_t t, const QColor& color, double width) {
    if (t < 0 || t >= T) return;
    p.setPen(QPen(color, width));
    p.setBrush(Qt::NoBrush);
    const QRectF c = lay.cells[t].adjusted(-width / 2, -width / 2, width / 2, width / 2);
    if (lay.chips) p.drawRoundedRect(c, f * 0.3, f * 0.3);
    else p.drawRect(c);
  };
  if (state.hover_token >= 0 && state.link_to >= 0 && state.link_to < T && state.link_to != state.hover_token) {
    const QPointF a = lay.cells[state.hover_token].center(), b = lay.cells[state.link_to].center();
    QPainterPath path(a);
    const QPointF mid = (a + b) / 2 - QPointF(0, std::max(f * 2.0, std::abs(a.x() - b.x()) * 0.15));
    path.quadTo(mid, b);
    p.setPen(QPen(kInk, 1.4, Qt::DashLine));
    p.setBrush(Qt::NoBrush);
    p.drawPath(path);
    outline(state.link_to, kInk, 1.6);
  }
  outline(state.hover_token, kMuted, 1.2);
  outline(state.token, kInk, 2.0);
  draw_status_legend(p, QPointF(lay.legend.left() + f * 0.6, lay.legend.top() + f * 0.3), f, lay.legend.width() - f * 1.2);
}

Hit DepthPlayerFigure::hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const {
  const Layout lay = layout(rect, run, state);
  Hit h;
  if (!lay.chips) {
    const double side = lay.side;
    const int64_t cols = lay.cols;
    if (!lay.body.contains(pos)) return h;
    const int64_t col = static_cast<int64_t>((pos.x() - lay.body.left()) / side);
    const int64_t row = static_cast<int64_t>((pos.y() - lay.body.top()) / side);
    const int64_t t = row * cols + col;
    if (col < cols && t >= 0 && t < run.T() && lay.cells[t].contains(pos)) h.token = t;
  } else {
    for (int64_t t = 0; t < run.T(); ++t)
      if (lay.cells[t].contains(pos)) {
        h.token = t;
        break;
      }
  }
  if (h.token >= 0) {
    h.layer = state.layer;
    h.tooltip = QString("%1  [%2]  %3").arg(QString::fromStdString(run.token(h.token))).arg(h.token)
                    .arg(status_name(run.status(state.layer, h.token)));
  }
  return h;
}

}  // namespace cascade::widgets
