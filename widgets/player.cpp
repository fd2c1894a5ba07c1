#include "widgets/player.h"

namespace cascade::widgets {

Player::Player(RunView* view, QObject* parent) : QObject(parent), view_(view) {
  connect(&timer_, &QTimer::timeout, this, [this] {
    const qint64 now = clock_.elapsed();
    advance(static_cast<double>(now - last_ms_) / 1000.0);
    last_ms_ = now;
  });
  clock_.start();
}

void Player::set_playing(bool playing) {
  if (playing && view_->has_run() && view_->state().layer + 1 >= view_->snapshot()->L()) view_->set_layer(0);
  state_.playing = playing;
  if (playing && !timer_.isActive()) {
    last_ms_ = clock_.elapsed();
    timer_.start(16);
  } else if (!playing) {
    timer_.stop();
  }
}

void Player::advance(double dt) {
  if (!state_.playing || !view_->has_run()) return;
  const int64_t layer = view_->state().layer, L = view_->snapshot()->L();
  if (layer + 1 >= L) {  // at the last layer: start over or stop
    if (state_.loop) view_->set_layer(0);
    else set_playing(false);
    return;
  }
  const double phase = view_->state().phase + dt * state_.layers_per_second;
  if (phase >= 1.0) view_->set_layer(layer + 1);
  else view_->set_phase(phase);
}

}  // namespace cascade::widgets
