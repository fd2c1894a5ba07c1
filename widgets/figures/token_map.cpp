#include "widgets/figures/token_map.h"

#include <QImage>
#include <QPainterPath>

#include "widgets/figures/depth_player.h"
#include "widgets/figures/method_view.h"
#include "widgets/palette.h"
#include "widgets/plot.h"

namespace cascade::widgets {

namespace {

// Method mode: the picked methods' sets colour the map (at every layer where the comparison has them).
bool by_method(const FigureState& state) { return method_colouring(state, state.layer); }

// The legend's width and height under the map (the counts are the selected layer's).
double legend_width(const QRectF& rect, double f) { return rect.width() - f * 2; }
double legend_height(const QRectF& rect, const RunSnapshot& run, const FigureState& state, double f) {
  if (by_method(state)) return legend_size(membership_legend(state, state.layer, run.T()), f, legend_width(rect, f)).height();
  return status_legend_height(legend_width(rect, f), f);
}

QString map_title(const RunSnapshot& run, const FigureState& state) {
  if (!state.title) return {};
  const QString what = by_method(state) ? "Tokens " + method_caption(state) + " by layer" : QString("Token status by layer");
  return QString("%1 (τ = %2, %3)").arg(what).arg(run.tau(), 0, 'f', 2).arg(QString::fromStdString(to_string(run.rule())));
}

QRectF map_area(const QRectF& rect, const RunSnapshot& run, const FigureState& state, double f) {
  return inner_area(rect, f, false, map_title(run, state), legend_height(rect, run, state, f) + f * 0.4);  // the legend below
}

}  // namespace

QSizeF TokenMapFigure::natural_size(const RunSnapshot& run) const {
  return {500, std::clamp(110.0 + 9.0 * static_cast<double>(run.L()), 200.0, 520.0)};
}

double TokenMapFigure::height_for_width(const RunSnapshot& run, const FigureState& state, double width) const {
  const double f = type_pt(state);
  const TypeFloor floor(state.font_pt);
  const auto [l0, l1] = state.layers.within(run.L());
  // A row per layer at least a type size tall (its tick label), and never under ~10 type sizes.
  const double rows = std::max(f * 1.15 * static_cast<double>(l1 - l0), f * 6);
  return plot_page_height(width, f, false, map_title(run, state), 0.0, legend_height(QRectF(0, 0, width, 1), run, state, f) + f * 0.4,
                          rows);
}

void TokenMapFigure::paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const {
  const double f = type_pt(state);
  const auto [l0, l1] = state.layers.within(run.L());
  const auto [t0, t1] = state.tokens.within(run.T());
  const int64_t L = l1 - l0, T = t1 - t0;  // the window drawn
  draw_title(p, rect, map_title(run, state), f);
  const QRectF area = map_area(rect, run, state, f);
  std::vector<QRgb> colors(static_cast<size_t>(L * T));
  QRgb lut[kNumStatuses];
  for (int s = 0; s < kNumStatuses; ++s) lut[s] = status_color(static_cast<TokenStatus>(s)).rgb();
  const bool methods = by_method(state);
  for (int64_t l = 0; l < L; ++l) {
    if (methods) {  // a layer the comparison lacks stays in the statuses
      if (method_colouring(state, l0 + l)) {
        const bool diff = method_difference(state, l0 + l);
        for (int64_t t = 0; t < T; ++t) colors[l * T + t] = membership_color(membership(state, l0 + l, t0 + t), diff).rgb();
        continue;
      }
    }
    for (int64_t t = 0; t < T; ++t) colors[l * T + t] = lut[static_cast<int>(run.status(l0 + l, t0 + t))];
  }
  draw_cells(p, area, L, T, colors);
  const double cw = area.width() / static_cast<double>(T), ch = area.height() / static_cast<double>(L);
  // The second channel beside colour (deuteranopia and protanopia merge removed with missed and
  // added with extra): removed and extra cells are striped, each its own way.
  for (TokenStatus hatched : {TokenStatus::Removed, TokenStatus::Extra}) {
    if (methods) break;
    QPainterPath cells;
    for (int64_t l = 0; l < L; ++l)
      for (int64_t t = 0; t < T; ++t)
        if (run.status(l0 + l, t0 + t) == hatched) cells.addRect(QRectF(area.left() + t * cw, area.top() + l * ch, cw, ch));
    hatch_status(p, cells, hatched, f);
  }
  Axes axes{area, static_cast<double>(t0) - 0.5, static_cast<double>(t1) - 0.5, static_cast<double>(l1) - 0.5,
            static_cast<double>(l0) - 0.5};
  // y is flipped (the first layer at the top): Axes maps y0 to the bottom, so give y0 = l1 − 0.5.
  draw_axes(p, axes, "token position", "layer", f, true, false, true);
  // A second status (a removed token that is also missed, an added one that is also extra): a dot.
  if (cw >= 2.5 && !methods)
    for (int64_t l = 0; l < L; ++l)
      for (int64_t t = 0; t < T; ++t)
        if (const TokenStatus also = run.also(l0 + l, t0 + t); also != TokenStatus::Redundant) {
          const double r = std::max(1.0, std::min(cw, ch) * 0.32);
          p.setPen(QPen(kInk, 0.4));
          p.setBrush(status_color(also));
          p.drawEllipse(QPointF(area.left() + (t + 0.5) * cw, area.top() + (l + 0.5) * ch), r, r);
        }
  p.setBrush(Qt::NoBrush);
  if (const int64_t sel = highlighted_layer(state); sel >= l0 && sel < l1) {
    p.setPen(QPen(kInk, 1.5));
    p.drawRect(QRectF(area.left(), area.top() + (sel - l0) * ch, area.width(), ch));
  }
  if (const int64_t sel = highlighted_token(state); sel >= t0 && sel < t1) {
    p.setPen(QPen(kInk, 1.5));
    p.drawRect(QRectF(area.left() + (sel - t0) * cw, area.top(), std::max(cw, 1.0), area.height()));
  }
  const QPointF legend_at(rect.left() + f, rect.bottom() - legend_height(rect, run, state, f) - f * 0.2);
  if (methods) draw_legend(p, legend_at, membership_legend(state, state.layer, run.T()), f, legend_width(rect, f));
  else draw_status_legend(p, legend_at, f, legend_width(rect, f));
}

Hit TokenMapFigure::hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const {
  const double f = type_pt(state);
  const QRectF area = map_area(rect, run, state, f);
  const auto [l0, l1] = state.layers.within(run.L());
  const auto [t0, t1] = state.tokens.within(run.T());
  Hit h;
  if (!area.contains(pos)) return h;
  h.token = std::clamp<int64_t>(t0 + static_cast<int64_t>((pos.x() - area.left()) / area.width() * (t1 - t0)), t0, t1 - 1);
  h.layer = std::clamp<int64_t>(l0 + static_cast<int64_t>((pos.y() - area.top()) / area.height() * (l1 - l0)), l0, l1 - 1);
  h.tooltip = QString("layer %1, token %2 %3: %4").arg(h.layer).arg(h.token)
                  .arg(QString::fromStdString(run.token(h.token)))
                  .arg(status_name(run.status(h.layer, h.token)));
  if (method_colouring(state, h.layer)) {
    h.tooltip += "; " + membership_name(state, membership(state, h.layer, h.token));
    return h;
  }
  if (const TokenStatus also = run.also(h.layer, h.token); also != TokenStatus::Redundant)
    h.tooltip += QString(" + ") + status_name(also);
  return h;
}

}  // namespace cascade::widgets
