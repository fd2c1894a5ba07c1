#include "widgets/figures/tradeoff.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "widgets/figures/method_view.h"
#include "widgets/palette.h"
#include "widgets/plot.h"

namespace cascade::widgets {

namespace {

QString y_label(TradeoffFigure::YAxis y) {
  switch (y) {
    case TradeoffFigure::YAxis::DeltaPpl: return "ΔPPL (method − exact)";
    case TradeoffFigure::YAxis::AttnErr: return "mean attn_err";
    case TradeoffFigure::YAxis::CoverageLoss: break;
  }
  return "1 − mean coverage";
}

QString tradeoff_title(const RunSnapshot& run, const FigureState& state) {
  if (!state.title) return {};
  const auto& s = *state.tradeoff;
  QString t = QString("Budget against quality over τ = %1 … %2 (%3 budget, T = %4)")
                  .arg(s.front().tau, 0, 'f', 2).arg(s.back().tau, 0, 'f', 2)
                  .arg(QString::fromStdString(to_string(s.front().budget))).arg(s.front().T);
  const auto y = TradeoffFigure::y_axis(s);
  if (y == TradeoffFigure::YAxis::AttnErr) t += " — ppl not measured";
  if (y == TradeoffFigure::YAxis::CoverageLoss) t += " — attn_err and ppl need the model";
  return t;
}

// The methods in the first comparison's order (each comparison of a sweep has the same ones).
std::vector<Method> methods_of(const std::vector<Comparison>& s) {
  std::vector<Method> out;
  for (const Comparison& c : s)
    for (const MethodResult& r : c.methods)
      if (std::find(out.begin(), out.end(), r.method) == out.end()) out.push_back(r.method);
  return out;
}

std::vector<LegendEntry> tradeoff_legend(const std::vector<Comparison>& s, double tau) {
  std::vector<LegendEntry> out;
  const auto y = TradeoffFigure::y_axis(s);
  for (Method m : methods_of(s)) {
    const SeriesStyle st = method_style(m);
    bool any = false;
    QString why;
    for (const Comparison& c : s)
      if (const MethodResult* r = c.find(m)) {
        any = any || TradeoffFigure::point(c, *r, y).has_value();
        if (why.isEmpty()) why = y == TradeoffFigure::YAxis::DeltaPpl ? QString::fromStdString(r->quality_why)
                                 : missing_reason(*r, y == TradeoffFigure::YAxis::AttnErr ? &MethodLayer::attn_err : &MethodLayer::coverage);
      }
    if (any) out.push_back({st.color, method_label(m), true, st.style});
    else out.push_back({mix(st.color, Qt::white, 0.55), method_label(m) + ": " + (why.isEmpty() ? QString("not measured") : why), true, Qt::DotLine});
  }
  LegendEntry now{okabe_ito::vermillion, QString("current τ = %1").arg(tau, 0, 'f', 2), false};
  now.swatch = [](QPainter& p, const QRectF& sq) {
    p.setPen(QPen(okabe_ito::vermillion, 1.6));
    p.setBrush(Qt::NoBrush);
    p.drawEllipse(sq.center(), sq.height() * 0.5, sq.height() * 0.5);
  };
  out.push_back(now);
  return out;
}

double legend_below(const FigureState& state, double tau, double width, double f) {
  return legend_size(tradeoff_legend(*state.tradeoff, tau), f, width - f).height() + f * 0.4;
}

Axes tradeoff_axes(const QRectF& rect, const RunSnapshot& run, const FigureState& state, double f) {
  const auto& s = *state.tradeoff;
  const QRectF area = inner_area(rect, f, false, tradeoff_title(run, state), legend_below(state, s[TradeoffFigure::current(s, run.tau())].tau, rect.width(), f));
  const auto y = TradeoffFigure::y_axis(s);
  double x_hi = 0.05, y_lo = 0, y_hi = 0;
  for (const Comparison& c : s)
    for (const MethodResult& r : c.methods)
      if (const auto q = TradeoffFigure::point(c, r, y)) {
        x_hi = std::max(x_hi, q->x());
        y_lo = std::min(y_lo, q->y());
        y_hi = std::max(y_hi, q->y());
      }
  if (y_lo > -1e-6) y_lo = 0;  // 1 − coverage of a full set is 0 up to float rounding
  if (y_hi <= y_lo) y_hi = y_lo + 1;
  const double pad = (y_hi - y_lo) * 0.06;
  return Axes{area, 0, std::min(1.0, x_hi * 1.08), y_lo < 0 ? y_lo - pad : 0, y_hi + pad};
}

}  // namespace

TradeoffFigure::YAxis TradeoffFigure::y_axis(const std::vector<Comparison>& sweep) {
  bool ppl = false, err = false;
  for (const Comparison& c : sweep)
    for (const MethodResult& r : c.methods) {
      ppl = ppl || r.delta_ppl.has_value();
      err = err || r.mean(&MethodLayer::attn_err).has_value();
    }
  return ppl ? YAxis::DeltaPpl : err ? YAxis::AttnErr : YAxis::CoverageLoss;
}

std::optional<QPointF> TradeoffFigure::point(const Comparison& c, const MethodResult& r, YAxis y) {
  if (c.T <= 0 || r.layers.empty()) return std::nullopt;
  std::optional<double> v;
  switch (y) {
    case YAxis::DeltaPpl: v = r.delta_ppl; break;
    case YAxis::AttnErr: v = r.mean(&MethodLayer::attn_err); break;
    case YAxis::CoverageLoss:
      if (const auto cov = r.mean(&MethodLayer::coverage)) v = 1 - *cov;
      break;
  }
  if (!v || !std::isfinite(*v)) return std::nullopt;
  return QPointF(r.mean_r() / static_cast<double>(c.T), *v);
}

size_t TradeoffFigure::current(const std::vector<Comparison>& sweep, double tau) {
  size_t best = 0;
  for (size_t i = 1; i < sweep.size(); ++i)
    if (std::abs(sweep[i].tau - tau) < std::abs(sweep[best].tau - tau)) best = i;
  return best;
}

std::optional<QPointF> TradeoffFigure::where(const QRectF& rect, const RunSnapshot& run, const FigureState& state,
                                             size_t index, Method m) {
  if (!state.tradeoff || index >= state.tradeoff->size()) return std::nullopt;
  const Comparison& c = (*state.tradeoff)[index];
  const MethodResult* r = c.find(m);
  if (!r) return std::nullopt;
  const auto q = point(c, *r, y_axis(*state.tradeoff));
  if (!q) return std::nullopt;
  const Axes a = tradeoff_axes(rect, run, state, type_pt(state));
  return QPointF(a.px(q->x()), a.py(q->y()));
}

bool TradeoffFigure::available(const RunSnapshot& run, const FigureState& state) const {
  return state.tradeoff && state.tradeoff->size() >= 2;
}

QString TradeoffFigure::unavailable_reason(const RunSnapshot& run, const FigureState& state) const {
  if (!run.has_activations()) return "the run has no activations (a session saved without them): the methods need them";
  if (state.comparison)
    return "no trade-off computed — press “Trade-off over τ” in the Methods dock (compares every method at each τ of the sweep)";
  return kNoComparison;
}

double TradeoffFigure::height_for_width(const RunSnapshot& run, const FigureState& state, double width) const {
  if (!available(run, state)) return 300;
  const double f = type_pt(state);
  const TypeFloor floor(state.font_pt);
  const auto& s = *state.tradeoff;
  return plot_page_height(width, f, false, tradeoff_title(run, state), 0.55, legend_below(state, s[current(s, run.tau())].tau, width, f));
}

void TradeoffFigure::paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const {
  const double f = type_pt(state);
  const auto& s = *state.tradeoff;
  const size_t now = current(s, run.tau());
  const YAxis y = y_axis(s);
  const Axes a = tradeoff_axes(rect, run, state, f);
  draw_title(p, rect, tradeoff_title(run, state), f);
  draw_axes(p, a, "r / T (mean over layers)", y_label(y), f);
  if (a.y0 < 0) {  // ΔPPL can be negative: the zero line
    p.setPen(QPen(kMuted, 0.6));
    p.drawLine(QPointF(a.area.left(), a.py(0)), QPointF(a.area.right(), a.py(0)));
  }
  std::vector<Method> order = methods_of(s);
  std::stable_partition(order.begin(), order.end(), [](Method m) { return m != Method::Cascade; });  // cascade on top
  for (Method m : order) {
    const SeriesStyle st = method_style(m);
    std::vector<QPointF> pts;
    std::optional<QPointF> ringed;
    for (size_t i = 0; i < s.size(); ++i)
      if (const MethodResult* r = s[i].find(m))
        if (const auto q = point(s[i], *r, y)) {
          pts.emplace_back(a.px(q->x()), a.py(q->y()));
          if (i == now) ringed = pts.back();
        }
    p.setPen(QPen(st.color, std::max(1.6, st.width), st.style, Qt::RoundCap, Qt::RoundJoin));
    p.setBrush(Qt::NoBrush);
    if (pts.size() >= 2) p.drawPolyline(pts.data(), static_cast<int>(pts.size()));
    p.setPen(QPen(st.color, 1.2));
    p.setBrush(Qt::white);
    for (const QPointF& q : pts) p.drawEllipse(q, 2.4, 2.4);
    if (ringed) {  // the current τ
      p.setBrush(st.color);
      p.drawEllipse(*ringed, 3.2, 3.2);
      p.setPen(QPen(okabe_ito::vermillion, 1.6));
      p.setBrush(Qt::NoBrush);
      p.drawEllipse(*ringed, 6.0, 6.0);
    }
  }
  draw_legend(p, QPointF(rect.left() + f * 0.5, rect.bottom() - legend_below(state, s[now].tau, rect.width(), f)),
              tradeoff_legend(s, s[now].tau), f, rect.width() - f);
}

Hit TradeoffFigure::hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const {
  Hit h;
  if (!available(run, state)) return h;
  const auto& s = *state.tradeoff;
  const Axes a = tradeoff_axes(rect, run, state, type_pt(state));
  const YAxis y = y_axis(s);
  double best = 8.0;  // points of reach
  for (const Comparison& c : s)
    for (const MethodResult& r : c.methods)
      if (const auto q = point(c, r, y)) {
        const double d = std::hypot(a.px(q->x()) - pos.x(), a.py(q->y()) - pos.y());
        if (d >= best) continue;
        best = d;
        h.tooltip = QString("%1 at τ = %2: r/T %3, %4 %5").arg(method_label(r.method)).arg(c.tau, 0, 'f', 3)
                        .arg(q->x(), 0, 'f', 3).arg(y_label(y)).arg(q->y(), 0, 'f', 4);
      }
  return h;
}

}  // namespace cascade::widgets
