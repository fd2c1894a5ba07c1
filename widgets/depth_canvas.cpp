#include "widgets/depth_canvas.h"

#include <QContextMenuEvent>
#include <QMenu>
#include <QMouseEvent>
#include <QOpenGLContext>
#include <QPainter>
#include <QToolTip>

#include "widgets/palette.h"
#include "widgets/render.h"

namespace cascade::widgets {

bool DepthCanvas::opengl_available() {
  if (qEnvironmentVariableIsSet("CASCADE_NO_OPENGL")) return false;
  QOpenGLContext context;
  return context.create();
}

DepthCanvas::DepthCanvas(RunView* view, Player* player, QWidget* parent)
    : QOpenGLWidget(parent), view_(view), player_(player) {
  setMouseTracking(true);
  setFocusPolicy(Qt::StrongFocus);
  setObjectName("depth-canvas");
  connect(view_, &RunView::changed, this, [this] {
    figure_dirty_ = true;
    update();
  });
  connect(&timer_, &QTimer::timeout, this, qOverload<>(&QWidget::update));
  timer_.start(33);
  clock_.start();
}

DepthCanvas::~DepthCanvas() {
  makeCurrent();
  overlay_.shutdown_gl();
  doneCurrent();
}

void DepthCanvas::initializeGL() {}

void DepthCanvas::paintGL() {
  const qint64 now = clock_.elapsed();
  const double dt = static_cast<double>(now - last_ms_) / 1000.0;
  last_ms_ = now;
  {
    QPainter p(this);
    if (view_->has_run()) {
      const QSizeF size = figure_rect().size();
      if (figure_dirty_ || figure_image_.deviceIndependentSize() != size || figure_image_.devicePixelRatio() != devicePixelRatioF()) {
        figure_image_ = render_figure(figure_, *view_->snapshot(), view_->state(), size, devicePixelRatioF());
        figure_dirty_ = false;
      }
      p.drawImage(QPointF(0, 0), figure_image_);
      p.fillRect(QRectF(0, figure_rect().bottom(), width(), height() - figure_rect().bottom()), QColor(244, 244, 244));
    } else {
      p.fillRect(rect(), Qt::white);
      p.setPen(kMuted);
      p.setFont(figure_font(11));
      p.drawText(rect(), Qt::AlignCenter, "Loading the bundled model and text…");
    }
  }
  overlay_.begin_frame(size(), devicePixelRatioF(), dt);
  const bool was_playing = player_->playing();
  build_player_overlay(*view_, player_->state(), actions_);
  if (player_->state().playing != was_playing) {  // the overlay's Play/Pause button
    player_->state().playing = was_playing;
    player_->set_playing(!was_playing);
  }
  overlay_.end_frame();
  overlay_.render_gl();  // false (once, then quiet) where the GL backend cannot start: the figure still shows
}

bool DepthCanvas::event(QEvent* e) {
  const bool captured = overlay_.handle_event(e);
  switch (e->type()) {
    case QEvent::MouseMove: {
      if (!view_->has_run()) break;
      const auto* me = static_cast<QMouseEvent*>(e);
      if (captured) {
        view_->set_hover(-1);
        break;
      }
      const Hit h = figure_.hit(figure_rect(), *view_->snapshot(), view_->state(), me->position());
      view_->set_hover(h.token);
      update();
      return true;
    }
    case QEvent::ContextMenu: {
      if (captured) break;
      QMenu menu(this);
      menu.addAction("Export this figure…", this, [this] { Q_EMIT export_requested(figure_.id()); });
      menu.exec(static_cast<QContextMenuEvent*>(e)->globalPos());
      return true;
    }
    case QEvent::MouseButtonPress: {
      if (!view_->has_run() || captured) break;
      const auto* me = static_cast<QMouseEvent*>(e);
      const Hit h = figure_.hit(figure_rect(), *view_->snapshot(), view_->state(), me->position());
      if (h.token >= 0) view_->set_token(h.token);
      update();
      return true;
    }
    case QEvent::Leave:
      view_->set_hover(-1);
      break;
    case QEvent::KeyPress: {
      const auto* ke = static_cast<QKeyEvent*>(e);
      if (ke->key() == Qt::Key_Space) {
        player_->toggle();
        return true;
      }
      if (ke->key() == Qt::Key_Right) {
        view_->step_layer(1);
        return true;
      }
      if (ke->key() == Qt::Key_Left) {
        view_->step_layer(-1);
        return true;
      }
      break;
    }
    default:
      break;
  }
  if (captured) {
    update();
    return true;
  }
  return QOpenGLWidget::event(e);
}

}  // namespace cascade::widgets
