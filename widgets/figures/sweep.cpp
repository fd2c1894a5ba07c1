#include "widgets/figures/sweep.h"

#include <algorithm>
#include <cmath>

#include "core/names.h"
#include "widgets/palette.h"
#include "widgets/plot.h"

namespace cascade::widgets {

namespace {

bool has_quality(const std::vector<SweepEntry>& s) {
  return std::any_of(s.begin(), s.end(), [](const SweepEntry& p) { return p.delta_ppl.has_value(); });
}
double tau_of(const SweepEntry& e) { return e.analysis.tau; }

QString sweep_title(const RunSnapshot& run, const FigureState& state) {
  if (!state.title) return {};
  return QString("τ sweep (%1, T = %2, %3 layers)").arg(QString::fromStdString(to_string(run.rule()))).arg(run.T()).arg(run.L());
}

std::vector<LegendEntry> sweep_legend(const RunSnapshot& run) {
  std::vector<LegendEntry> legend = {{okabe_ito::orange, "r_{ind} / T"},
                                     {okabe_ito::blue, "r_{casc} / T", true, Qt::DashLine},
                                     {okabe_ito::bluish_green, "Gram savings"},
                                     {okabe_ito::reddish_purple, "cascade fidelity", true, Qt::DotLine}};
  if (has_quality(run.record().sweep)) {
    legend.push_back({okabe_ito::sky_blue, "ADA attn. error", true, Qt::DashDotLine});
    legend.push_back({kInk, "ΔPPL"});
  }
  return legend;
}

// The legend under the x-axis label, wrapped to the page.
double legend_below(const RunSnapshot& run, double width, double f) {
  return legend_size(sweep_legend(run), f, width - f).height() + f * 0.4;
}

Axes sweep_axes(const QRectF& rect, const RunSnapshot& run, const FigureState& state, double f) {
  const auto& s = run.record().sweep;
  const QRectF area = inner_area(rect, f, has_quality(s), sweep_title(run, state), legend_below(run, rect.width(), f));
  const double t0 = s.empty() ? 0 : tau_of(s.front()), t1 = s.empty() ? 1 : tau_of(s.back());
  return Axes{area, t0, t1 > t0 ? t1 : t0 + 1, 0, 1.05};
}

// One sweep field (core/names.h) against τ.
void polyline(QPainter& p, const Axes& a, const std::vector<SweepEntry>& s, const QColor& c, Qt::PenStyle style,
              const names::SweepField& y) {
  p.setPen(QPen(c, 1.7, style));
  p.setBrush(Qt::NoBrush);
  std::optional<QPointF> last;
  for (const auto& pt : s) {
    const auto v = y.get(pt);
    if (!v || !std::isfinite(*v)) {
      last.reset();
      continue;
    }
    const QPointF q(a.px(tau_of(pt)), a.py(*v));
    if (last) p.drawLine(*last, q);
    last = q;
  }
}

}  // namespace

double SweepFigure::height_for_width(const RunSnapshot& run, const FigureState& state, double width) const {
  const double f = type_pt(state);
  const TypeFloor floor(state.font_pt);
  return plot_page_height(width, f, has_quality(run.record().sweep), sweep_title(run, state), 0.62,
                          legend_below(run, width, f));
}

void SweepFigure::paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const {
  const double f = type_pt(state);
  const auto& s = run.record().sweep;
  const Axes a = sweep_axes(rect, run, state, f);
  draw_title(p, rect, sweep_title(run, state), f);
  draw_axes(p, a, "τ (θ = 1 − τ²)", "fraction", f);
  polyline(p, a, s, okabe_ito::orange, Qt::SolidLine, names::sweep::r_ind_over_T);
  polyline(p, a, s, okabe_ito::blue, Qt::DashLine, names::sweep::r_casc_over_T);
  polyline(p, a, s, okabe_ito::bluish_green, Qt::SolidLine, names::sweep::of(names::summary::gram_savings));
  polyline(p, a, s, okabe_ito::reddish_purple, Qt::DotLine, names::sweep::of(names::summary::mean_casc_fidelity));
  if (has_quality(s)) {
    polyline(p, a, s, okabe_ito::sky_blue, Qt::DashDotLine, names::sweep::ada_error);
    double hi = 0.1;
    for (const auto& x : s)
      if (x.delta_ppl) hi = std::max(hi, *x.delta_ppl);
    const Axes right{a.area, a.x0, a.x1, 0, hi * 1.1};
    polyline(p, right, s, kInk, Qt::SolidLine, names::sweep::delta_ppl);
    draw_right_axis(p, right, "ΔPPL (ADA − exact)", f);
  }
  // The current τ.
  const double x = a.px(std::clamp(run.tau(), a.x0, a.x1));
  p.setPen(QPen(okabe_ito::vermillion, 1.4, Qt::DashLine));
  p.drawLine(QPointF(x, a.area.top()), QPointF(x, a.area.bottom()));
  p.setFont(figure_font(f * 0.85, true));
  p.setPen(okabe_ito::vermillion);
  const QString tau_label = QString("τ = %1").arg(run.tau(), 0, 'f', 3);
  const double label_w = figure_metrics(p.font()).horizontalAdvance(tau_label);
  const double label_x = x + 3 + label_w <= a.area.right() ? x + 3 : x - 3 - label_w;  // beside the line, inside the plot
  p.drawText(QRectF(label_x, a.area.top() + 2, label_w + 1, f * 1.4), Qt::AlignLeft | Qt::AlignVCenter, tau_label);
  draw_legend(p, QPointF(rect.left() + f * 0.5, rect.bottom() - legend_below(run, rect.width(), f)), sweep_legend(run), f,
              rect.width() - f);
}

std::optional<double> SweepFigure::tau_at(const QRectF& rect, const RunSnapshot& run, const FigureState& state,
                                          QPointF pos) const {
  const Axes a = sweep_axes(rect, run, state, type_pt(state));
  if (!a.area.adjusted(-6, -6, 6, 6).contains(pos)) return std::nullopt;
  return std::clamp(a.x_of(pos.x()), a.x0, a.x1);
}

Hit SweepFigure::hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const {
  Hit h;
  const auto tau = tau_at(rect, run, state, pos);
  const auto& s = run.record().sweep;
  if (!tau || s.empty()) return h;
  const auto nearest = std::min_element(s.begin(), s.end(), [&](const SweepEntry& a, const SweepEntry& b) {
    return std::abs(tau_of(a) - *tau) < std::abs(tau_of(b) - *tau);
  });
  const Summary& m = nearest->analysis.summary;
  h.tooltip = QString("τ = %1: r_ind/T %2, r_casc/T %3, savings %4 %, cascade fidelity %5")
                  .arg(tau_of(*nearest), 0, 'f', 3).arg(*names::sweep::r_ind_over_T.get(*nearest), 0, 'f', 3)
                  .arg(*names::sweep::r_casc_over_T.get(*nearest), 0, 'f', 3)
                  .arg(m.gram_savings * 100, 0, 'f', 1).arg(m.mean_casc_fidelity, 0, 'f', 3);
  if (nearest->delta_ppl) h.tooltip += QString(", ΔPPL %1").arg(*nearest->delta_ppl, 0, 'f', 3);
  return h;
}

}  // namespace cascade::widgets
