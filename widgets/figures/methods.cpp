#include "widgets/figures/methods.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "widgets/figures/method_view.h"
#include "widgets/palette.h"
#include "widgets/plot.h"

namespace cascade::widgets {

namespace {

using Axis = std::optional<double> MethodLayer::*;
// attn_err needs the model's attention: without it (an activation file, a session) no method has
// one, and the figure plots coverage instead (the title says so).
bool any_attn_err(const Comparison& c) {
  for (const MethodResult& r : c.methods)
    for (const MethodLayer& l : r.layers)
      if (l.attn_err) return true;
  return false;
}
bool plots_coverage(const FigureState& state) {
  return state.methods_coverage || (state.comparison && !any_attn_err(*state.comparison));
}
Axis axis_of(const FigureState& state) { return plots_coverage(state) ? &MethodLayer::coverage : &MethodLayer::attn_err; }
QString axis_name(const FigureState& state) { return plots_coverage(state) ? "coverage" : "attn_err"; }

QString methods_title(const RunSnapshot& run, const FigureState& state) {
  if (!state.title || !state.comparison) return {};
  const Comparison& c = *state.comparison;
  QString t = QString("%1 by layer at an equal budget (%2 budget, τ = %3, T = %4)")
                  .arg(axis_name(state), QString::fromStdString(to_string(c.budget))).arg(c.tau, 0, 'f', 2).arg(c.T);
  if (!state.methods_coverage && plots_coverage(state)) t += " — attn_err needs the model";
  return t;
}

// A method's values on the axis at every analysed layer (none where it was not measured).
std::vector<std::optional<double>> values(const MethodResult& r, Axis axis, int64_t L) {
  std::vector<std::optional<double>> ys(static_cast<size_t>(L));
  for (size_t i = 0; i < r.layers.size() && i < ys.size(); ++i) ys[i] = r.layers[i].*axis;
  return ys;
}

std::vector<LegendEntry> methods_legend(const FigureState& state) {
  std::vector<LegendEntry> out;
  for (const MethodResult& r : state.comparison->methods) {
    const SeriesStyle st = method_style(r.method);
    const QString why = missing_reason(r, axis_of(state));
    if (why.isEmpty()) out.push_back({st.color, method_label(r.method), true, st.style});
    else out.push_back({mix(st.color, Qt::white, 0.55), method_label(r.method) + ": " + why, true, Qt::DotLine});
  }
  return out;
}

double legend_below(const FigureState& state, double width, double f) {
  return legend_size(methods_legend(state), f, width - f).height() + f * 0.4;
}

Axes methods_axes(const QRectF& rect, const RunSnapshot& run, const FigureState& state, double f) {
  const QRectF area = inner_area(rect, f, false, methods_title(run, state), legend_below(state, rect.width(), f));
  const auto [l0, l1] = state.layers.within(run.L());
  double lo = 1, hi = plots_coverage(state) ? 1.0 : 0.0;
  for (const MethodResult& r : state.comparison->methods)
    for (const auto& v : values(r, axis_of(state), run.L()))
      if (v && std::isfinite(*v)) lo = std::min(lo, *v), hi = std::max(hi, *v);
  // Coverage sits near 1: from a tenth below the lowest, so the methods stand apart; errors from 0.
  const double y0 = plots_coverage(state) && lo > 0.2 ? std::floor(lo * 10 - 0.5) / 10 : 0.0;
  return Axes{area, static_cast<double>(l0) - 0.5, static_cast<double>(l1) - 0.5, y0,
              hi > y0 ? hi + (hi - y0) * 0.06 : y0 + 1};
}

}  // namespace

bool MethodsFigure::available(const RunSnapshot& run, const FigureState& state) const {
  return state.comparison && !state.comparison->methods.empty();
}

QString MethodsFigure::unavailable_reason(const RunSnapshot& run, const FigureState& state) const {
  if (!run.has_activations()) return "the run has no activations (a session saved without them): the methods need them";
  return kNoComparison;
}

double MethodsFigure::height_for_width(const RunSnapshot& run, const FigureState& state, double width) const {
  const double f = type_pt(state);
  const TypeFloor floor(state.font_pt);
  if (!state.comparison) return 300;
  return plot_page_height(width, f, false, methods_title(run, state), 0.5, legend_below(state, width, f));
}

void MethodsFigure::paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const {
  const double f = type_pt(state);
  const Axes a = methods_axes(rect, run, state, f);
  draw_title(p, rect, methods_title(run, state), f);
  draw_axes(p, a, "layer", axis_name(state), f, true);
  p.save();
  p.setClipRect(a.area.adjusted(-4, -4, 4, 4));
  // The cascade last, on top of the others.
  std::vector<const MethodResult*> order;
  for (const MethodResult& r : state.comparison->methods) order.push_back(&r);
  std::stable_partition(order.begin(), order.end(), [](const MethodResult* r) { return r->method != Method::Cascade; });
  for (const MethodResult* r : order) {
    const SeriesStyle st = method_style(r->method);
    const auto ys = values(*r, axis_of(state), run.L());
    // draw_layer_series draws 1.7 pt lines; the cascade is drawn twice as thick under its own.
    if (st.width > 2) {
      QPainterPath path;
      bool open = false;
      for (size_t i = 0; i < ys.size(); ++i) {
        if (!ys[i]) {
          open = false;
          continue;
        }
        const QPointF q(a.px(static_cast<double>(i)), a.py(*ys[i]));
        if (open) path.lineTo(q);
        else path.moveTo(q);
        open = true;
      }
      p.setPen(QPen(st.color, st.width, st.style, Qt::RoundCap, Qt::RoundJoin));
      p.setBrush(Qt::NoBrush);
      p.drawPath(path);
    }
    draw_layer_series(p, a, ys, st.color, st.style, true);
  }
  p.restore();
  mark_layer(p, a, highlighted_layer(state));
  draw_legend(p, QPointF(rect.left() + f * 0.5, rect.bottom() - legend_below(state, rect.width(), f)), methods_legend(state),
              f, rect.width() - f);
}

std::optional<QPointF> MethodsFigure::where(const QRectF& rect, const RunSnapshot& run, const FigureState& state, Method m,
                                            int64_t layer) {
  if (!state.comparison) return std::nullopt;
  const MethodResult* r = state.comparison->find(m);
  if (!r || layer < 0 || layer >= static_cast<int64_t>(r->layers.size())) return std::nullopt;
  const auto v = r->layers[static_cast<size_t>(layer)].*axis_of(state);
  if (!v) return std::nullopt;
  const Axes a = methods_axes(rect, run, state, type_pt(state));
  return QPointF(a.px(static_cast<double>(layer)), a.py(*v));
}

Hit MethodsFigure::hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const {
  Hit h;
  if (!available(run, state)) return h;
  const Axes a = methods_axes(rect, run, state, type_pt(state));
  if (!a.area.adjusted(-4, -4, 4, 4).contains(pos)) return h;
  const auto [l0, l1] = state.layers.within(run.L());
  h.layer = std::clamp(layer_at(a, pos, run.L()), l0, l1 - 1);
  // The series nearest the pointer at that layer: its value there, its size and its mean.
  const MethodResult* best = nullptr;
  double best_d = std::numeric_limits<double>::infinity();
  for (const MethodResult& r : state.comparison->methods) {
    if (h.layer >= static_cast<int64_t>(r.layers.size())) continue;
    const auto v = r.layers[static_cast<size_t>(h.layer)].*axis_of(state);
    if (!v) continue;
    const double d = std::abs(a.py(*v) - pos.y());
    if (d < best_d) best_d = d, best = &r;
  }
  h.tooltip = QString("layer %1").arg(h.layer);
  if (!best) return h;
  const MethodLayer& m = best->layers[static_cast<size_t>(h.layer)];
  h.tooltip += QString(": %1 %2 %3 (r %4; mean %5)").arg(method_label(best->method), axis_name(state))
                   .arg(*(m.*axis_of(state)), 0, 'f', 4).arg(m.r)
                   .arg(best->mean(axis_of(state)).value_or(std::nan("")), 0, 'f', 4);
  if (m.coverage && !plots_coverage(state)) h.tooltip += QString(", coverage %1").arg(*m.coverage, 0, 'f', 3);
  if (best->delta_ppl) h.tooltip += QString(", ΔPPL %1").arg(*best->delta_ppl, 0, 'f', 3);
  return h;
}

}  // namespace cascade::widgets
