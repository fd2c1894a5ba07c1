#pragma once
// Drawing shared by the teaching figures (the opening sequence, the cascade step, the exercise):
// text that wraps only at spaces (so "|cos|" never breaks across lines), a |cos| bar chart with
// each token's words under its bar and θ's label beside the plot (never over a bar), and a record
// of every text box drawn, which the tests use to check that no text leaves the window.
#include <QColor>
#include <QFont>
#include <QFontMetricsF>
#include <QPainter>
#include <QRectF>
#include <QString>
#include <QStringList>

#include <vector>

#include "widgets/palette.h"
#include "widgets/plot.h"

namespace cascade::widgets::teach {

// Metrics in points and wrapping at spaces only (widgets/palette.h, widgets/plot.h).
inline QFontMetricsF metrics(const QFont& font) { return figure_metrics(font); }
using widgets::wrap_words;
double wrapped_height(const QString& text, const QFont& font, double width);
// Draws `text` wrapped into rect.width() from rect's top, left-aligned or centred; returns the height
// it used. Shrinks the type (to half at most) while the text would be taller than rect.
double draw_wrapped(QPainter& p, const QRectF& rect, const QString& text, QFont font, const QColor& color,
                    Qt::Alignment horizontal = Qt::AlignLeft);
// One line in rect (any alignment flags), its type shrunk until it fits rect's width.
void draw_line(QPainter& p, const QRectF& rect, int flags, const QString& text);

// While one is alive (on this thread), every text drawn through this file adds its bounding box,
// in the painter's device coordinates. The tests check those boxes against the window.
class TextBoxes {
 public:
  TextBoxes();
  ~TextBoxes();
  TextBoxes(const TextBoxes&) = delete;
  TextBoxes& operator=(const TextBoxes&) = delete;
  const std::vector<QRectF>& boxes() const { return boxes_; }
  const QStringList& texts() const { return texts_; }
  static void note(const QPainter& p, const QRectF& box, const QString& text);

 private:
  std::vector<QRectF> boxes_;
  QStringList texts_;
  TextBoxes* outer_ = nullptr;
};

// One bar: the token's words under it, its value (NaN or −∞: no bar, e.g. the first token, which
// has no earlier one), its colour, and hatching as a second channel besides the colour.
struct TokenBar {
  QString label;
  double value = 0;
  QColor color;
  bool hatch = false;
};

struct BarLayout {
  QRectF plot;        // the plotting area (y: |cos| 0 … 1)
  double slot = 0;    // horizontal room per bar
  double label_pt = 0;
  bool rotated = false;  // token words written upwards under their bars
  QRectF theta_label;    // beside the plot, right of the last bar
};
BarLayout bar_layout(const QRectF& rect, const std::vector<TokenBar>& bars, double theta, double font_pt);
// Axes (0, 0.5, 1 and "|cos|" above the axis), the bars, the token words, the dashed θ line and its
// label "θ = 0.910" in the right margin. Returns the layout used.
BarLayout draw_token_bars(QPainter& p, const QRectF& rect, const std::vector<TokenBar>& bars, double theta,
                          double font_pt);

// Diagonal hatching inside `r` (a second channel for colour-blind readers).
void hatch(QPainter& p, const QRectF& r, const QColor& color, double spacing);

}  // namespace cascade::widgets::teach
