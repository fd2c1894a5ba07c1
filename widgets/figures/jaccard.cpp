#include "widgets/figures/jaccard.h"

#include <QFontMetricsF>

#include "widgets/palette.h"
#include "widgets/plot.h"

namespace cascade::widgets {

namespace {

const char* const kFidelityLabel = "cascade fidelity";

QString jaccard_title(const RunSnapshot& run, const FigureState& state) {
  if (!state.title) return {};
  const auto& sm = run.analysis().summary;
  return QString("Depth Jaccard of R^{(ℓ)}_{ind} (τ = %1; mean consecutive %2)")
      .arg(run.tau(), 0, 'f', 2)
      .arg(sm.mean_depth_jaccard ? QString::number(*sm.mean_depth_jaccard, 'f', 3) : "n/a");
}

double top_margin(double width, const QString& title, double f) {
  return title.isEmpty() ? f * 0.8 : title_height(width, title, f) + f * 0.5;
}
// Under the matrix: its tick labels and "layer j".
double bottom_margin(double f) { return f * 3.6; }
double fidelity_label_width(double f) { return rich_width(kFidelityLabel, figure_font(f * 0.8)); }
// Left of the matrix 5 type sizes; right of it: gap 1.2, fidelity strip 2.6, gap 2.6, colour bar 1,
// its ticks and label 5.4.
constexpr double kLeft = 5, kRight = 12.8;

}  // namespace

double JaccardFigure::height_for_width(const RunSnapshot& run, const FigureState& state, double width) const {
  const double f = type_pt(state);
  const TypeFloor floor(state.font_pt);
  const QString title = jaccard_title(run, state);
  // At least as tall as the fidelity strip's label, which reads upwards beside it.
  const double side = std::clamp(width - f * (kLeft + kRight), std::max(f * 8, fidelity_label_width(f) + f), 600.0);
  return top_margin(width, title, f) + side + bottom_margin(f);
}

JaccardFigure::Layout JaccardFigure::layout(const QRectF& rect, int64_t L, double f, const QString& title) {
  Layout out;
  const QRectF inner = rect.adjusted(f * kLeft, top_margin(rect.width(), title, f), -f * kRight, -bottom_margin(f));
  const double side = std::max(1.0, std::min(inner.width(), inner.height()));
  out.cell = side / static_cast<double>(std::max<int64_t>(L, 1));
  out.matrix = QRectF(inner.left(), inner.top(), out.cell * L, out.cell * L);
  out.fidelity = QRectF(out.matrix.right() + f * 1.2, out.matrix.top(), f * 2.6, out.matrix.height());
  out.colorbar = QRectF(out.fidelity.right() + f * 2.6, out.matrix.top(), f * 1.0, out.matrix.height());
  return out;
}

void JaccardFigure::paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const {
  const double f = type_pt(state);
  const auto [l0, l1] = state.layers.within(run.L());
  const int64_t L = l1 - l0;  // the window drawn: matrix row i is layer l0 + i
  const auto& J = run.analysis().jaccard_matrix;
  const QString title = jaccard_title(run, state);
  const Layout lay = layout(rect, L, f, title);
  draw_title(p, rect, title, f);
  const bool values = lay.cell >= f * 2.6;
  p.setFont(figure_font(std::min(f * 0.8, lay.cell * 0.32)));
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < L; ++j) {
      const QRectF c(lay.matrix.left() + j * lay.cell, lay.matrix.top() + i * lay.cell, lay.cell, lay.cell);
      const double v = J[l0 + i][l0 + j];
      p.fillRect(c, viridis(v));
      if (values) {
        p.setPen(v > 0.6 ? kInk : QColor(Qt::white));
        p.drawText(c, Qt::AlignCenter, QString::number(v, 'f', 2));
      }
    }
  // Consecutive layers (the depth Jaccard of SPEC §4): white-and-black outlines, readable on any colour.
  for (int64_t i = 0; i + 1 < L; ++i)
    for (auto [r, c] : {std::pair{i, i + 1}, std::pair{i + 1, i}}) {
      const QRectF cell(lay.matrix.left() + c * lay.cell, lay.matrix.top() + r * lay.cell, lay.cell, lay.cell);
      p.setBrush(Qt::NoBrush);
      p.setPen(QPen(Qt::white, 1.6));
      p.drawRect(cell.adjusted(1, 1, -1, -1));
      p.setPen(QPen(kInk, 0.6));
      p.drawRect(cell.adjusted(1, 1, -1, -1));
    }
  if (const int64_t sel = highlighted_layer(state) - l0; sel >= 0 && sel < L) {  // the selected layer's row and column
    p.setPen(QPen(okabe_ito::vermillion, 1.4));
    p.drawRect(QRectF(lay.matrix.left(), lay.matrix.top() + sel * lay.cell, lay.matrix.width(), lay.cell));
    p.drawRect(QRectF(lay.matrix.left() + sel * lay.cell, lay.matrix.top(), lay.cell, lay.matrix.height()));
  }
  // The cascade-fidelity strip.
  for (int64_t i = 0; i < L; ++i) {
    const QRectF c(lay.fidelity.left(), lay.fidelity.top() + i * lay.cell, lay.fidelity.width(), lay.cell);
    const double v = run.analysis().layers[l0 + i].casc_fidelity;
    p.fillRect(c, viridis(v));
    if (values) {
      p.setPen(v > 0.6 ? kInk : QColor(Qt::white));
      p.drawText(c, Qt::AlignCenter, QString::number(v, 'f', 2));
    }
  }
  p.setPen(QPen(kInk, 0.8));
  p.setBrush(Qt::NoBrush);
  p.drawRect(lay.matrix);
  p.drawRect(lay.fidelity);
  // Axis ticks: layer indices (every k-th when crowded).
  p.setFont(figure_font(f * 0.85));
  const int64_t every = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(f * 1.6 / lay.cell)));
  for (int64_t i = 0; i < L; i += every) {
    const QString label = QString::number(l0 + i);
    p.drawText(QRectF(lay.matrix.left() - f * 3.2, lay.matrix.top() + i * lay.cell, f * 3, lay.cell),
               Qt::AlignRight | Qt::AlignVCenter, label);
    p.drawText(QRectF(lay.matrix.left() + i * lay.cell - f, lay.matrix.bottom() + 2, lay.cell + 2 * f, f * 1.4),
               Qt::AlignHCenter | Qt::AlignTop, label);
  }
  p.setFont(figure_font(f));
  p.drawText(QRectF(lay.matrix.left(), lay.matrix.bottom() + f * 1.5, lay.matrix.width(), f * 1.6),
             Qt::AlignHCenter | Qt::AlignVCenter, "layer j");
  p.save();
  p.translate(lay.matrix.left() - f * 4.2, lay.matrix.center().y());
  p.rotate(-90);
  p.drawText(QRectF(-lay.matrix.height() / 2, -f * 0.8, lay.matrix.height(), f * 1.6), Qt::AlignCenter, "layer i");
  p.restore();
  // The strip's label reads upwards in the gap between the strip and the colour bar.
  p.save();
  p.translate(lay.fidelity.right() + (lay.colorbar.left() - lay.fidelity.right()) / 2, lay.fidelity.center().y());
  p.rotate(-90);
  const QFont label_font = figure_font(f * 0.8);
  const QString label = figure_metrics(label_font).elidedText(kFidelityLabel, Qt::ElideRight, lay.fidelity.height());
  draw_rich(p, QRectF(-lay.fidelity.height() / 2, -f * 0.8, lay.fidelity.height(), f * 1.6), Qt::AlignCenter, label,
            label_font);
  p.restore();
  draw_colorbar(p, lay.colorbar, {0.0, 0.25, 0.5, 0.75, 1.0}, 2, "Jaccard index", f);
}

Hit JaccardFigure::hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const {
  const double f = type_pt(state);
  const auto [l0, l1] = state.layers.within(run.L());
  const Layout lay = layout(rect, l1 - l0, f, jaccard_title(run, state));
  Hit h;
  if (lay.matrix.contains(pos)) {
    const int64_t i = l0 + std::min<int64_t>(l1 - l0 - 1, static_cast<int64_t>((pos.y() - lay.matrix.top()) / lay.cell));
    const int64_t j = l0 + std::min<int64_t>(l1 - l0 - 1, static_cast<int64_t>((pos.x() - lay.matrix.left()) / lay.cell));
    h.layer = i;
    h.tooltip = QString("J(R_ind at layer %1, R_ind at layer %2) = %3").arg(i).arg(j)
                    .arg(run.analysis().jaccard_matrix[i][j], 0, 'f', 4);
  } else if (lay.fidelity.contains(pos)) {
    const int64_t i = l0 + std::min<int64_t>(l1 - l0 - 1, static_cast<int64_t>((pos.y() - lay.fidelity.top()) / lay.cell));
    h.layer = i;
    h.tooltip = QString("cascade fidelity at layer %1 = %2").arg(i).arg(run.analysis().layers[i].casc_fidelity, 0, 'f', 4);
  }
  return h;
}

}  // namespace cascade::widgets
