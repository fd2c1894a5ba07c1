#pragma once
// The depth player's clock: while playing, advances RunView's phase 0 → 1 and then the layer, at
// PlayerState::layers_per_second. Shared by the ImGui canvas and the plain (no-OpenGL) fallback.
#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include "widgets/imgui_overlay.h"
#include "widgets/run_view.h"

namespace cascade::widgets {

class Player : public QObject {
  Q_OBJECT
 public:
  explicit Player(RunView* view, QObject* parent = nullptr);
  PlayerState& state() { return state_; }
  bool playing() const { return state_.playing; }
  void set_playing(bool playing);
  void toggle() { set_playing(!state_.playing); }
  // Advances the animation by dt seconds (the timer calls it; tests call it directly).
  void advance(double dt);

 private:
  RunView* view_;
  PlayerState state_;
  QTimer timer_;
  QElapsedTimer clock_;
  qint64 last_ms_ = 0;
};

}  // namespace cascade::widgets
