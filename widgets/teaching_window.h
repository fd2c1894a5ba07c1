#pragma once
// Teaching mode: full screen, projector-sized type. It opens on a short sequence that introduces the
// ideas (TeachingIntroFigure), then steps one cascade transition through Algorithm 1
// (CascadeStepFigure), and offers an exercise (TeachingExerciseFigure). A presenter-notes line and
// the keys sit at the foot.
//   → / Space next stage (intro, then the algorithm, then the next layer), ← previous, ↑/↓ layer,
//   Home back to the opening, E exercise (click chips to guess, Enter / R reveals, E or Esc leaves),
//   Ctrl + / Ctrl − "lecture hall" size step, Ctrl 0 resets it, Esc leaves.
#include <QWidget>

#include <vector>

#include "widgets/figures/cascade_step.h"
#include "widgets/figures/teaching_exercise.h"
#include "widgets/figures/teaching_intro.h"
#include "widgets/run_view.h"

namespace cascade::widgets {

class TeachingWindow : public QWidget {
  Q_OBJECT
 public:
  // The narration's type is this share of the window's height at size step 0 (≥ 4% so a projected
  // room can read it); each step multiplies it by kStepFactor.
  static constexpr double kBodyShare = 0.044;
  static constexpr double kStepFactor = 1.12;
  static constexpr int kMinStep = -3, kMaxStep = 3;

  explicit TeachingWindow(RunView* view, QWidget* parent = nullptr);
  void next();
  void previous();
  void restart();          // the opening sequence's first stage
  void show_algorithm();   // straight to the algorithm at the view's layer and step
  int intro_stage() const { return intro_stage_; }  // −1 once in the algorithm
  // The exercise: "which tokens will be representatives at the next layer?"
  void start_exercise();
  void leave_exercise();
  bool in_exercise() const { return exercise_; }
  void toggle_guess(int64_t token);
  void reveal();
  bool revealed() const { return revealed_; }
  const std::vector<int64_t>& guesses() const { return guesses_; }
  int64_t exercise_layer() const { return exercise_layer_; }
  ExerciseScore exercise_score() const;
  // The "lecture hall" size step (Ctrl + / Ctrl −, Ctrl 0 resets).
  int size_step() const { return size_step_; }
  void set_size_step(int step);
  double body_pt() const;  // the narration's type size in logical pixels (= points on screen)

  const Figure& current_figure() const;
  FigureState shown_state() const;
  QRectF figure_rect() const;  // the window above the notes line
  QString presenter_note() const;
  QImage render_current() const;

 protected:
  void paintEvent(QPaintEvent*) override;
  void keyPressEvent(QKeyEvent* e) override;
  void mousePressEvent(QMouseEvent* e) override;
  void showEvent(QShowEvent* e) override;

 private:
  double notes_height() const;
  void paint_notes(QPainter& p) const;
  void go_to_step(int step);  // in the algorithm: `step` or the next stage that compares something
  int first_step() const;

  RunView* view_;
  CascadeStepFigure step_figure_;
  TeachingIntroFigure intro_figure_;
  TeachingExerciseFigure exercise_figure_;
  int intro_stage_ = 0;
  bool exercise_ = false, revealed_ = false;
  int64_t exercise_layer_ = 0;
  std::vector<int64_t> guesses_;
  int size_step_ = 0;
};

}  // namespace cascade::widgets
