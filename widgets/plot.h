#pragma once
// Small plotting helpers shared by the figures: axes with "nice" ticks, labels, legends.
#include <QImage>
#include <QPainterPath>
#include <QPainter>
#include <QRectF>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

namespace cascade::widgets {

std::vector<double> nice_ticks(double lo, double hi, int target = 5);
QString tick_label(double v, double step);

// A linear axis pair mapping data to a plot rectangle.
struct Axes {
  QRectF area;  // the plotting area in points
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  double px(double x) const { return area.left() + (x - x0) / (x1 - x0) * area.width(); }
  double py(double y) const { return area.bottom() - (y - y0) / (y1 - y0) * area.height(); }
  double x_of(double px_) const { return x0 + (px_ - area.left()) / area.width() * (x1 - x0); }
};

// Draws frame, grid, ticks and labels (x_label below, y_label rotated on the left); returns nothing.
void draw_axes(QPainter& p, const Axes& a, const QString& x_label, const QString& y_label, double font_pt,
               bool integer_x = false, bool grid = true, bool integer_y = false);
// A right-hand y axis for a second series (ticks and a rotated label).
void draw_right_axis(QPainter& p, const Axes& a, const QString& label, double font_pt);
// `text` broken into lines no wider than `width` (figure_metrics), at spaces only: "|cos|" and
// "τ = 0.30" never break; a word wider than the line stays whole on its own line.
QStringList wrap_words(const QString& text, const QFont& font, double width);
// Math as the paper writes it, as text in SVG and PDF: "R^{(ℓ)}_{ind}", "x_{t}", "r_{casc} / T" —
// `_{…}` a subscript, `^{…}` a superscript (stacked when one follows the other), at 72 % of the
// size but never under the type floor. A `_` or `^` without braces is itself.
double rich_width(const QString& text, const QFont& font);
// Drawn with its baseline's left end at `at`; returns the advance.
double draw_rich(QPainter& p, QPointF at, const QString& text, const QFont& font);
// In `rect` with Qt alignment flags (left/centre/right, top/centre/bottom), one line.
void draw_rich(QPainter& p, const QRectF& rect, int flags, const QString& text, const QFont& font);
// A figure's title, bold, wrapped at spaces to the page's width (never elided, never past the
// page): the height it takes (0 for no title) and the drawing.
double title_height(double width, const QString& title, double font_pt);
void draw_title(QPainter& p, const QRectF& rect, const QString& title, double font_pt);
// Legend entries: (colour, label, line?) drawn in a row starting at `origin`; returns its width.
struct LegendEntry {
  QColor color;
  QString label;
  bool line = true;  // false: a filled square
  Qt::PenStyle style = Qt::SolidLine;
  std::function<void(QPainter&, const QRectF&)> swatch = nullptr;  // draws the square itself when set
};
// Entries left to right from `origin` (its top); with max_width > 0 they wrap onto further lines
// instead of running past it. Returns the size used.
QSizeF draw_legend(QPainter& p, QPointF origin, const std::vector<LegendEntry>& entries, double font_pt,
                   double max_width = 0);
// The size draw_legend would use, without drawing.
QSizeF legend_size(const std::vector<LegendEntry>& entries, double font_pt, double max_width = 0);
// Parallel stripes over `region`, `spacing` points apart, rising (/) or falling (\\) — a second
// channel beside colour; vector lines in PDF/SVG.
void draw_hatch(QPainter& p, const QPainterPath& region, double spacing, bool rising, const QColor& color,
                double width);
// Small raster images (heatmaps) enlarged by nearest neighbour so PDF/SVG viewers keep the cells sharp.
QImage crisp(const QImage& img);
// A rows × cols grid of cells filling `area`. As rectangles (equal neighbours in a row merged) when
// there are at most max_rects of them — vector and lossless in PDF/SVG, where viewers would smooth
// (and Qt's PDF engine may JPEG-compress) an image — else as one image (crisp).
void draw_cells(QPainter& p, const QRectF& area, int64_t rows, int64_t cols, const std::vector<QRgb>& colors,
                int64_t max_rects = 40000);
// A viridis colour bar for values 0..1 in `bar`, ticked at `ticks`, its label rotated on the right
// (needs ~5.4 font sizes of room beyond the bar).
void draw_colorbar(QPainter& p, const QRectF& bar, const std::vector<double>& ticks, int decimals, const QString& label,
                   double font_pt);
// The plotting area: margins that fit tick labels and axis labels at this type size, the title
// (wrapped; empty: none) above, and `below` points more under the x-axis label (a legend).
QRectF inner_area(const QRectF& rect, double font_pt, bool right_axis, const QString& title, double below = 0);
// The height a plot page needs at `width`: title, plot (plot_aspect = height / width of the plotting
// area; at least 10 type sizes and min_plot tall), axis margins and `below`.
double plot_page_height(double width, double font_pt, bool right_axis, const QString& title, double plot_aspect,
                        double below = 0, double min_plot = 0);

// Per-layer plots (x = analysed layer index): a series with gaps where a value is missing (and
// optional markers), the selected layer's marker line, and the layer under a point.
void draw_layer_series(QPainter& p, const Axes& a, const std::vector<std::optional<double>>& ys, const QColor& color,
                       Qt::PenStyle style, bool markers);
void mark_layer(QPainter& p, const Axes& a, int64_t layer);
int64_t layer_at(const Axes& a, QPointF pos, int64_t L);

}  // namespace cascade::widgets
