#include "widgets/figure_view.h"

#include <QContextMenuEvent>
#include <QMenu>
#include <QPainter>
#include <QToolTip>
#include <QWheelEvent>

#include "widgets/figures/gram.h"
#include "widgets/figures/sweep.h"
#include "widgets/palette.h"
#include "widgets/render.h"

namespace cascade::widgets {

FigureView::FigureView(std::unique_ptr<Figure> figure, RunView* view, QWidget* parent)
    : QWidget(parent), figure_(std::move(figure)), view_(view) {
  setMouseTracking(true);
  setMinimumSize(200, 140);
  setObjectName(figure_->id());
  connect(view_, &RunView::changed, this, qOverload<>(&QWidget::update));
}

QImage FigureView::render_current() const {
  const double dpr = devicePixelRatioF();
  if (!view_->has_run() || !figure_->available(*view_->snapshot(), view_->state())) {
    QImage img(QSize(std::max(1, static_cast<int>(width() * dpr)), std::max(1, static_cast<int>(height() * dpr))),
               QImage::Format_ARGB32_Premultiplied);
    img.setDevicePixelRatio(dpr);
    img.fill(Qt::white);
    QPainter p(&img);
    p.setPen(kMuted);
    p.setFont(figure_font(10));
    QString message = "No run yet: open a model, a text or an activation file, then Run.";
    if (view_->has_run()) {
      message = figure_->id() == "gram"           ? "Click to compute the Gram matrix of this layer"
                : figure_->id() == "cascade-step" ? "Pick a layer ≥ 1 (click here to explain its cascade step)"
                                                  : "Nothing to draw for this run";
      if (figure_->id() == "gram" && view_->snapshot()->T() > RunView::kMaxGramTokens)
        message = QString("T = %1 is above the Gram view's limit of %2 tokens").arg(view_->snapshot()->T()).arg(RunView::kMaxGramTokens);
      if ((figure_->id() == "gram" || figure_->id() == "cascade-step") && !view_->snapshot()->has_activations())
        message = QString(figure_->id() == "gram" ? "The Gram matrix needs" : "The cascade step's cosines need") +
                  " the activations (this session was saved without them)";
    }
    p.drawText(QRectF(0, 0, width(), height()), Qt::AlignCenter | Qt::TextWordWrap, message);
    return img;
  }
  return render_figure(*figure_, *view_->snapshot(), view_->state(), QSizeF(width(), height()), dpr);
}

void FigureView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.drawImage(QPointF(0, 0), render_current());
}

void FigureView::apply_hit(const Hit& h, bool click) {
  if (click) {
    if (h.layer >= 0) view_->set_layer(h.layer);
    if (h.token >= 0) view_->set_token(h.token);
  } else if (figure_->id() == "depth" || figure_->id() == "cascade-step") {
    view_->set_hover(h.token);
  }
}

void FigureView::mouseMoveEvent(QMouseEvent* e) {
  if (!view_->has_run()) return;
  const RunSnapshot& run = *view_->snapshot();
  if (dragging_ && figure_->id() == "sweep") {
    if (const auto tau = SweepFigure::tau_at(figure_rect(), run, view_->state(), e->position())) Q_EMIT tau_dragged(*tau);
    return;
  }
  if (dragging_ && figure_->id() == "gram" && !zoom_origin_.isEmpty()) {
    const QRectF area = GramFigure::plot_area(figure_rect(), 9 * view_->state().scale);
    const QPointF delta = (e->position() - drag_origin_);
    const double per_px = zoom_origin_.width() / area.width();
    view_->set_gram_zoom(zoom_origin_.translated(-delta.x() * per_px, -delta.y() * per_px));
    return;
  }
  if (!figure_->available(run, view_->state())) return;
  const Hit h = figure_->hit(figure_rect(), run, view_->state(), e->position());
  apply_hit(h, false);
  if (h.tooltip.isEmpty()) QToolTip::hideText();
  else QToolTip::showText(e->globalPosition().toPoint(), h.tooltip, this);
}

void FigureView::mousePressEvent(QMouseEvent* e) {
  if (!view_->has_run() || e->button() != Qt::LeftButton) return;
  const RunSnapshot& run = *view_->snapshot();
  if (!figure_->available(run, view_->state())) {
    if (figure_->id() == "gram") view_->ensure_gram();
    if (figure_->id() == "cascade-step") view_->ensure_explanation();
    return;
  }
  dragging_ = true;
  drag_origin_ = e->position();
  if (figure_->id() == "sweep") {
    if (const auto tau = SweepFigure::tau_at(figure_rect(), run, view_->state(), e->position())) Q_EMIT tau_dragged(*tau);
    return;
  }
  if (figure_->id() == "gram") zoom_origin_ = GramFigure::visible_range(run, view_->state());
  apply_hit(figure_->hit(figure_rect(), run, view_->state(), e->position()), true);
}

void FigureView::mouseReleaseEvent(QMouseEvent*) { dragging_ = false; }

void FigureView::leaveEvent(QEvent*) {
  if (figure_->id() == "depth" || figure_->id() == "cascade-step") view_->set_hover(-1);
}

void FigureView::wheelEvent(QWheelEvent* e) {
  if (figure_->id() != "gram" || !view_->has_run() || !figure_->available(*view_->snapshot(), view_->state())) return;
  const RunSnapshot& run = *view_->snapshot();
  const QRectF area = GramFigure::plot_area(figure_rect(), 9 * view_->state().scale);
  const QRectF vis = GramFigure::visible_range(run, view_->state());
  const double factor = e->angleDelta().y() > 0 ? 0.8 : 1.25;
  const QPointF at(vis.left() + (e->position().x() - area.left()) / area.width() * vis.width(),
                   vis.top() + (e->position().y() - area.top()) / area.height() * vis.height());
  const double T = static_cast<double>(run.T()), lo = std::min(4.0, T);
  const double w = std::clamp(vis.width() * factor, lo, T), h = std::clamp(vis.height() * factor, lo, T);
  QRectF next(at.x() - (at.x() - vis.left()) * w / vis.width(), at.y() - (at.y() - vis.top()) * h / vis.height(), w, h);
  if (w >= run.T() && h >= run.T()) next = QRectF();
  view_->set_gram_zoom(next);
}

void FigureView::contextMenuEvent(QContextMenuEvent* e) {
  QMenu menu(this);
  menu.addAction("Export this figure…", this, [this] { Q_EMIT export_requested(figure_->id()); });
  if (figure_->id() == "gram") menu.addAction("Reset zoom", this, [this] { view_->set_gram_zoom(QRectF()); });
  menu.exec(e->globalPos());
}

}  // namespace cascade::widgets
