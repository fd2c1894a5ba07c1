#pragma once
// Dear ImGui as the in-canvas instrument layer (DESIGN.md): one ImGui context per canvas, a small
// Qt → ImGui input bridge, imgui_impl_opengl3 for drawing. The UI itself (build_player_overlay) is
// plain ImGui calls on a RunView, so it runs — and is tested — without any GL context.
#include <QEvent>
#include <QSize>

#include <functional>
#include <string>

struct ImGuiContext;

namespace cascade::widgets {

class RunView;

// Playback of the depth player.
struct PlayerState {
  bool playing = false;
  double layers_per_second = 2.0;
  bool loop = true;
};

// What the overlay asks of its host (the canvas forwards τ changes to the controller).
struct OverlayActions {
  std::function<void(double)> set_tau;  // null: τ is read-only
  bool show_console = true;
  std::string engine;  // where the run executed (a remote engine), shown in the console; "" = not said
};

class ImGuiOverlay {
 public:
  ImGuiOverlay();
  ~ImGuiOverlay();
  ImGuiOverlay(const ImGuiOverlay&) = delete;
  ImGuiOverlay& operator=(const ImGuiOverlay&) = delete;

  // Feeds a Qt input event; returns true when ImGui wants it (the pointer is over an ImGui window).
  bool handle_event(const QEvent* event);  // positions in logical pixels, as ImGui takes them
  // Starts a frame of `logical` size; call build_player_overlay, then end_frame().
  void begin_frame(QSize logical, double dpr, double seconds_since_last);
  void end_frame();  // ImGui::Render(): draw data ready for render_gl (and for tests)
  // Draws the last frame with imgui_impl_opengl3; the GL context must be current. Initialises the
  // backend on first use. Returns false (and stays quiet after) if the backend cannot start.
  bool render_gl();
  void shutdown_gl();  // before the GL context goes away
  bool wants_mouse() const;
  int last_vertex_count() const;  // of the last frame's draw data (tests)
  ImGuiContext* context() const { return context_; }

 private:
  ImGuiContext* context_ = nullptr;
  bool gl_ready_ = false, gl_failed_ = false;
  // ImGui 1.86 has no input queue: a press and release between two frames would cancel out and
  // the click be lost (a touchpad tap). Such a release is held back until the frame saw the press.
  bool pressed_since_frame_[3] = {false, false, false};
  bool release_pending_[3] = {false, false, false};
};

// The depth player's instruments: playback (step, play/pause, scrub, speed), τ, the hover
// inspector for state().hover_token, and the engine console. Call between begin/end_frame.
void build_player_overlay(RunView& view, PlayerState& player, const OverlayActions& actions);

}  // namespace cascade::widgets
