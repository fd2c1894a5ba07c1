#pragma once
// The central canvas: the depth player figure painted with QPainter on a QOpenGLWidget, Dear ImGui
// instruments drawn over it, and the animation clock (phase 0 → 1 between layers at the chosen speed).
#include <QElapsedTimer>
#include <QOpenGLWidget>
#include <QTimer>

#include <memory>

#include "widgets/figures/depth_player.h"
#include "widgets/imgui_overlay.h"
#include "widgets/player.h"
#include "widgets/run_view.h"

namespace cascade::widgets {

class DepthCanvas : public QOpenGLWidget {
  Q_OBJECT
 public:
  DepthCanvas(RunView* view, Player* player, QWidget* parent = nullptr);
  ~DepthCanvas() override;

  // Whether this platform can create an OpenGL context (the offscreen platform cannot): without
  // one the window shows the depth player in a plain FigureView instead.
  static bool opengl_available();
  void set_tau_handler(std::function<void(double)> handler) { actions_.set_tau = std::move(handler); }
  // Where the shown run executed ("remote: NVIDIA H200, 150 GB (http://…)"), for the engine console.
  void set_engine_note(const std::string& note) { actions_.engine = note; update(); }
  const DepthPlayerFigure& figure() const { return figure_; }
  QSize sizeHint() const override { return {900, 420}; }

 Q_SIGNALS:
  void export_requested(const QString& id);  // context menu "Export this figure…" (as FigureView)

 protected:
  void initializeGL() override;
  void paintGL() override;
  bool event(QEvent* e) override;

 private:
  // The figure's part of the canvas: all but the instrument band at the bottom.
  QRectF figure_rect() const { return QRectF(0, 0, width(), std::max(40, height() - kInstrumentBand)); }
  static constexpr int kInstrumentBand = 136;

  RunView* view_;
  DepthPlayerFigure figure_;
  ImGuiOverlay overlay_;
  Player* player_;
  OverlayActions actions_;
  QTimer timer_;  // ImGui needs frames for hover and buttons even while paused
  QElapsedTimer clock_;
  qint64 last_ms_ = 0;
  QImage figure_image_;  // the figure as last rendered; redrawn only when the view or size changes
  bool figure_dirty_ = true;
};

}  // namespace cascade::widgets
