#pragma once
// SPEC §8 studies as figures: what many documents say together, painted with QPainter into a
// rectangle in points like every run figure (widgets/figure.h), and exported the same way
// (render.h's export_page). One or two studies: the second overlaid in another colour, the legend
// naming both. Torch-free: the study (core/study.h) and its aggregates only.
#include <QColor>
#include <QPainter>
#include <QRectF>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>
#include <vector>

#include "core/study.h"
#include "widgets/plot.h"
#include "widgets/render.h"

namespace cascade::widgets {

// One method of the trade-off: per-document mean r/T (over layers of methods/r, over the document's
// T) against its quality (methods/delta_ppl, else the mean over layers of methods/attn_err).
struct StudyMethodPoint {
  QString method;
  stats::Describe x, y;
};

// A study as the figures draw it, computed once: aggregate() and the trade-off's bootstraps are
// not cheap, and paint() runs on every resize.
struct StudyData {
  QString name;  // the legend's: the model, and the file
  std::shared_ptr<const study::Study> study;
  study::Aggregates aggregates;
  QString quality;  // the trade-off's y: "delta_ppl" or "attn_err" ("" when neither was measured)
  std::vector<StudyMethodPoint> methods;
};
// With `stored` (the file's aggregates, data::read_study's) those; else aggregate(study) — a
// bootstrap per cell, seconds for a large study.
StudyData make_study_data(std::shared_ptr<const study::Study> study, const QString& name,
                          std::optional<study::Aggregates> stored = std::nullopt);
// The study's model: params "model" when set, else "model_name" (the hub id or folder name the
// study runner records, data/study/study_runner.cpp); "" when neither.
QString study_model(const study::Study& study);
// "model (file)" from study_model (shortened as short_source shortens a run's: "demo-model") and
// the file's name; either alone when the other is empty.
QString study_name(const study::Study& study, const QString& path);

struct StudyFigureState {
  int64_t tau = 0;      // index into study.taus (the first study's; the second is drawn at the same τ value)
  double font_pt = 0;   // no type under this (export presets); 0: the figures' own sizes
  bool title = true;
  double scale = 1;     // type scale
};

enum class StudyFigureKind { Bands, Histogram, Tradeoff };
const std::vector<StudyFigureKind>& study_figure_kinds();
QString study_figure_id(StudyFigureKind kind);     // "study-bands", "study-histogram", "study-tradeoff"
QString study_figure_title(StudyFigureKind kind);  // for menus
std::optional<StudyFigureKind> parse_study_figure(const QString& id);

// Series colours: the first study blue, the second vermillion (Okabe–Ito, apart in every CVD).
QColor study_color(size_t index);

// What a figure can draw of these studies: "" when it can, else why not in a few words.
QString study_unavailable(StudyFigureKind kind, const std::vector<const StudyData*>& studies);
double study_height_for_width(StudyFigureKind kind, const std::vector<const StudyData*>& studies,
                              const StudyFigureState& state, double width);
void paint_study_figure(QPainter& p, const QRectF& rect, StudyFigureKind kind,
                        const std::vector<const StudyData*>& studies, const StudyFigureState& state);
// The legend's labels (the study names, then the line styles' meanings) — what the figure shows of them.
QStringList study_legend_labels(StudyFigureKind kind, const std::vector<const StudyData*>& studies,
                                const StudyFigureState& state = {});

// The bands figure's geometry, so what is drawn can be checked against aggregate(): one panel per
// measure, and per study the points of its mean line and CI band (data and page coordinates).
struct StudyBandPoint {
  double x = 0;               // layer id (or τ for gram_savings)
  stats::Describe d;          // the cell drawn
  QPointF mean, lo, hi;       // page points of mean, ci95[0], ci95[1]
};
struct StudyBandSeries {
  size_t study = 0;
  QString array;  // "layers/r_casc_over_T", …
  Qt::PenStyle style = Qt::SolidLine;
  std::vector<StudyBandPoint> points;
};
struct StudyBandPanel {
  QString measure;  // "r/T", "depth_jaccard", "casc_fidelity", "turnover", "gram_savings"
  QRectF rect;      // the panel's page: its title, then the axes
  Axes axes;
  std::vector<StudyBandSeries> series;
};
std::vector<StudyBandPanel> study_bands_layout(const QRectF& rect, const std::vector<const StudyData*>& studies,
                                               const StudyFigureState& state);

// One study figure into a PNG, SVG or PDF file as export_figure writes a run's (atomically; size
// 0 × 0: 640 wide at its own height). Throws UsageError when the figure cannot draw these studies.
void export_study_figure(StudyFigureKind kind, const std::vector<const StudyData*>& studies,
                         const StudyFigureState& state, const QString& path, const ExportOptions& options);
// The screen's image of a figure (logical `size`, `scale` device pixels per point).
QImage render_study_figure(StudyFigureKind kind, const std::vector<const StudyData*>& studies,
                           const StudyFigureState& state, QSizeF size, double scale = 1.0);

}  // namespace cascade::widgets
