#include "widgets/imgui_overlay.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QWheelEvent>

#include <imgui.h>
#include <backends/imgui_impl_opengl3.h>

#include <cfloat>
#include <cmath>

#include "widgets/run_view.h"

namespace cascade::widgets {

namespace {

// Scoped "make this overlay's context current" (several canvases may exist).
struct ContextScope {
  ImGuiContext* previous;
  explicit ContextScope(ImGuiContext* c) : previous(ImGui::GetCurrentContext()) { ImGui::SetCurrentContext(c); }
  ~ContextScope() { ImGui::SetCurrentContext(previous); }
};

int imgui_key_slot(int qt_key) {
  switch (qt_key) {
    case Qt::Key_Tab: return ImGuiKey_Tab;
    case Qt::Key_Left: return ImGuiKey_LeftArrow;
    case Qt::Key_Right: return ImGuiKey_RightArrow;
    case Qt::Key_Up: return ImGuiKey_UpArrow;
    case Qt::Key_Down: return ImGuiKey_DownArrow;
    case Qt::Key_Home: return ImGuiKey_Home;
    case Qt::Key_End: return ImGuiKey_End;
    case Qt::Key_Backspace: return ImGuiKey_Backspace;
    case Qt::Key_Delete: return ImGuiKey_Delete;
    case Qt::Key_Return: case Qt::Key_Enter: return ImGuiKey_Enter;
    case Qt::Key_Escape: return ImGuiKey_Escape;
    case Qt::Key_Space: return ImGuiKey_Space;
    default: return -1;
  }
}

}  // namespace

ImGuiOverlay::ImGuiOverlay() {
  ImGuiContext* previous = ImGui::GetCurrentContext();
  context_ = ImGui::CreateContext();
  ImGui::SetCurrentContext(context_);
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // window positions are not worth a file next to the user's cwd
  io.LogFilename = nullptr;
  io.BackendPlatformName = "cascadelens-qt";
  for (int k = 0; k < ImGuiKey_COUNT; ++k) io.KeyMap[k] = k;  // KeysDown is indexed by ImGuiKey
  ImGui::StyleColorsLight();
  ImGuiStyle& style = ImGui::GetStyle();
  style.WindowRounding = 6;
  style.Alpha = 0.95f;
  unsigned char* pixels = nullptr;
  int w = 0, h = 0;
  io.Fonts->GetTexDataAsRGBA32(&pixels, &w, &h);  // the font atlas exists even without GL (tests)
  ImGui::SetCurrentContext(previous);
}

ImGuiOverlay::~ImGuiOverlay() {
  ImGui::DestroyContext(context_);
}

bool ImGuiOverlay::handle_event(const QEvent* event) {
  ContextScope scope(context_);
  ImGuiIO& io = ImGui::GetIO();
  switch (event->type()) {
    case QEvent::MouseMove: {
      const auto* e = static_cast<const QMouseEvent*>(event);
      io.MousePos = ImVec2(static_cast<float>(e->position().x()), static_cast<float>(e->position().y()));
      return io.WantCaptureMouse;
    }
    case QEvent::MouseButtonPress:
    case QEvent::MouseButtonDblClick:  // a fast second click is still a press
    case QEvent::MouseButtonRelease: {
      const auto* e = static_cast<const QMouseEvent*>(event);
      const bool down = event->type() != QEvent::MouseButtonRelease;
      io.MousePos = ImVec2(static_cast<float>(e->position().x()), static_cast<float>(e->position().y()));
      const int b = e->button() == Qt::LeftButton ? 0 : e->button() == Qt::RightButton ? 1 : e->button() == Qt::MiddleButton ? 2 : -1;
      if (b >= 0) {
        if (down) {
          io.MouseDown[b] = true;
          pressed_since_frame_[b] = true;
          release_pending_[b] = false;
        } else if (pressed_since_frame_[b]) {
          release_pending_[b] = true;  // applied after the next NewFrame has seen the press
        } else {
          io.MouseDown[b] = false;
        }
      }
      return io.WantCaptureMouse;
    }
    case QEvent::Wheel: {
      const auto* e = static_cast<const QWheelEvent*>(event);
      io.MouseWheel += static_cast<float>(e->angleDelta().y()) / 120.0f;
      io.MouseWheelH += static_cast<float>(e->angleDelta().x()) / 120.0f;
      return io.WantCaptureMouse;
    }
    case QEvent::Leave:
      io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
      return false;
    case QEvent::KeyPress:
    case QEvent::KeyRelease: {
      const auto* e = static_cast<const QKeyEvent*>(event);
      const bool down = event->type() == QEvent::KeyPress;
      io.KeyCtrl = e->modifiers() & Qt::ControlModifier;
      io.KeyShift = e->modifiers() & Qt::ShiftModifier;
      io.KeyAlt = e->modifiers() & Qt::AltModifier;
      if (const int slot = imgui_key_slot(e->key()); slot >= 0) io.KeysDown[slot] = down;
      if (down)
        for (QChar c : e->text())
          if (c.isPrint()) io.AddInputCharacterUTF16(c.unicode());
      return io.WantCaptureKeyboard;
    }
    default:
      return false;
  }
}

void ImGuiOverlay::begin_frame(QSize logical, double dpr, double seconds_since_last) {
  ImGui::SetCurrentContext(context_);
  ImGuiIO& io = ImGui::GetIO();
  io.DisplaySize = ImVec2(static_cast<float>(logical.width()), static_cast<float>(logical.height()));
  io.DisplayFramebufferScale = ImVec2(static_cast<float>(dpr), static_cast<float>(dpr));
  io.DeltaTime = static_cast<float>(std::max(1e-4, seconds_since_last));
  if (gl_ready_) ImGui_ImplOpenGL3_NewFrame();
  ImGui::NewFrame();
  for (int b = 0; b < 3; ++b) {  // this frame saw the press; a held-back release lands for the next
    pressed_since_frame_[b] = false;
    if (release_pending_[b]) io.MouseDown[b] = false, release_pending_[b] = false;
  }
}

void ImGuiOverlay::end_frame() {
  ImGui::SetCurrentContext(context_);
  ImGui::Render();
}

bool ImGuiOverlay::render_gl() {
  ContextScope scope(context_);
  if (gl_failed_) return false;
  if (!gl_ready_) {
    if (!ImGui_ImplOpenGL3_Init(nullptr)) {
      gl_failed_ = true;
      return false;
    }
    gl_ready_ = true;
    ImGui_ImplOpenGL3_NewFrame();  // creates the device objects (font texture) now
  }
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  return true;
}

void ImGuiOverlay::shutdown_gl() {
  ContextScope scope(context_);
  if (gl_ready_) ImGui_ImplOpenGL3_Shutdown();
  gl_ready_ = false;
}

bool ImGuiOverlay::wants_mouse() const {
  ContextScope scope(context_);
  return ImGui::GetIO().WantCaptureMouse;
}

int ImGuiOverlay::last_vertex_count() const {
  ContextScope scope(context_);
  const ImDrawData* d = ImGui::GetDrawData();
  return d && d->Valid ? d->TotalVtxCount : 0;
}

void build_player_overlay(RunView& view, PlayerState& player, const OverlayActions& actions) {
  const ImGuiIO& io = ImGui::GetIO();
  if (!view.has_run()) return;
  // Keep this snapshot alive for the whole frame: the τ slider below may replace the view's.
  const std::shared_ptr<const RunSnapshot> keep = view.snapshot_ptr();
  const RunSnapshot& run = *keep;
  const FigureState& st = view.state();

  // Playback and τ, bottom-left.
  ImGui::SetNextWindowPos(ImVec2(10, io.DisplaySize.y - 10), ImGuiCond_Always, ImVec2(0, 1));
  ImGui::SetNextWindowBgAlpha(0.88f);
  ImGui::Begin("Player", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings |
                   ImGuiWindowFlags_NoFocusOnAppearing | ImGuiWindowFlags_NoNav);
  if (ImGui::Button("|<")) view.set_layer(0);
  ImGui::SameLine();
  if (ImGui::Button("<")) view.step_layer(-1);
  ImGui::SameLine();
  if (ImGui::Button(player.playing ? "Pause" : "Play")) player.playing = !player.playing;
  ImGui::SameLine();
  if (ImGui::Button(">")) view.step_layer(1);
  ImGui::SameLine();
  if (ImGui::Button(">|")) view.set_layer(run.L() - 1);
  ImGui::SameLine();
  ImGui::Checkbox("loop", &player.loop);
  // The sliders carry no text: a wide grab (6 layers: a sixth of the slider) would cover it, so the
  // value is printed beside each one.
  int layer = static_cast<int>(st.layer);
  ImGui::SetNextItemWidth(220);
  if (ImGui::SliderInt("##layer", &layer, 0, static_cast<int>(run.L() - 1), "")) view.set_layer(layer);
  ImGui::SameLine();
  ImGui::Text("layer %d of 0-%d", layer, static_cast<int>(run.L() - 1));
  float speed = static_cast<float>(player.layers_per_second);
  ImGui::SetNextItemWidth(220);
  if (ImGui::SliderFloat("##speed", &speed, 0.25f, 12.0f, "", ImGuiSliderFlags_Logarithmic))
    player.layers_per_second = speed;
  ImGui::SameLine();
  ImGui::Text("%.2f layers/s", speed);
  float tau = static_cast<float>(run.tau());
  ImGui::SetNextItemWidth(220);
  if (actions.set_tau) {
    // Without activations τ snaps to the values the session stores (the controller picks the nearest).
    if (ImGui::SliderFloat("##tau", &tau, 0.0f, 1.0f, "") && std::abs(tau - run.tau()) > 1e-6) actions.set_tau(tau);
    ImGui::SameLine();
    ImGui::Text(run.has_activations() ? "tau %.3f" : "tau %.3f (stored)", tau);
  } else {
    ImGui::Text("tau %.3f", tau);
  }
  if (io.DisplaySize.x < 800) {  // no room for the console beside the player: its gist here
    ImGui::Text("Gram savings %.1f %%", run.analysis().summary.gram_savings * 100.0);
    if (const auto& q = run.record().quality) {  // measured with the run, at its own τ and rule
      ImGui::SameLine();
      ImGui::Text("  ppl %.2f exact, %.2f ADA (at tau %.3f)", q->ppl_exact, q->ppl_ada, run.record().analysis.tau);
    }
  }
  ImGui::End();

  // Engine console, bottom-right.
  if (actions.show_console && io.DisplaySize.x >= 800) {  // beside the player only when both fit
    const RunRecord& r = run.record();
    ImGui::SetNextWindowPos(ImVec2(io.DisplaySize.x - 10, io.DisplaySize.y - 10), ImGuiCond_Always, ImVec2(1, 1));
    ImGui::SetNextWindowBgAlpha(0.85f);
    ImGui::Begin("Engine", nullptr,
                 ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings |
                     ImGuiWindowFlags_NoFocusOnAppearing | ImGuiWindowFlags_NoNav | ImGuiWindowFlags_NoMove);
    const std::string what = r.kind == SourceKind::Model && r.model
                                 ? r.model->model_type + " on " + to_string(r.device) + ", " + to_string(r.dtype)
                                 : to_string(r.kind);
    ImGui::Text("%s%s", what.c_str(), run.has_activations() ? "" : "  (no activations: stored tau only)");
    if (!actions.engine.empty()) ImGui::Text("%s", actions.engine.c_str());
    ImGui::Text("T %lld  L %lld  attention %s", static_cast<long long>(run.T()), static_cast<long long>(run.L()),
                to_string(r.attention).c_str());
    if (r.timings.forward_ms > 0)
      ImGui::Text("forward %.0f ms  selection %.0f ms", r.timings.forward_ms, r.timings.selection_ms);
    ImGui::Text("Gram savings %.1f %%", run.analysis().summary.gram_savings * 100.0);
    if (const auto& q = r.quality)
      ImGui::Text("ppl %.2f exact, %.2f %s; attn err %.3f (at tau %.3f, %s)", q->ppl_exact, q->ppl_ada,
                  to_string(r.quality_mode).c_str(), mean_attention_error(*q), r.analysis.tau,
                  to_string(r.analysis.rule).c_str());
    ImGui::Text("refresh %.0f ms", 1000.0f * io.DeltaTime);
    ImGui::End();
  }

  // Hover inspector next to the pointer.
  if (st.hover_token >= 0 && st.hover_token < run.T()) {
    const int64_t t = st.hover_token, l = st.layer;
    ImGui::SetNextWindowPos(ImVec2(io.MousePos.x + 18, io.MousePos.y + 18), ImGuiCond_Always);
    ImGui::SetNextWindowBgAlpha(0.95f);
    ImGui::Begin("##hover", nullptr,
                 ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings |
                     ImGuiWindowFlags_NoFocusOnAppearing | ImGuiWindowFlags_NoNav | ImGuiWindowFlags_NoInputs);
    ImGui::Text("token %lld: \"%s\"", static_cast<long long>(t), run.token(t).c_str());
    ImGui::Text("layer %lld: %s", static_cast<long long>(l), status_name(run.status(l, t)));
    const float g = run.gamma(l)[t];
    const int64_t partner = run.partner(l)[t];
    if (partner >= 0)
      ImGui::Text("gamma %.4f  (max |cos| with token %lld \"%s\")", g, static_cast<long long>(partner), run.token(partner).c_str());
    else
      ImGui::Text("gamma -inf (first token)");
    if (st.link_to >= 0)
      ImGui::Text("represented by token %lld \"%s\"", static_cast<long long>(st.link_to), run.token(st.link_to).c_str());
    else if (const TokenStatus s = run.status(l, t); !run.has_activations() &&
             (s == TokenStatus::Redundant || s == TokenStatus::Removed || s == TokenStatus::Missed))
      ImGui::TextDisabled("nearest representative: needs the activations");
    ImGui::End();
  }
}

}  // namespace cascade::widgets
