#pragma once
// The one path from a Figure to pixels or vectors. The on-screen views call render_figure too, so a
// PNG export at the view's size and scale is the same image as the screen.
#include <QImage>
#include <QPainter>
#include <QString>
#include <QStringList>

#include <functional>
#include <vector>

#include "widgets/figure.h"

namespace cascade::widgets {

// Paints the figure into an ARGB image of logical `size` (points; 1 pt = 1 logical pixel) at
// `scale` device pixels per point, on a white background. The image's device-pixel ratio is `scale`.
QImage render_figure(const Figure& figure, const RunSnapshot& run, const FigureState& state, QSizeF size,
                     double scale = 1.0);

enum class ExportFormat { Png, Svg, Pdf };
ExportFormat parse_export_format(const QString& name);  // "png" | "svg" | "pdf"; throws UsageError
QString extension(ExportFormat format);

struct ExportOptions {
  ExportFormat format = ExportFormat::Png;
  QSizeF size;       // points; 0 × 0: the figure's natural size; W × 0: its height at width W
  double dpi = 300;  // PNG only (the PNG records it)
};

// The paper and slide layouts the export dialog and `figures --preset` offer: a width (the height
// follows it and the type) and the smallest type size.
struct ExportPreset {
  const char* id;     // "single-column", "double-column", "slide"
  const char* label;  // for a menu
  double width_pt, font_pt;
};
const std::vector<ExportPreset>& export_presets();
const ExportPreset* find_export_preset(const QString& id);  // nullptr when unknown

// The size an export gets for the asked one (see ExportOptions::size); throws UsageError for a size
// outside 36..10000 points.
QSizeF export_size(const Figure& figure, const RunSnapshot& run, const FigureState& state, QSizeF asked);

// Writes one figure, atomically (a temporary file renamed into place). Throws InputError naming the
// path when it cannot be written, UsageError when the figure cannot draw this state.
void export_figure(const Figure& figure, const RunSnapshot& run, const FigureState& state, const QString& path,
                   const ExportOptions& options);

// What render_figure and export_figure do for any page (the study figures too): `paint` draws a
// page of `size` points into its rectangle, on white, with no type under `font_pt` (0: none).
using PagePainter = std::function<void(QPainter&, const QRectF&)>;
QImage render_page(const PagePainter& paint, QSizeF size, double scale, double font_pt);
// Writes the page as PNG (at options.dpi), SVG or PDF, atomically; `title` names it in SVG and PDF.
// Throws InputError naming the path when it cannot be written, UsageError for a bad size or DPI.
void export_page(const PagePainter& paint, QSizeF size, double font_pt, const QString& title, const QString& path,
                 const ExportOptions& options);

// Every available figure into `dir` as <id>.<ext> per format; returns the files written.
QStringList export_all(const RunSnapshot& run, const FigureState& state, const QString& dir,
                       const std::vector<ExportFormat>& formats, double dpi = 300, QSizeF size = {});

}  // namespace cascade::widgets
