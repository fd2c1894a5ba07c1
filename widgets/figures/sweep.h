#pragma once
#include "widgets/figure.h"

namespace cascade::widgets {

// Against τ: r/T (independent and cascade), Gram savings, casc_fidelity, and when measured the ADA
// attention error and ΔPPL (right axis); the current τ marked. hit() reports the τ under the pointer
// (Hit::tooltip) and tau_at() maps a pointer x to τ for dragging.
class SweepFigure final : public Figure {
 public:
  QString id() const override { return "sweep"; }
  QString title() const override { return "τ sweep"; }
  QSizeF natural_size(const RunSnapshot&) const override { return {500, 320}; }
  bool available(const RunSnapshot& run, const FigureState&) const override { return run.record().sweep.size() >= 2; }
  QString unavailable_reason(const RunSnapshot&, const FigureState&) const override { return "no sweep"; }
  bool picks_tau() const override { return true; }
  std::optional<double> tau_at(const QRectF& rect, const RunSnapshot& run, const FigureState& state,
                               QPointF pos) const override;
  double height_for_width(const RunSnapshot& run, const FigureState& state, double width) const override;
  void paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const override;
  Hit hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const override;
  // τ under x (clamped to the sweep's range); nullopt outside the plot.
};

}  // namespace cascade::widgets
