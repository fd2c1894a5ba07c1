#pragma once
// Teaching: the student's exercise. "Which tokens will be representatives at layer l + 1?" The
// tokens are chips (layer l's representatives underlined in blue); the student clicks chips to
// guess (state.guesses), then the answer is revealed (state.reveal): right guesses, missed
// representatives and wrong guesses each with their own Okabe–Ito colour and a second channel (a
// ✓ / ? / ✗ badge, solid / dashed outline, hatching), and the score ("4 of 6 right").
// state.layer is l; the answer is the cascade's set at l + 1 (what the teaching mode steps through).
#include "widgets/figure.h"

namespace cascade::widgets {

struct ExerciseScore {
  int64_t right = 0;   // guessed and a representative at l + 1
  int64_t missed = 0;  // a representative not guessed
  int64_t wrong = 0;   // guessed but not a representative
  int64_t total = 0;   // representatives at l + 1
};

class TeachingExerciseFigure final : public Figure {
 public:
  QString id() const override { return "teaching-exercise"; }
  QString title() const override { return "Teaching: exercise"; }
  QSizeF natural_size(const RunSnapshot& run) const override { return {640, 420}; }
  bool available(const RunSnapshot& run, const FigureState& state) const override;
  QString unavailable_reason(const RunSnapshot& run, const FigureState& state) const override;
  Placement placement() const override { return Placement::Teaching; }
  void paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const override;
  Hit hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const override;

  // The representatives the student is asked for: R_casc at layer + 1.
  static const TokenSet& answer(const RunSnapshot& run, int64_t layer);
  static ExerciseScore score(const RunSnapshot& run, int64_t layer, const std::vector<int64_t>& guesses);
  static QString score_line(const ExerciseScore& s);
  // Where each token's chip is (clicks toggle the guess under them).
  static std::vector<QRectF> chips(const QRectF& rect, const RunSnapshot& run, const FigureState& state);
  static QString presenter_note(bool revealed);
};

}  // namespace cascade::widgets
