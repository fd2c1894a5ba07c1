#include "widgets/render.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QPdfWriter>
#include <QSaveFile>
#include <QSvgGenerator>

#include <algorithm>
#include <cmath>
#include <memory>

#include "core/errors.h"
#include "widgets/palette.h"

namespace cascade::widgets {

namespace {

std::string utf8(const QString& s) { return s.toUtf8().toStdString(); }

// Images are painted with a logical 72 dpi so a font's point size equals its size in logical pixels
// on every device; the painter's scale then maps points to device pixels.
constexpr double kPointsPerInch = 72.0;
int dots_per_meter(double dpi) { return static_cast<int>(std::lround(dpi / 0.0254)); }

void paint_on(QPaintDevice& device, const PagePainter& paint, QSizeF size, double scale, double font_pt) {
  const TypeFloor floor(font_pt);  // no text below the paper's type size
  QPainter p(&device);
  p.setRenderHint(QPainter::Antialiasing);
  p.setRenderHint(QPainter::TextAntialiasing);
  p.scale(scale, scale);
  p.fillRect(QRectF(QPointF(0, 0), size), Qt::white);
  paint(p, QRectF(QPointF(0, 0), size));
}

PagePainter page_of(const Figure& figure, const RunSnapshot& run, const FigureState& state) {
  return [&figure, &run, &state](QPainter& p, const QRectF& rect) { figure.paint(p, rect, run, state); };
}

void check_size(QSizeF size) {
  for (double v : {size.width(), size.height()})
    if (!(v >= 36 && v <= 10000)) throw UsageError("a figure's width and height must be between 36 and 10000 points");
}

}  // namespace

QImage render_page(const PagePainter& paint, QSizeF size, double scale, double font_pt) {
  const QSize pixels(std::max(1, static_cast<int>(std::lround(size.width() * scale))),
                     std::max(1, static_cast<int>(std::lround(size.height() * scale))));
  QImage image(pixels, QImage::Format_ARGB32_Premultiplied);
  image.setDotsPerMeterX(dots_per_meter(kPointsPerInch));
  image.setDotsPerMeterY(dots_per_meter(kPointsPerInch));
  image.fill(Qt::white);
  paint_on(image, paint, size, scale, font_pt);
  image.setDevicePixelRatio(scale);
  return image;
}

QImage render_figure(const Figure& figure, const RunSnapshot& run, const FigureState& state, QSizeF size,
                     double scale) {
  return render_page(page_of(figure, run, state), size, scale, state.font_pt);
}

ExportFormat parse_export_format(const QString& name) {
  const QString n = name.trimmed().toLower();
  if (n == "png") return ExportFormat::Png;
  if (n == "svg") return ExportFormat::Svg;
  if (n == "pdf") return ExportFormat::Pdf;
  throw UsageError("unknown figure format '" + utf8(name) + "' (png, svg or pdf)");
}

QString extension(ExportFormat format) {
  switch (format) {
    case ExportFormat::Png: return "png";
    case ExportFormat::Svg: return "svg";
    case ExportFormat::Pdf: return "pdf";
  }
  return "png";
}

const std::vector<ExportPreset>& export_presets() {
  // A two-column paper's column is ~240 pt and its text width ~500 pt (ACL, ICML, IEEE); a 16:9
  // slide 10 in wide is 720 pt (Google Slides' default), where 16 pt is the smallest readable type.
  static const std::vector<ExportPreset> presets = {
      {"single-column", "Single column (240 pt wide, 8 pt type)", 240, 8},
      {"double-column", "Double column (500 pt wide, 9 pt type)", 500, 9},
      {"slide", "Slide (720 pt wide, 16 pt type)", 720, 16},
  };
  return presets;
}

const ExportPreset* find_export_preset(const QString& id) {
  for (const ExportPreset& p : export_presets())
    if (id == p.id) return &p;
  return nullptr;
}

QSizeF export_size(const Figure& figure, const RunSnapshot& run, const FigureState& state, QSizeF asked) {
  const QSizeF natural = figure.natural_size(run);
  double w = asked.width() > 0 ? asked.width() : natural.width();
  double h = asked.height() > 0 ? asked.height()
             : asked.width() > 0 ? figure.height_for_width(run, state, w)
                                 : natural.height();
  check_size({w, h});
  return {w, h};
}

void export_page(const PagePainter& paint, QSizeF size, double font_pt, const QString& title, const QString& path,
                 const ExportOptions& options) {
  check_size(size);
  if (!(options.dpi >= 10 && options.dpi <= 2400)) throw UsageError("DPI must be between 10 and 2400");
  QSaveFile out(path);
  if (!out.open(QIODevice::WriteOnly)) throw Error("cannot write " + utf8(path) + " (" + utf8(out.errorString()) + ")");
  switch (options.format) {
    case ExportFormat::Png: {
      QImage image = render_page(paint, size, options.dpi / kPointsPerInch, font_pt);
      image.setDevicePixelRatio(1);
      image.setDotsPerMeterX(dots_per_meter(options.dpi));
      image.setDotsPerMeterY(dots_per_meter(options.dpi));
      if (!image.save(&out, "PNG")) throw InputError(utf8(path), "PNG encoding failed");
      break;
    }
    case ExportFormat::Svg: {
      QSvgGenerator svg;
      svg.setOutputDevice(&out);
      svg.setResolution(static_cast<int>(kPointsPerInch));
      svg.setSize(QSize(static_cast<int>(std::ceil(size.width())), static_cast<int>(std::ceil(size.height()))));
      svg.setViewBox(QRectF(QPointF(0, 0), size));
      svg.setTitle(title);
      svg.setDescription("Cascade Lens figure: " + title);
      paint_on(svg, paint, size, 1.0, font_pt);
      break;
    }
    case ExportFormat::Pdf: {
      QPdfWriter pdf(&out);
      pdf.setResolution(static_cast<int>(kPointsPerInch));
      pdf.setPageSize(QPageSize(size, QPageSize::Point, title, QPageSize::ExactMatch));
      pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
      pdf.setTitle(title);
      pdf.setCreator("Cascade Lens");
      paint_on(pdf, paint, size, 1.0, font_pt);
      break;
    }
  }
  if (!out.commit()) throw Error("cannot write " + utf8(path) + " (" + utf8(out.errorString()) + ")");
}

void export_figure(const Figure& figure, const RunSnapshot& run, const FigureState& view_state, const QString& path,
                   const ExportOptions& options) {
  FigureState state = view_state;
  state.hints = false;  // a figure in a paper carries no "what to click next"
  if (!figure.available(run, state))
    throw UsageError("the " + utf8(figure.title()) + " figure has nothing to draw for this run");
  const QSizeF size = export_size(figure, run, state, options.size);
  export_page(page_of(figure, run, state), size, state.font_pt, figure.title(), path, options);
}

QStringList export_all(const RunSnapshot& run, const FigureState& state, const QString& dir,
                       const std::vector<ExportFormat>& formats, double dpi, QSizeF size) {
  if (!QDir().mkpath(dir)) throw Error("cannot write " + utf8(dir) + " (cannot create the folder)");
  QStringList written;
  for (const auto& figure : all_figures()) {
    // The cascade step is drawn into the selected layer, and into layer 1 when layer 0 is selected
    // (there is no step into layer 0), so that "all figures" includes it.
    FigureState s = state;
    std::unique_ptr<CascadeExplanation> explanation;
    if (figure->demand() == Demand::Explanation && !figure->available(run, s) && run.has_activations() && run.L() >= 2) {
      s.layer = std::max<int64_t>(s.layer, 1);
      explanation = std::make_unique<CascadeExplanation>(run.explain(s.layer));
      s.explanation = explanation.get();
    }
    if (!figure->available(run, s)) continue;
    for (ExportFormat f : formats) {
      const QString path = QDir(dir).filePath(figure->id() + "." + extension(f));
      export_figure(*figure, run, s, path, ExportOptions{f, size, dpi});
      written << path;
    }
  }
  return written;
}

}  // namespace cascade::widgets
