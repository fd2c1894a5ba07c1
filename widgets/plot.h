#pragma once
// Small plotting helpers shared by the figures: axes with "nice" ticks, labels, legends.
#include <QImage>
#include <QPainterPath>
#include <QPainter>
#include <QRectF>
#include <QString>

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
// Margins that fit tick labels at this type size: left, top, right, bottom.
QRectF inner_area(const QRectF& rect, double font_pt, bool right_axis = false, bool title = true);

// Per-layer plots (x = analysed layer index): a series with gaps where a value is missing (and
// optional markers), the selected layer's marker line, and the layer under a point.
void draw_layer_series(QPainter& p, const Axes& a, const std::vector<std::optional<double>>& ys, const QColor& color,
                       Qt::PenStyle style, bool markers);
void mark_layer(QPainter& p, const Axes& a, int64_t layer);
int64_t layer_at(const Axes& a, QPointF pos, int64_t L);

}  // namespace cascade::widgets
