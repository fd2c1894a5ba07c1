#include "widgets/figures/gram.h"

#include <QImage>

#include <cmath>

#include "widgets/palette.h"
#include "widgets/plot.h"

namespace cascade::widgets {


bool GramFigure::available(const RunSnapshot& run, const FigureState& state) const {
  return run.has_activations() && state.gram && static_cast<int64_t>(state.gram->size()) == run.T() * run.T();
}

QString GramFigure::unavailable_reason(const RunSnapshot& run, const FigureState& state) const {
  if (!run.has_activations()) return "the session was saved without activations";
  if (run.T() > state.gram_limit) return QString("T above %1").arg(state.gram_limit);
  return "the Gram matrix of this layer is computed on request";
}

std::optional<QRectF> GramFigure::zoomed(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF at,
                                         double factor) const {
  const QRectF area = plot_area(rect, run, state);
  const QRectF vis = visible_range(run, state);
  const QPointF p(vis.left() + (at.x() - area.left()) / area.width() * vis.width(),
                  vis.top() + (at.y() - area.top()) / area.height() * vis.height());
  const double T = static_cast<double>(run.T()), lo = std::min(4.0, T);
  const double w = std::clamp(vis.width() * factor, lo, T), h = std::clamp(vis.height() * factor, lo, T);
  if (w >= T && h >= T) return QRectF();
  return QRectF(p.x() - (p.x() - vis.left()) * w / vis.width(), p.y() - (p.y() - vis.top()) * h / vis.height(), w, h);
}

std::optional<QRectF> GramFigure::panned(const QRectF& rect, const RunSnapshot& run, const FigureState& state,
                                         const QRectF& from, QPointF delta) const {
  // `from` is the zoom when the drag began; empty: the whole matrix.
  const double T = static_cast<double>(run.T());
  const QRectF origin = from.isEmpty() ? QRectF(0, 0, T, T) : from;
  const double per_px = origin.width() / plot_area(rect, run, state).width();
  return origin.translated(-delta.x() * per_px, -delta.y() * per_px);
}

namespace {

QString gram_title(const RunSnapshot& run, const FigureState& state) {
  if (!state.title || state.layer < 0 || state.layer >= run.L()) return {};
  return QString("|cos| between tokens at layer %1 (block %2)").arg(state.layer).arg(run.analysis().layers.at(state.layer).layer);
}

// Left: tick labels and "token t"; right: the colour bar, its ticks and label; below: ticks and "token s".
constexpr double kLeft = 6.8, kRight = 7.6, kBottom = 3.8;

double top_margin(double width, const QString& title, double f) {
  return title.isEmpty() ? f * 0.8 : title_height(width, title, f) + f * 0.6;  // the representatives' ticks above
}

}  // namespace

double GramFigure::height_for_width(const RunSnapshot& run, const FigureState& state, double width) const {
  const double f = type_pt(state);
  const TypeFloor floor(state.font_pt);
  return top_margin(width, gram_title(run, state), f) + std::max(f * 8, width - f * (kLeft + kRight)) + f * kBottom;
}

QRectF GramFigure::plot_area(const QRectF& rect, const RunSnapshot& run, const FigureState& state) {
  const double f = type_pt(state);
  const QRectF inner = rect.adjusted(f * kLeft, top_margin(rect.width(), gram_title(run, state), f), -f * kRight, -f * kBottom);
  const double side = std::max(1.0, std::min(inner.width(), inner.height()));
  return QRectF(inner.left(), inner.top(), side, side);
}

QRectF GramFigure::visible_range(const RunSnapshot& run, const FigureState& state) {
  QRectF all(0, 0, static_cast<double>(run.T()), static_cast<double>(run.T()));
  if (!state.tokens.all()) {  // figures --tokens: that square of the matrix
    const auto [t0, t1] = state.tokens.within(run.T());
    all = QRectF(static_cast<double>(t0), static_cast<double>(t0), static_cast<double>(t1 - t0), static_cast<double>(t1 - t0));
  }
  if (state.gram_zoom.isEmpty()) return all;
  return state.gram_zoom.intersected(all).isEmpty() ? all : state.gram_zoom.intersected(all);
}

void GramFigure::paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const {
  const double f = type_pt(state);
  draw_title(p, rect, gram_title(run, state), f);
  const QRectF area = plot_area(rect, run, state);
  if (!available(run, state)) {
    p.setPen(kMuted);
    p.drawText(area, Qt::AlignCenter | Qt::TextWordWrap,
               run.has_activations() ? "Gram matrix not computed for this layer"
                                     : "The Gram matrix needs the activations (this session was saved without them)");
    return;
  }
  const int64_t T = run.T();
  const QRectF vis = visible_range(run, state);
  const int64_t c0 = static_cast<int64_t>(std::floor(vis.left())), r0 = static_cast<int64_t>(std::floor(vis.top()));
  const int64_t c1 = std::min<int64_t>(T, static_cast<int64_t>(std::ceil(vis.right())));
  const int64_t r1 = std::min<int64_t>(T, static_cast<int64_t>(std::ceil(vis.bottom())));
  const int64_t nc = std::max<int64_t>(1, c1 - c0), nr = std::max<int64_t>(1, r1 - r0);
  // At most ~1024² samples: beyond that each pixel shows one sampled pair (nearest neighbour).
  const int64_t sc = std::min<int64_t>(nc, 1024), sr = std::min<int64_t>(nr, 1024);
  // Viridis through a 256-entry table (the heatmap is up to a million cells).
  static const std::vector<QRgb> lut = [] {
    std::vector<QRgb> t(256);
    for (int i = 0; i < 256; ++i) t[i] = viridis(i / 255.0).rgb();
    return t;
  }();
  std::vector<QRgb> colors(static_cast<size_t>(sr * sc));
  const std::vector<float>& g = *state.gram;
  for (int64_t y = 0; y < sr; ++y) {
    const int64_t row = r0 + y * nr / sr;
    for (int64_t x = 0; x < sc; ++x)
      colors[y * sc + x] = lut[std::clamp(static_cast<int>(g[row * T + c0 + x * nc / sc] * 255.0f + 0.5f), 0, 255)];
  }
  draw_cells(p, area, sr, sc, colors);
  p.setPen(QPen(kInk, 0.8));
  p.setBrush(Qt::NoBrush);
  p.drawRect(area);
  // Representatives: ticks on the top and left edges.
  const double cell = area.width() / static_cast<double>(nc);
  p.setPen(QPen(status_color(TokenStatus::Representative), std::max(0.6, std::min(cell, 2.0))));
  for (int64_t t : run.analysis().layers.at(state.layer).reps_casc) {
    if (t >= c0 && t < c1) {
      const double x = area.left() + (static_cast<double>(t - c0) + 0.5) * cell;
      p.drawLine(QPointF(x, area.top() - f * 0.6), QPointF(x, area.top()));
    }
    if (t >= r0 && t < r1) {
      const double y = area.top() + (static_cast<double>(t - r0) + 0.5) * area.height() / static_cast<double>(nr);
      p.drawLine(QPointF(area.left() - f * 0.6, y), QPointF(area.left(), y));
    }
  }
  const int64_t sel = highlighted_token(state);
  if (sel >= c0 && sel < c1) {
    p.setPen(QPen(Qt::white, 1.0, Qt::DashLine));
    const double x = area.left() + (static_cast<double>(sel - c0) + 0.5) * cell;
    p.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()));
  }
  if (sel >= r0 && sel < r1) {
    p.setPen(QPen(Qt::white, 1.0, Qt::DashLine));
    const double y = area.top() + (static_cast<double>(sel - r0) + 0.5) * area.height() / static_cast<double>(nr);
    p.drawLine(QPointF(area.left(), y), QPointF(area.right(), y));
  }
  Axes axes{area, static_cast<double>(c0) - 0.5, static_cast<double>(c1) - 0.5, static_cast<double>(r1) - 0.5,
            static_cast<double>(r0) - 0.5};
  draw_axes(p, axes, "token s", "token t", f, true, false, true);
  draw_colorbar(p, QRectF(area.right() + f * 1.2, area.top(), f, area.height()), {0.0, 0.5, 1.0}, 1, "|cos(x_{t}, x_{s})|", f);
}

Hit GramFigure::hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const {
  Hit h;
  const QRectF area = plot_area(rect, run, state);
  if (!available(run, state) || !area.contains(pos)) return h;
  // The same integer token range paint() draws.
  const QRectF vis = visible_range(run, state);
  const int64_t T = run.T();
  const int64_t c0 = static_cast<int64_t>(std::floor(vis.left())), r0 = static_cast<int64_t>(std::floor(vis.top()));
  const int64_t nc = std::max<int64_t>(1, std::min<int64_t>(T, static_cast<int64_t>(std::ceil(vis.right()))) - c0);
  const int64_t nr = std::max<int64_t>(1, std::min<int64_t>(T, static_cast<int64_t>(std::ceil(vis.bottom()))) - r0);
  const int64_t s = std::clamp<int64_t>(c0 + static_cast<int64_t>((pos.x() - area.left()) / area.width() * nc), 0, T - 1);
  const int64_t t = std::clamp<int64_t>(r0 + static_cast<int64_t>((pos.y() - area.top()) / area.height() * nr), 0, T - 1);
  h.layer = state.layer;
  h.token = t;
  h.tooltip = QString("|cos(%1 [%2], %3 [%4])| = %5").arg(QString::fromStdString(run.token(t))).arg(t)
                  .arg(QString::fromStdString(run.token(s))).arg(s)
                  .arg((*state.gram)[t * run.T() + s], 0, 'f', 4);
  return h;
}

}  // namespace cascade::widgets
