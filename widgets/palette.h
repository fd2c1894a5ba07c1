#pragma once
// Colours and type for every figure. Okabe–Ito (colour-blind safe) for categories, viridis for
// heatmaps (perceptually uniform, readable in greyscale), DejaVu Sans for text.
#include <QColor>
#include <QFont>
#include <QFontMetricsF>

#include "core/snapshot.h"

namespace cascade::widgets {

namespace okabe_ito {
inline const QColor black{0, 0, 0}, orange{230, 159, 0}, sky_blue{86, 180, 233}, bluish_green{0, 158, 115},
    yellow{240, 228, 66}, blue{0, 114, 178}, vermillion{213, 94, 0}, reddish_purple{204, 121, 167};
}  // namespace okabe_ito

QColor status_color(TokenStatus s);
QColor status_text_color(TokenStatus s);  // black or white, whichever reads on status_color
QColor viridis(double v);                 // v in [0, 1], clamped
QColor mix(const QColor& a, const QColor& b, double t);  // (1−t)·a + t·b

inline const QColor kInk{30, 30, 30};      // text and axes
inline const QColor kGrid{225, 225, 225};  // grid lines
inline const QColor kMuted{110, 110, 110}; // secondary text

// Figure type: size in points (1/72 in); figures are laid out for these. Never smaller than the
// floor in force on this thread (TypeFloor).
QFont figure_font(double point_size, bool bold = false);
// Metrics in points (a 72-dpi device): what a figure laid out in points measures, on any device.
QFontMetricsF figure_metrics(const QFont& font);

// While one lives, figure_font gives no type smaller than `points` on this thread (a paper's
// minimum type size; render_figure and export_figure hold one while a figure paints). Nested
// floors restore the outer one.
class TypeFloor {
 public:
  explicit TypeFloor(double points);
  ~TypeFloor();
  TypeFloor(const TypeFloor&) = delete;
  TypeFloor& operator=(const TypeFloor&) = delete;
  static double current();

 private:
  double outer_;
};

}  // namespace cascade::widgets
