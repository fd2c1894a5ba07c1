#include "widgets/figures/profile.h"

#include <algorithm>
#include <cmath>

#include "widgets/palette.h"
#include "widgets/plot.h"

namespace cascade::widgets {

namespace {

struct Panels {
  Axes top, bottom;
  QPointF legend;  // the legend's origin, in the gap between the panels
  double legend_width = 0;
};

QString profile_title(const RunSnapshot& run, const FigureState& state) {
  if (!state.title) return {};
  return QString("Representatives per layer (T = %1, τ = %2)").arg(run.T()).arg(run.tau(), 0, 'f', 2);
}

std::vector<LegendEntry> profile_legend() {
  return {{okabe_ito::orange, "r_{ind}"},
          {okabe_ito::blue, "r_{casc}", true, Qt::DashLine},
          {okabe_ito::bluish_green, "adds", false},
          {okabe_ito::vermillion, "removes", false},
          {kInk, "turnover"}};
}

// Between the panels: the top panel's tick labels, then the legend (wrapped to the plot's width).
double panel_gap(double plot_width, double f) {
  return f * 2.0 + legend_size(profile_legend(), f, plot_width).height() + f * 0.8;
}

Panels profile_panels(const QRectF& rect, const RunSnapshot& run, const FigureState& state, double f) {
  const QRectF inner = inner_area(rect, f, /*right_axis=*/true, profile_title(run, state));
  const double gap = panel_gap(inner.width(), f), h_top = (inner.height() - gap) * 0.55;
  Panels out;
  const auto [l0, l1] = state.layers.within(run.L());
  const double x0 = static_cast<double>(l0) - 0.5, x1 = static_cast<double>(l1) - 0.5;
  double r_max = 1;
  int64_t change_max = 1;
  for (int64_t l = l0; l < l1; ++l) {
    const LayerMeasures& m = run.analysis().layers[l];
    r_max = std::max({r_max, static_cast<double>(m.r_ind), static_cast<double>(m.r_casc)});
    change_max = std::max({change_max, m.adds, m.removes});
  }
  out.top = Axes{QRectF(inner.left(), inner.top(), inner.width(), h_top), x0, x1, 0, r_max * 1.08};
  out.bottom = Axes{QRectF(inner.left(), inner.top() + h_top + gap, inner.width(), inner.height() - h_top - gap), x0, x1,
                    -static_cast<double>(change_max) * 1.1, static_cast<double>(change_max) * 1.1};
  out.legend = QPointF(inner.left(), inner.top() + h_top + f * 2.0);
  out.legend_width = inner.width();
  return out;
}

}  // namespace

double ProfileFigure::height_for_width(const RunSnapshot& run, const FigureState& state, double width) const {
  const double f = type_pt(state);
  const TypeFloor floor(state.font_pt);
  const QString title = profile_title(run, state);
  const double plot_w = inner_area(QRectF(0, 0, width, 1000), f, true, title).width();
  // Two panels, each at least ~10 type sizes tall (their rotated labels), and the gap.
  const double panels = std::max(f * 20, plot_w * 0.62) + panel_gap(plot_w, f);
  return plot_page_height(width, f, true, title, 0.0, 0.0, panels);
}

void ProfileFigure::paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const {
  const double f = type_pt(state);
  const auto& layers = run.analysis().layers;
  const int64_t L = run.L();
  const Panels pan = profile_panels(rect, run, state, f);
  const auto [l0, l1] = state.layers.within(L);
  draw_title(p, rect, profile_title(run, state), f);
  draw_axes(p, pan.top, "", "representatives", f, true);
  std::vector<std::optional<double>> r_ind, r_casc, turnover;
  for (int64_t l = 0; l < L; ++l) {  // the whole depth, the window's x range clips it
    const LayerMeasures& m = layers[l];
    if (l < l0 || l >= l1) {
      r_ind.emplace_back(), r_casc.emplace_back(), turnover.emplace_back();
      continue;
    }
    r_ind.push_back(static_cast<double>(m.r_ind));
    r_casc.push_back(static_cast<double>(m.r_casc));
    turnover.push_back(m.turnover ? std::optional<double>(*m.turnover * 100.0) : std::nullopt);
  }
  draw_layer_series(p, pan.top, r_ind, okabe_ito::orange, Qt::SolidLine, true);
  draw_layer_series(p, pan.top, r_casc, okabe_ito::blue, Qt::DashLine, true);
  mark_layer(p, pan.top, highlighted_layer(state));

  draw_axes(p, pan.bottom, "layer", "tokens changed", f, true);
  const double bw = pan.bottom.area.width() / static_cast<double>(l1 - l0) * 0.6;
  p.setPen(Qt::NoPen);
  for (int64_t l = l0; l < l1; ++l) {
    const double x = pan.bottom.px(static_cast<double>(l));
    const double zero = pan.bottom.py(0);
    p.setBrush(okabe_ito::bluish_green);
    p.drawRect(QRectF(QPointF(x - bw / 2, pan.bottom.py(static_cast<double>(layers[l].adds))), QPointF(x + bw / 2, zero)));
    p.setBrush(okabe_ito::vermillion);
    p.drawRect(QRectF(QPointF(x - bw / 2, zero), QPointF(x + bw / 2, pan.bottom.py(-static_cast<double>(layers[l].removes)))));
  }
  p.setPen(QPen(kInk, 0.6));
  p.drawLine(QPointF(pan.bottom.area.left(), pan.bottom.py(0)), QPointF(pan.bottom.area.right(), pan.bottom.py(0)));
  double t_max = 1;
  for (const auto& t : turnover)
    if (t) t_max = std::max(t_max, *t);
  const Axes right{pan.bottom.area, pan.bottom.x0, pan.bottom.x1, 0, t_max * 1.1};
  draw_layer_series(p, right, turnover, kInk, Qt::SolidLine, true);
  draw_right_axis(p, right, "turnover (%)", f);
  mark_layer(p, pan.bottom, highlighted_layer(state));
  // The legend sits in the gap between the panels, never on the data.
  draw_legend(p, pan.legend, profile_legend(), f, pan.legend_width);
}

Hit ProfileFigure::hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const {
  const Panels pan = profile_panels(rect, run, state, type_pt(state));
  Hit h;
  if (!pan.top.area.contains(pos) && !pan.bottom.area.contains(pos)) return h;
  const auto [l0, l1] = state.layers.within(run.L());
  h.layer = std::clamp(layer_at(pan.top, pos, run.L()), l0, l1 - 1);
  const auto& m = run.analysis().layers[h.layer];
  h.tooltip = QString("layer %1: r_ind %2, r_casc %3, +%4 \u2212%5, turnover %6")
                  .arg(h.layer).arg(m.r_ind).arg(m.r_casc).arg(m.adds).arg(m.removes)
                  .arg(m.turnover ? QString::number(*m.turnover * 100, 'f', 1) + " %" : "n/a");
  return h;
}

}  // namespace cascade::widgets
