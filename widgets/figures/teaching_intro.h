#pragma once
// Teaching: the opening sequence shown before Algorithm 1, for a student who knows attention but not
// the paper, drawn from the run itself (its first sentence or two, at one layer):
//   0 tokens become vectors (hidden states, one arrow each),
//   1 two tokens are similar when their vectors point the same way (|cos| and the angle),
//   2 θ = 1 − τ² is the line above which a token is "already said" (|cos| bars, token words),
//   3 a representative is a token not yet said,
//   4 attention then needs only the representatives (all scores vs the representatives' scores).
// state.intro_stage picks the stage; each is one sentence with the picture doing the work.
#include "widgets/figure.h"

namespace cascade::widgets {

class TeachingIntroFigure final : public Figure {
 public:
  static constexpr int kStages = 5;
  static constexpr int kMaxTokens = 16;
  QString id() const override { return "teaching-intro"; }
  QString title() const override { return "Teaching: before the algorithm"; }
  QSizeF natural_size(const RunSnapshot& run) const override { return {640, 420}; }
  bool available(const RunSnapshot& run, const FigureState& state) const override;
  QString unavailable_reason(const RunSnapshot& run, const FigureState& state) const override;
  Placement placement() const override { return Placement::Teaching; }
  void paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const override;

  // What the sequence shows, from the run: its first `tokens` tokens (up to the end of a sentence),
  // at `layer`, the one where about half of them are already said.
  struct Story {
    int64_t layer = 1, tokens = 0;
    std::vector<double> gamma;        // per shown token: max |cos| with an earlier one (−∞ for the first)
    std::vector<int64_t> partner;     // that earlier token, −1 for the first
    std::vector<double> angle;        // an arrow direction per token (radians), from the pairwise angles
    int64_t similar_a = -1, similar_b = -1, different_b = -1;  // stage 1's two pairs (a with b)
    double similar_cos = 0, different_cos = 0;                 // their |cos|
    double theta = 0, tau = 0;
    bool representative(int64_t t) const { return !(gamma[t] >= theta); }
    int64_t representatives() const;
  };
  static Story story(const RunSnapshot& run);
  static QString stage_name(int stage);
  static QString narration(const RunSnapshot& run, const Story& story, int stage);
  // What the presenter might say (the notes line at the foot of the teaching window).
  static QString presenter_note(int stage);
};

}  // namespace cascade::widgets
