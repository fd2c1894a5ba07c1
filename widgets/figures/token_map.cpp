#include "widgets/figures/token_map.h"

#include <QImage>

#include "widgets/figures/depth_player.h"
#include "widgets/palette.h"
#include "widgets/plot.h"

namespace cascade::widgets {

namespace {

// The legend's width and height under the map.
double legend_width(const QRectF& rect, double f) { return rect.width() - f * 2; }
double legend_height(const QRectF& rect, double f) { return status_legend_height(legend_width(rect, f), f); }

QRectF map_area(const QRectF& rect, double f) {
  QRectF a = inner_area(rect, f, false, true);
  a.setBottom(a.bottom() - legend_height(rect, f));  // room for the legend
  return a;
}

}  // namespace

QSizeF TokenMapFigure::natural_size(const RunSnapshot& run) const {
  return {500, std::clamp(110.0 + 9.0 * static_cast<double>(run.L()), 200.0, 520.0)};
}

void TokenMapFigure::paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const {
  const double f = 9 * state.scale;
  const int64_t L = run.L(), T = run.T();
  draw_title(p, rect, QString("Token status by layer (τ = %1, %2)").arg(run.tau(), 0, 'f', 2)
                          .arg(QString::fromStdString(to_string(run.rule()))), f);
  const QRectF area = map_area(rect, f);
  std::vector<QRgb> colors(static_cast<size_t>(L * T));
  QRgb lut[kNumStatuses];
  for (int s = 0; s < kNumStatuses; ++s) lut[s] = status_color(static_cast<TokenStatus>(s)).rgb();
  for (int64_t l = 0; l < L; ++l)
    for (int64_t t = 0; t < T; ++t) colors[l * T + t] = lut[static_cast<int>(run.status(l, t))];
  draw_cells(p, area, L, T, colors);
  Axes axes{area, -0.5, static_cast<double>(T) - 0.5, static_cast<double>(L) - 0.5, -0.5};
  // y is flipped (layer 0 at the top): Axes maps y0 to the bottom, so give y0 = L − 0.5.
  draw_axes(p, axes, "token position", "layer", f, true, false, true);
  const double cw = area.width() / static_cast<double>(T), ch = area.height() / static_cast<double>(L);
  // A second status (a removed token that is also missed, an added one that is also extra): a dot.
  if (cw >= 2.5)
    for (int64_t l = 0; l < L; ++l)
      for (int64_t t = 0; t < T; ++t)
        if (const TokenStatus also = run.also(l, t); also != TokenStatus::Redundant) {
          const double r = std::max(1.0, std::min(cw, ch) * 0.32);
          p.setPen(QPen(kInk, 0.4));
          p.setBrush(status_color(also));
          p.drawEllipse(QPointF(area.left() + (t + 0.5) * cw, area.top() + (l + 0.5) * ch), r, r);
        }
  p.setBrush(Qt::NoBrush);
  if (state.layer >= 0 && state.layer < L) {
    p.setPen(QPen(kInk, 1.5));
    p.drawRect(QRectF(area.left(), area.top() + state.layer * ch, area.width(), ch));
  }
  if (state.token >= 0 && state.token < T) {
    p.setPen(QPen(kInk, 1.5));
    p.drawRect(QRectF(area.left() + state.token * cw, area.top(), std::max(cw, 1.0), area.height()));
  }
  draw_status_legend(p, QPointF(rect.left() + f, rect.bottom() - legend_height(rect, f) - f * 0.2), f, legend_width(rect, f));
}

Hit TokenMapFigure::hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const {
  const double f = 9 * state.scale;
  const QRectF area = map_area(rect, f);
  Hit h;
  if (!area.contains(pos)) return h;
  h.token = std::clamp<int64_t>(static_cast<int64_t>((pos.x() - area.left()) / area.width() * run.T()), 0, run.T() - 1);
  h.layer = std::clamp<int64_t>(static_cast<int64_t>((pos.y() - area.top()) / area.height() * run.L()), 0, run.L() - 1);
  h.tooltip = QString("layer %1, token %2 %3: %4").arg(h.layer).arg(h.token)
                  .arg(QString::fromStdString(run.token(h.token)))
                  .arg(status_name(run.status(h.layer, h.token)));
  if (const TokenStatus also = run.also(h.layer, h.token); also != TokenStatus::Redundant)
    h.tooltip += QString(" + ") + status_name(also);
  return h;
}

}  // namespace cascade::widgets
