#include "widgets/palette.h"

#include <QImage>

#include <algorithm>
#include <array>
#include <cmath>

namespace cascade::widgets {

QColor status_color(TokenStatus s) {
  switch (s) {
    case TokenStatus::Representative: return okabe_ito::blue;
    case TokenStatus::Added: return okabe_ito::bluish_green;
    case TokenStatus::Removed: return okabe_ito::vermillion;
    case TokenStatus::Missed: return okabe_ito::orange;
    case TokenStatus::Extra: return okabe_ito::reddish_purple;
    case TokenStatus::Redundant: break;
  }
  return QColor(232, 232, 232);
}

QColor status_text_color(TokenStatus s) {
  return s == TokenStatus::Redundant || s == TokenStatus::Missed ? kInk : QColor(Qt::white);
}

QColor mix(const QColor& a, const QColor& b, double t) {
  t = std::clamp(t, 0.0, 1.0);
  auto lerp = [t](int x, int y) { return static_cast<int>(std::lround(x + (y - x) * t)); };
  return QColor(lerp(a.red(), b.red()), lerp(a.green(), b.green()), lerp(a.blue(), b.blue()),
                lerp(a.alpha(), b.alpha()));
}

QColor viridis(double v) {
  // matplotlib's viridis sampled at 9 points; linear in between (max error < 2/255 per channel).
  static const std::array<std::array<int, 3>, 9> stops = {{{68, 1, 84},
                                                           {71, 45, 123},
                                                           {59, 82, 139},
                                                           {44, 114, 142},
                                                           {33, 145, 140},
                                                           {40, 174, 128},
                                                           {94, 201, 98},
                                                           {173, 220, 48},
                                                           {253, 231, 37}}};
  if (!std::isfinite(v)) v = 0;
  v = std::clamp(v, 0.0, 1.0) * 8.0;
  const int i = std::min(7, static_cast<int>(v));
  const double t = v - i;
  const QColor a(stops[i][0], stops[i][1], stops[i][2]), b(stops[i + 1][0], stops[i + 1][1], stops[i + 1][2]);
  return mix(a, b, t);
}

namespace {
thread_local double type_floor = 0;
}  // namespace

TypeFloor::TypeFloor(double points) : outer_(type_floor) { type_floor = std::max(0.0, points); }
TypeFloor::~TypeFloor() { type_floor = outer_; }
double TypeFloor::current() { return type_floor; }

QFont figure_font(double point_size, bool bold) {
  QFont f("DejaVu Sans");
  f.setPointSizeF(std::max(point_size, type_floor));
  f.setBold(bold);
  f.setStyleHint(QFont::SansSerif);
  return f;
}

QFontMetricsF figure_metrics(const QFont& font) {
  static QImage device = [] {
    QImage img(1, 1, QImage::Format_ARGB32_Premultiplied);
    img.setDotsPerMeterX(static_cast<int>(std::lround(72.0 / 0.0254)));
    img.setDotsPerMeterY(static_cast<int>(std::lround(72.0 / 0.0254)));
    return img;
  }();
  return QFontMetricsF(font, &device);
}

}  // namespace cascade::widgets
