#include "widgets/figure_view.h"

#include <QContextMenuEvent>
#include <QMenu>
#include <QPainter>
#include <QToolTip>
#include <QWheelEvent>

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
      const RunSnapshot& run = *view_->snapshot();
      const QString reason = figure_->unavailable_reason(run, view_->state());
      message = figure_->title() + ": " + reason;
      if (view_->can_provide(figure_->demand())) message = figure_->title() + ": click here to compute it for this layer";
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
  } else if (figure_->links_on_hover()) {
    view_->set_hover(h.token);
  }
}

void FigureView::mouseMoveEvent(QMouseEvent* e) {
  if (!view_->has_run()) return;
  const RunSnapshot& run = *view_->snapshot();
  if (dragging_) {
    if (figure_->picks_tau()) {
      if (const auto tau = figure_->tau_at(figure_rect(), run, view_->state(), e->position())) Q_EMIT tau_dragged(*tau);
      return;
    }
    if (const auto range = figure_->panned(figure_rect(), run, view_->state(), zoom_origin_, e->position() - drag_origin_)) {
      view_->set_gram_zoom(*range);
      return;
    }
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
    view_->ensure(figure_->demand());
    return;
  }
  dragging_ = true;
  drag_origin_ = e->position();
  if (const auto tau = figure_->tau_at(figure_rect(), run, view_->state(), e->position())) {
    Q_EMIT tau_dragged(*tau);
    return;
  }
  zoom_origin_ = view_->state().gram_zoom;
  apply_hit(figure_->hit(figure_rect(), run, view_->state(), e->position()), true);
}

void FigureView::mouseReleaseEvent(QMouseEvent*) { dragging_ = false; }

void FigureView::leaveEvent(QEvent*) {
  if (figure_->links_on_hover()) view_->set_hover(-1);
}

void FigureView::wheelEvent(QWheelEvent* e) {
  if (!view_->has_run() || !figure_->available(*view_->snapshot(), view_->state())) return;
  const double factor = e->angleDelta().y() > 0 ? 0.8 : 1.25;
  if (const auto range = figure_->zoomed(figure_rect(), *view_->snapshot(), view_->state(), e->position(), factor))
    view_->set_gram_zoom(*range);
}

void FigureView::contextMenuEvent(QContextMenuEvent* e) {
  QMenu menu(this);
  menu.addAction("Export this figure…", this, [this] { Q_EMIT export_requested(figure_->id()); });
  if (view_->has_run() && figure_->zoomed(figure_rect(), *view_->snapshot(), view_->state(), {}, 1.0))
    menu.addAction("Reset zoom", this, [this] { view_->set_gram_zoom(QRectF()); });
  menu.exec(e->globalPos());
}

}  // namespace cascade::widgets
