#include "widgets/figures/gram_cost.h"

#include <algorithm>
#include <cmath>

#include "widgets/palette.h"
#include "widgets/plot.h"

namespace cascade::widgets {

namespace {

QString cost_title(const RunSnapshot& run, const FigureState& state) {
  if (!state.title) return {};
  return QString("Gram entries per layer (total savings %1 %)").arg(run.analysis().summary.gram_savings * 100, 0, 'f', 1);
}

std::vector<LegendEntry> cost_legend() {
  return {{QColor(170, 170, 170), "independent (T²)", false},
          {okabe_ito::blue, "cascade", false},
          {okabe_ito::vermillion, "cumulative savings"}};
}

// The legend under the x-axis label, wrapped to the page (never over the bars).
double legend_below(double width, double f) { return legend_size(cost_legend(), f, width - f).height() + f * 0.4; }

Axes cost_axes(const QRectF& rect, const RunSnapshot& run, const FigureState& state, double f) {
  const auto [l0, l1] = state.layers.within(run.L());
  double top = 1;
  for (int64_t l = l0; l < l1; ++l) {
    const LayerMeasures& m = run.analysis().layers[l];
    top = std::max({top, static_cast<double>(m.gram_entries_ind), static_cast<double>(m.gram_entries_casc)});
  }
  return Axes{inner_area(rect, f, true, cost_title(run, state), legend_below(rect.width(), f)), static_cast<double>(l0) - 0.5, static_cast<double>(l1) - 0.5, 0,
              top * 1.1};
}

}  // namespace

double GramCostFigure::height_for_width(const RunSnapshot& run, const FigureState& state, double width) const {
  const double f = type_pt(state);
  const TypeFloor floor(state.font_pt);
  // At least tall enough for the rotated axis labels.
  return plot_page_height(width, f, true, cost_title(run, state), 0.62, legend_below(width, f),
                          rich_width("cumulative savings (%)", figure_font(f)) + f);
}

void GramCostFigure::paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const {
  const double f = type_pt(state);
  const auto& layers = run.analysis().layers;
  const int64_t L = run.L();
  const Axes a = cost_axes(rect, run, state, f);
  const auto [l0, l1] = state.layers.within(L);
  draw_title(p, rect, cost_title(run, state), f);
  draw_axes(p, a, "layer", "Gram entries (pairs)", f, true);
  const double bw = a.area.width() / static_cast<double>(l1 - l0) * 0.38;
  p.setPen(Qt::NoPen);
  // The cumulative savings count from the window's first layer.
  std::vector<std::optional<double>> cumulative(static_cast<size_t>(l0));
  double sum_ind = 0, sum_casc = 0;
  for (int64_t l = l0; l < l1; ++l) {
    const double x = a.px(static_cast<double>(l));
    p.setBrush(QColor(170, 170, 170));
    p.drawRect(QRectF(QPointF(x - bw, a.py(static_cast<double>(layers[l].gram_entries_ind))), QPointF(x, a.py(0))));
    p.setBrush(okabe_ito::blue);
    p.drawRect(QRectF(QPointF(x, a.py(static_cast<double>(layers[l].gram_entries_casc))), QPointF(x + bw, a.py(0))));
    sum_ind += static_cast<double>(layers[l].gram_entries_ind);
    sum_casc += static_cast<double>(layers[l].gram_entries_casc);
    cumulative.push_back(sum_ind > 0 ? 100.0 * (1.0 - sum_casc / sum_ind) : 0.0);
  }
  double lo = 0, hi = 10;
  for (const auto& c : cumulative)
    if (c) lo = std::min(lo, *c), hi = std::max(hi, *c);
  const Axes right{a.area, a.x0, a.x1, lo, hi * 1.1};
  draw_layer_series(p, right, cumulative, okabe_ito::vermillion, Qt::SolidLine, true);
  draw_right_axis(p, right, "cumulative savings (%)", f);
  mark_layer(p, a, highlighted_layer(state));
  draw_legend(p, QPointF(rect.left() + f * 0.5, rect.bottom() - legend_below(rect.width(), f)), cost_legend(), f,
              rect.width() - f);
}

Hit GramCostFigure::hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const {
  const Axes a = cost_axes(rect, run, state, type_pt(state));
  Hit h;
  if (!a.area.contains(pos)) return h;
  const auto [l0, l1] = state.layers.within(run.L());
  h.layer = std::clamp(layer_at(a, pos, run.L()), l0, l1 - 1);
  const auto& m = run.analysis().layers[h.layer];
  h.tooltip = QString("layer %1: %2 entries independent, %3 cascade").arg(h.layer).arg(m.gram_entries_ind).arg(m.gram_entries_casc);
  return h;
}

}  // namespace cascade::widgets
