#pragma once
// A dock's view of one figure: paints it through render_figure (so the screen is the export), and
// turns the pointer into linked selection — hover shows values, click selects a layer/token in every
// view; in the τ sweep dragging moves τ; in the Gram view the wheel zooms and dragging pans.
#include <QImage>
#include <QWidget>

#include <memory>

#include "widgets/figure.h"
#include "widgets/run_view.h"

namespace cascade::widgets {

class FigureView : public QWidget {
  Q_OBJECT
 public:
  FigureView(std::unique_ptr<Figure> figure, RunView* view, QWidget* parent = nullptr);
  const Figure& figure() const { return *figure_; }
  // The image paintEvent draws at the widget's current size and device-pixel ratio.
  QImage render_current() const;
  QSize sizeHint() const override { return {520, 340}; }

 Q_SIGNALS:
  void tau_dragged(double tau);              // sweep: the user dragged the τ marker
  void export_requested(const QString& id);  // context menu "Export this figure…"

 protected:
  void paintEvent(QPaintEvent*) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void mousePressEvent(QMouseEvent* e) override;
  void mouseReleaseEvent(QMouseEvent* e) override;
  void leaveEvent(QEvent*) override;
  void wheelEvent(QWheelEvent* e) override;
  void contextMenuEvent(QContextMenuEvent* e) override;

 private:
  QRectF figure_rect() const { return QRectF(0, 0, width(), height()); }
  void apply_hit(const Hit& h, bool click);

  std::unique_ptr<Figure> figure_;
  RunView* view_;
  bool dragging_ = false;
  QPointF drag_origin_;
  QRectF zoom_origin_;
};

}  // namespace cascade::widgets
