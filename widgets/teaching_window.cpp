#include "widgets/teaching_window.h"

#include <QKeyEvent>
#include <QPainter>

#include <algorithm>

#include "widgets/palette.h"
#include "widgets/render.h"

namespace cascade::widgets {

TeachingWindow::TeachingWindow(RunView* view, QWidget* parent) : QWidget(parent, Qt::Window), view_(view) {
  setWindowTitle("Cascade Lens — teaching");
  setObjectName("teaching");
  setFocusPolicy(Qt::StrongFocus);
  connect(view_, &RunView::changed, this, qOverload<>(&QWidget::update));
  // A τ change or a layer step elsewhere drops the explanation: fetch the new one while shown.
  auto refetch = [this] {
    if (isVisible()) view_->ensure_explanation();
  };
  connect(view_, &RunView::run_changed, this, refetch);
  connect(view_, &RunView::layer_changed, this, refetch);
  if (view_->has_run() && view_->state().layer < 1) view_->set_layer(1);
  view_->ensure_explanation();
}

FigureState TeachingWindow::shown_state() const {
  FigureState s = view_->state();
  s.scale = std::clamp(std::min(width() / 640.0, height() / 420.0), 1.0, 3.0);  // large type on a projector
  s.hover_token = s.link_to = -1;
  return s;
}

QImage TeachingWindow::render_current() const {
  if (!view_->has_run()) {
    QImage img(size(), QImage::Format_ARGB32_Premultiplied);
    img.fill(Qt::white);
    return img;
  }
  return render_figure(figure_, *view_->snapshot(), shown_state(), QSizeF(width(), height()), devicePixelRatioF());
}

void TeachingWindow::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.drawImage(QPointF(0, 0), render_current());
  p.setPen(kMuted);
  p.setFont(figure_font(9));
  p.drawText(rect().adjusted(8, 8, -8, -6), Qt::AlignRight | Qt::AlignBottom,
             "→ next   ← back   ↑↓ layer   Esc leave");
}

void TeachingWindow::next() {
  if (!view_->has_run()) return;
  if (view_->state().teach_step < CascadeStepFigure::kSteps - 1) {
    view_->set_teach_step(view_->state().teach_step + 1);
  } else if (view_->state().layer + 1 < view_->snapshot()->L()) {
    view_->set_layer(view_->state().layer + 1);
    view_->set_teach_step(0);
  }
  view_->ensure_explanation();
}

void TeachingWindow::previous() {
  if (!view_->has_run()) return;
  if (view_->state().teach_step > 0) {
    view_->set_teach_step(view_->state().teach_step - 1);
  } else if (view_->state().layer > 1) {
    view_->set_layer(view_->state().layer - 1);
    view_->set_teach_step(CascadeStepFigure::kSteps - 1);
  }
  view_->ensure_explanation();
}

void TeachingWindow::keyPressEvent(QKeyEvent* e) {
  switch (e->key()) {
    case Qt::Key_Right: case Qt::Key_Space: case Qt::Key_PageDown: next(); break;
    case Qt::Key_Left: case Qt::Key_Backspace: case Qt::Key_PageUp: previous(); break;
    case Qt::Key_Up:
      view_->set_layer(std::max<int64_t>(1, view_->state().layer - 1));
      view_->set_teach_step(0);
      view_->ensure_explanation();
      break;
    case Qt::Key_Down:
      view_->step_layer(1);
      view_->set_teach_step(0);
      view_->ensure_explanation();
      break;
    case Qt::Key_Escape: close(); break;
    default: QWidget::keyPressEvent(e);
  }
}

}  // namespace cascade::widgets
