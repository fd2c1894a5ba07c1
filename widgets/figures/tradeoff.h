#pragma once
#include "widgets/figure.h"

namespace cascade::widgets {

// SPEC §7 over the τ sweep (state.tradeoff, one comparison per τ): r/T (mean over layers) against
// ΔPPL — or, when perplexity was not measured, the mean attn_err, and without the model the mean
// coverage loss 1 − coverage — one series per method joined in τ order, the current τ's points
// ringed. hit() reports the point under the pointer.
class TradeoffFigure final : public Figure {
 public:
  QString id() const override { return "tradeoff"; }
  QString title() const override { return "Methods: budget trade-off"; }
  QSizeF natural_size(const RunSnapshot&) const override { return {500, 360}; }
  bool available(const RunSnapshot& run, const FigureState& state) const override;
  QString unavailable_reason(const RunSnapshot& run, const FigureState& state) const override;
  double height_for_width(const RunSnapshot& run, const FigureState& state, double width) const override;
  void paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const override;
  Hit hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const override;

  // What y holds, and one method's point at one comparison (nullopt where it has no value).
  enum class YAxis { DeltaPpl, AttnErr, CoverageLoss };
  static YAxis y_axis(const std::vector<Comparison>& sweep);
  static std::optional<QPointF> point(const Comparison& c, const MethodResult& r, YAxis y);
  // The index in `sweep` of the comparison nearest τ (the one ringed).
  static size_t current(const std::vector<Comparison>& sweep, double tau);
  // Where method m's point of state.tradeoff[index] is drawn in `rect` (nullopt: it has no value).
  static std::optional<QPointF> where(const QRectF& rect, const RunSnapshot& run, const FigureState& state, size_t index,
                                      Method m);
};

}  // namespace cascade::widgets
