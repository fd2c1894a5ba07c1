#include "widgets/study_figures.h"

#include <QFileInfo>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/errors.h"
#include "core/run_record.h"
#include "widgets/palette.h"

namespace cascade::widgets {

namespace {

using study::Study;
using Studies = std::vector<const StudyData*>;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double type_of(const StudyFigureState& s, double design = 9) { return std::max(design * s.scale, s.font_pt); }
bool finite(double v) { return std::isfinite(v); }
QString num(double v, int decimals = 3) { return finite(v) ? QString::number(v, 'f', decimals) : QString("—"); }
QString mean_ci(const stats::Describe& d, int decimals = 3) {
  return QString("%1 [%2, %3]").arg(num(d.mean, decimals), num(d.ci95[0], decimals), num(d.ci95[1], decimals));
}

// The index of the τ in `s` nearest to `tau`: the second study is drawn at the first one's τ value.
int64_t nearest_tau(const Study& s, double tau) {
  int64_t best = 0;
  for (size_t i = 1; i < s.taus.size(); ++i)
    if (std::abs(s.taus[i] - tau) < std::abs(s.taus[static_cast<size_t>(best)] - tau)) best = static_cast<int64_t>(i);
  return best;
}
double shown_tau(const Studies& studies, const StudyFigureState& state) {
  const auto& taus = studies.front()->study->taus;
  return taus.empty() ? kNaN : taus[static_cast<size_t>(std::clamp<int64_t>(state.tau, 0, static_cast<int64_t>(taus.size()) - 1))];
}
int64_t tau_of(const StudyData& d, const Studies& studies, const StudyFigureState& state) {
  return d.study->taus.empty() ? 0 : nearest_tau(*d.study, shown_tau(studies, state));
}

const study::ArrayAggregate* aggregate_of(const StudyData& d, const QString& name) {
  return d.aggregates.find(name.toStdString());
}

std::vector<LegendEntry> study_entries(const Studies& studies) {
  std::vector<LegendEntry> out;
  for (size_t i = 0; i < studies.size(); ++i)
    out.push_back({study_color(i), QString("%1 (%2 documents)").arg(studies[i]->name).arg(studies[i]->study->documents.size()), false});
  return out;
}

// Fills the band between the CI's ends and draws the mean line over it, one stretch per run of
// finite cells (depth_jaccard has none at the last layer, turnover none at the first).
void draw_band(QPainter& p, const StudyBandSeries& s, const QColor& color) {
  std::vector<std::vector<const StudyBandPoint*>> runs(1);
  for (const StudyBandPoint& q : s.points) {
    if (finite(q.d.mean) && finite(q.d.ci95[0]) && finite(q.d.ci95[1])) runs.back().push_back(&q);
    else if (!runs.back().empty()) runs.emplace_back();
  }
  QColor fill = color;
  fill.setAlphaF(0.22);
  for (const auto& run : runs) {
    if (run.empty()) continue;
    QPolygonF band;
    for (const StudyBandPoint* q : run) band << q->hi;
    for (auto it = run.rbegin(); it != run.rend(); ++it) band << (*it)->lo;
    p.setPen(Qt::NoPen);
    p.setBrush(fill);
    if (run.size() >= 2) p.drawPolygon(band);
    else p.drawRect(QRectF(run[0]->hi.x() - 2, run[0]->hi.y(), 4, run[0]->lo.y() - run[0]->hi.y()));
    QPolygonF line;
    for (const StudyBandPoint* q : run) line << q->mean;
    p.setPen(QPen(color, 1.6, s.style, Qt::RoundCap, Qt::RoundJoin));
    p.setBrush(Qt::NoBrush);
    p.drawPolyline(line);
    p.setPen(QPen(color, 1.0));
    p.setBrush(Qt::white);
    for (const QPointF& q : line) p.drawEllipse(q, 1.8, 1.8);
  }
}

// --- bands ---------------------------------------------------------------------------------------

struct PanelSpec {
  QString measure;
  std::vector<std::pair<QString, Qt::PenStyle>> arrays;  // drawn in this panel
  bool over_tau = false;                                  // x = τ (gram_savings), else the layer
};

std::vector<PanelSpec> band_panels(const StudyData& d) {
  std::vector<PanelSpec> out;
  auto has = [&d](const char* name) { return d.study->find(name) != nullptr && aggregate_of(d, name) != nullptr; };
  PanelSpec r{"r/T", {}, false};
  if (has("layers/r_casc_over_T")) r.arrays.push_back({"layers/r_casc_over_T", Qt::SolidLine});
  if (has("layers/r_ind_over_T")) r.arrays.push_back({"layers/r_ind_over_T", Qt::DashLine});
  if (!r.arrays.empty()) out.push_back(r);
  for (const char* m : {"depth_jaccard", "casc_fidelity", "turnover"})
    if (has((QString("layers/") + m).toUtf8().constData())) out.push_back({m, {{QString("layers/") + m, Qt::SolidLine}}, false});
  if (has("summary/gram_savings")) out.push_back({"gram_savings", {{"summary/gram_savings", Qt::SolidLine}}, true});
  return out;
}

int band_columns(double width, double f) { return width >= f * 52 ? 3 : 2; }

QString bands_title(const Studies& studies, const StudyFigureState& state) {
  if (!state.title) return {};
  const StudyData& d = *studies.front();
  QString t = QString("Per-layer mean ± 95% CI over documents at τ = %1").arg(shown_tau(studies, state), 0, 'f', 2);
  if (const auto* g = aggregate_of(d, "summary/gram_savings"); g && studies.size() == 1) {
    const int64_t ti = tau_of(d, studies, state);
    if (ti < static_cast<int64_t>(g->cells.size())) t += " — gram_savings " + mean_ci(g->cells[static_cast<size_t>(ti)]);
  }
  return t;
}

std::vector<LegendEntry> bands_legend(const Studies& studies) {
  std::vector<LegendEntry> out = study_entries(studies);
  if (studies.front()->study->find("layers/r_ind_over_T")) {
    out.push_back({kInk, "r_{casc} / T", true, Qt::SolidLine});
    out.push_back({kInk, "r_{ind} / T", true, Qt::DashLine});
  }
  LegendEntry band{kMuted, "95% CI (bootstrap)", false};
  band.swatch = [](QPainter& p, const QRectF& sq) {
    QColor c = kMuted;
    c.setAlphaF(0.3);
    p.fillRect(sq, c);
  };
  out.push_back(band);
  return out;
}

struct BandsGeometry {
  double top = 0, legend_h = 0, panel_h = 0;
  int cols = 2, rows = 1;
};

BandsGeometry bands_geometry(const QRectF& rect, const Studies& studies, const StudyFigureState& state, double f,
                             std::optional<double> panel_h = std::nullopt) {
  BandsGeometry g;
  const size_t n = band_panels(*studies.front()).size();
  g.cols = band_columns(rect.width(), f);
  g.rows = std::max<int>(1, static_cast<int>((n + g.cols - 1) / g.cols));
  const QString title = bands_title(studies, state);
  g.top = title.isEmpty() ? 0 : title_height(rect.width(), title, f);
  g.legend_h = legend_size(bands_legend(studies), f, rect.width() - f).height() + f * 0.6;
  g.panel_h = panel_h ? *panel_h : (rect.height() - g.top - g.legend_h) / g.rows;
  return g;
}

// A panel's own page: the panel title is its measure's name (small), the axes fill the rest.
double panel_height_for_width(double panel_w, double f) {
  return plot_page_height(panel_w, f, false, "gram_savings", 0.62);
}

}  // namespace

std::vector<StudyBandPanel> study_bands_layout(const QRectF& rect, const Studies& studies, const StudyFigureState& state) {
  std::vector<StudyBandPanel> out;
  if (studies.empty()) return out;
  const double f = type_of(state);
  const TypeFloor floor(state.font_pt);
  const BandsGeometry g = bands_geometry(rect, studies, state, f);
  const auto specs = band_panels(*studies.front());
  const double panel_w = rect.width() / g.cols;
  for (size_t k = 0; k < specs.size(); ++k) {
    const PanelSpec& spec = specs[k];
    const QRectF cell(rect.left() + static_cast<double>(k % g.cols) * panel_w,
                      rect.top() + g.top + static_cast<double>(k / g.cols) * g.panel_h, panel_w, g.panel_h);
    StudyBandPanel panel;
    panel.measure = spec.measure;
    panel.rect = cell;
    double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
    for (size_t si = 0; si < studies.size(); ++si) {
      const StudyData& d = *studies[si];
      const int64_t t = tau_of(d, studies, state), taus = static_cast<int64_t>(d.study->taus.size());
      for (const auto& [array, style] : spec.arrays) {
        const auto* agg = aggregate_of(d, array);
        if (!agg) continue;
        StudyBandSeries s{si, array, style, {}};
        if (spec.over_tau) {
          for (int64_t i = 0; i < taus && i < static_cast<int64_t>(agg->cells.size()); ++i)
            s.points.push_back({d.study->taus[static_cast<size_t>(i)], agg->cells[static_cast<size_t>(i)], {}, {}, {}});
        } else {
          for (size_t l = 0; l < d.study->layers.size(); ++l) {
            const size_t flat = l * static_cast<size_t>(taus) + static_cast<size_t>(t);
            if (flat < agg->cells.size()) s.points.push_back({static_cast<double>(d.study->layers[l]), agg->cells[flat], {}, {}, {}});
          }
        }
        for (const StudyBandPoint& q : s.points) {
          x_lo = std::min(x_lo, q.x), x_hi = std::max(x_hi, q.x);
          for (double v : {q.d.mean, q.d.ci95[0], q.d.ci95[1]})
            if (finite(v)) y_lo = std::min(y_lo, v), y_hi = std::max(y_hi, v);
        }
        panel.series.push_back(std::move(s));
      }
    }
    if (!(x_hi >= x_lo)) x_lo = 0, x_hi = 1;
    if (!(y_hi >= y_lo)) y_lo = 0, y_hi = 1;
    // The fractions (r/T, Jaccard, fidelity, savings) read best from 0 when the data come near it.
    if (y_lo > 0 && y_lo < (y_hi - y_lo)) y_lo = 0;
    const double pad = y_hi > y_lo ? (y_hi - y_lo) * 0.08 : 0.05;
    const double x_pad = spec.over_tau ? (x_hi > x_lo ? (x_hi - x_lo) * 0.06 : 0.05) : 0.5;
    panel.axes = Axes{inner_area(cell, f, false, spec.measure), x_lo - x_pad, x_hi + x_pad, y_lo > 0 ? y_lo - pad : y_lo, y_hi + pad};
    for (StudyBandSeries& s : panel.series)
      for (StudyBandPoint& q : s.points) {
        const double x = panel.axes.px(q.x);
        q.mean = {x, panel.axes.py(q.d.mean)};
        q.lo = {x, panel.axes.py(q.d.ci95[0])};
        q.hi = {x, panel.axes.py(q.d.ci95[1])};
      }
    out.push_back(std::move(panel));
  }
  return out;
}

namespace {

void paint_bands(QPainter& p, const QRectF& rect, const Studies& studies, const StudyFigureState& state, double f) {
  const BandsGeometry g = bands_geometry(rect, studies, state, f);
  draw_title(p, rect, bands_title(studies, state), f);
  const auto panels = study_bands_layout(rect, studies, state);
  const auto specs = band_panels(*studies.front());
  for (size_t k = 0; k < panels.size(); ++k) {
    const StudyBandPanel& panel = panels[k];
    const bool over_tau = specs[k].over_tau;
    draw_title(p, panel.rect, panel.measure, f);
    draw_axes(p, panel.axes, over_tau ? "τ" : "layer", "", f, !over_tau);
    if (over_tau) {  // the τ the other panels show
      const double x = panel.axes.px(shown_tau(studies, state));
      p.setPen(QPen(kMuted, 0.8, Qt::DashLine));
      p.drawLine(QPointF(x, panel.axes.area.top()), QPointF(x, panel.axes.area.bottom()));
    }
    p.save();
    p.setClipRect(panel.axes.area.adjusted(-3, -3, 3, 3));
    for (const StudyBandSeries& s : panel.series) draw_band(p, s, study_color(s.study));
    p.restore();
  }
  draw_legend(p, QPointF(rect.left() + f * 0.5, rect.top() + g.top + g.rows * g.panel_h + f * 0.3), bands_legend(studies), f,
              rect.width() - f);
}

// --- histogram -----------------------------------------------------------------------------------

struct Histogram {
  double lo = 0, hi = 1;
  int bins = 10;
  std::vector<std::vector<int64_t>> counts;  // per study
  std::vector<stats::Describe> described;    // per study: the aggregate at the τ
};

Histogram histogram_of(const Studies& studies, const StudyFigureState& state) {
  Histogram h;
  std::vector<std::vector<double>> values;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  size_t most = 1;
  for (const StudyData* d : studies) {
    const int64_t t = tau_of(*d, studies, state);
    std::vector<double> v = d->study->column("summary/gram_savings", t);
    std::erase_if(v, [](double x) { return !finite(x); });
    for (double x : v) lo = std::min(lo, x), hi = std::max(hi, x);
    most = std::max(most, v.size());
    values.push_back(std::move(v));
    const auto* agg = aggregate_of(*d, "summary/gram_savings");
    h.described.push_back(agg && t < static_cast<int64_t>(agg->cells.size()) ? agg->cells[static_cast<size_t>(t)] : stats::Describe{});
  }
  if (!(hi >= lo)) lo = 0, hi = 1;
  if (hi - lo < 1e-9) lo -= 0.05, hi += 0.05;  // every document the same: one bar in the middle
  // √n bins (between 5 and 30): enough to show the shape, few enough that each bar holds documents.
  h.bins = std::clamp(static_cast<int>(std::ceil(std::sqrt(static_cast<double>(most)))), 5, 30);
  h.lo = lo, h.hi = hi;
  for (const auto& v : values) {
    std::vector<int64_t> c(static_cast<size_t>(h.bins), 0);
    for (double x : v) ++c[static_cast<size_t>(std::clamp(static_cast<int>((x - lo) / (hi - lo) * h.bins), 0, h.bins - 1))];
    h.counts.push_back(std::move(c));
  }
  return h;
}

QString histogram_title(const Studies& studies, const StudyFigureState& state) {
  if (!state.title) return {};
  return QString("gram_savings per document at τ = %1: the mean and its 95% CI").arg(shown_tau(studies, state), 0, 'f', 2);
}

std::vector<LegendEntry> histogram_legend(const Studies& studies, const Histogram& h) {
  std::vector<LegendEntry> out;
  for (size_t i = 0; i < studies.size(); ++i)
    out.push_back({study_color(i), QString("%1: mean %2, n = %3").arg(studies[i]->name, mean_ci(h.described[i])).arg(h.described[i].n), false});
  return out;
}

double histogram_legend_h(const Studies& studies, const Histogram& h, double width, double f) {
  return legend_size(histogram_legend(studies, h), f, width - f).height() + f * 0.4;
}

void paint_histogram(QPainter& p, const QRectF& rect, const Studies& studies, const StudyFigureState& state, double f) {
  const Histogram h = histogram_of(studies, state);
  const double below = histogram_legend_h(studies, h, rect.width(), f);
  const QString title = histogram_title(studies, state);
  int64_t top = 1;
  for (const auto& c : h.counts) top = std::max(top, *std::max_element(c.begin(), c.end()));
  const double pad = (h.hi - h.lo) * 0.04;
  const Axes a{inner_area(rect, f, false, title, below), h.lo - pad, h.hi + pad, 0, static_cast<double>(top) * 1.1};
  draw_title(p, rect, title, f);
  draw_axes(p, a, "gram_savings", "documents", f, false, true, true);
  for (size_t si = 0; si < studies.size(); ++si) {  // the CIs under the bars, so the bars stay readable
    const stats::Describe& d = h.described[si];
    if (!finite(d.ci95[0]) || !finite(d.ci95[1])) continue;
    QColor band = study_color(si);
    band.setAlphaF(0.18);
    p.fillRect(QRectF(QPointF(a.px(d.ci95[0]), a.area.top()), QPointF(a.px(d.ci95[1]), a.area.bottom())), band);
  }
  const double bw = (h.hi - h.lo) / h.bins;
  for (size_t si = 0; si < studies.size(); ++si) {
    const QColor c = study_color(si);
    QColor fill = c;
    fill.setAlphaF(studies.size() > 1 ? 0.35 : 0.55);  // two studies overlap: both show through
    p.setPen(QPen(c, 1.0));
    p.setBrush(fill);
    for (int b = 0; b < h.bins; ++b) {
      const int64_t n = h.counts[si][static_cast<size_t>(b)];
      if (n == 0) continue;
      p.drawRect(QRectF(QPointF(a.px(h.lo + b * bw), a.py(static_cast<double>(n))), QPointF(a.px(h.lo + (b + 1) * bw), a.py(0))));
    }
  }
  for (size_t si = 0; si < studies.size(); ++si) {  // the means over them
    const stats::Describe& d = h.described[si];
    if (!finite(d.mean)) continue;
    p.setPen(QPen(study_color(si).darker(130), 1.8));
    p.drawLine(QPointF(a.px(d.mean), a.area.top()), QPointF(a.px(d.mean), a.area.bottom()));
  }
  draw_legend(p, QPointF(rect.left() + f * 0.5, rect.bottom() - below), histogram_legend(studies, h), f, rect.width() - f);
}

// --- trade-off -----------------------------------------------------------------------------------

QString tradeoff_y_label(const Studies& studies) {
  return studies.front()->quality == "delta_ppl" ? "ΔPPL (method − exact)" : "mean attn_err";
}

QString tradeoff_title(const Studies& studies, const StudyFigureState& state) {
  if (!state.title) return {};
  const Study& s = *studies.front()->study;
  return QString("Methods at an equal budget over documents (τ = %1): mean and 95% CI")
      .arg(s.taus.empty() ? kNaN : s.taus.front(), 0, 'f', 2);
}

void draw_marker(QPainter& p, QPointF at, bool cascade, const QColor& c) {
  if (cascade) {  // the cascade emphasised: a larger filled diamond, ringed in ink
    const double r = 5.0;
    p.setPen(QPen(kInk, 1.0));
    p.setBrush(c);
    p.drawPolygon(QPolygonF({at + QPointF(0, -r), at + QPointF(r, 0), at + QPointF(0, r), at + QPointF(-r, 0)}));
  } else {
    p.setPen(QPen(c, 1.4));
    p.setBrush(Qt::white);
    p.drawEllipse(at, 3.0, 3.0);
  }
}

std::vector<LegendEntry> tradeoff_legend(const Studies& studies) {
  std::vector<LegendEntry> out = study_entries(studies);
  LegendEntry casc{kInk, "cascade", false};
  casc.swatch = [](QPainter& p, const QRectF& sq) { draw_marker(p, sq.center(), true, kMuted); };
  LegendEntry other{kInk, "other methods (named beside)", false};
  other.swatch = [](QPainter& p, const QRectF& sq) { draw_marker(p, sq.center(), false, kMuted); };
  out.push_back(casc);
  out.push_back(other);
  return out;
}

double tradeoff_legend_h(const Studies& studies, double width, double f) {
  return legend_size(tradeoff_legend(studies), f, width - f).height() + f * 0.4;
}

void paint_tradeoff(QPainter& p, const QRectF& rect, const Studies& studies, const StudyFigureState& state, double f) {
  const double below = tradeoff_legend_h(studies, rect.width(), f);
  const QString title = tradeoff_title(studies, state);
  // At an equal budget the methods keep (nearly) the same r/T: x spans the data, not 0..1, so
  // that what differs can be seen.
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = 0, y_hi = 0;
  for (const StudyData* d : studies)
    for (const StudyMethodPoint& m : d->methods) {
      for (double v : {m.x.mean, m.x.ci95[0], m.x.ci95[1]})
        if (finite(v)) x_lo = std::min(x_lo, v), x_hi = std::max(x_hi, v);
      for (double v : {m.y.mean, m.y.ci95[0], m.y.ci95[1]})
        if (finite(v)) y_lo = std::min(y_lo, v), y_hi = std::max(y_hi, v);
    }
  if (!(x_hi >= x_lo)) x_lo = 0, x_hi = 1;
  const double x_pad = std::max((x_hi - x_lo) * 0.25, 0.03);
  if (y_hi <= y_lo) y_hi = y_lo + 1;
  const double pad = (y_hi - y_lo) * 0.08;
  const Axes a{inner_area(rect, f, false, title, below), std::max(0.0, x_lo - x_pad), std::min(1.0, x_hi + x_pad),
               y_lo < 0 ? y_lo - pad : 0, y_hi + pad};
  draw_title(p, rect, title, f);
  draw_axes(p, a, "r / T (mean over layers)", tradeoff_y_label(studies), f);
  if (a.y0 < 0) {  // ΔPPL can be negative: the zero line
    p.setPen(QPen(kMuted, 0.6));
    p.drawLine(QPointF(a.area.left(), a.py(0)), QPointF(a.area.right(), a.py(0)));
  }
  struct Drawn {
    size_t study;
    const StudyMethodPoint* m;
    QPointF at;
    double right;  // the x error bar's right end
  };
  std::vector<Drawn> drawn;
  for (size_t si = 0; si < studies.size(); ++si) {
    std::vector<const StudyMethodPoint*> order;
    for (const StudyMethodPoint& m : studies[si]->methods) order.push_back(&m);
    std::stable_partition(order.begin(), order.end(), [](const StudyMethodPoint* m) { return m->method != "cascade"; });
    for (const StudyMethodPoint* m : order)  // cascade last: on top
      if (finite(m->x.mean) && finite(m->y.mean)) {
        const QPointF at(a.px(m->x.mean), a.py(m->y.mean));
        drawn.push_back({si, m, at, finite(m->x.ci95[1]) ? a.px(m->x.ci95[1]) : at.x()});
      }
  }
  p.save();
  p.setClipRect(a.area.adjusted(-f * 4, -f, f * 2, 0));
  for (const Drawn& d : drawn) {
    const QColor c = study_color(d.study);
    const StudyMethodPoint* m = d.m;
    const QPointF at = d.at;
    const double cap = 2.5;
    p.setPen(QPen(c, 1.0));
    if (finite(m->y.ci95[0]) && finite(m->y.ci95[1])) {
      const double y0 = a.py(m->y.ci95[0]), y1 = a.py(m->y.ci95[1]);
      p.drawLine(QPointF(at.x(), y0), QPointF(at.x(), y1));
      p.drawLine(QPointF(at.x() - cap, y0), QPointF(at.x() + cap, y0));
      p.drawLine(QPointF(at.x() - cap, y1), QPointF(at.x() + cap, y1));
    }
    if (finite(m->x.ci95[0]) && finite(m->x.ci95[1])) {  // lighter: at an equal budget they coincide
      QColor light = c;
      light.setAlphaF(0.45);
      p.setPen(QPen(light, 1.0));
      const double x0 = a.px(m->x.ci95[0]), x1 = a.px(m->x.ci95[1]);
      p.drawLine(QPointF(x0, at.y()), QPointF(x1, at.y()));
      p.drawLine(QPointF(x0, at.y() - cap), QPointF(x0, at.y() + cap));
      p.drawLine(QPointF(x1, at.y() - cap), QPointF(x1, at.y() + cap));
    }
    draw_marker(p, at, m->method == "cascade", c);
  }
  p.restore();
  // The names: beside each point, or — where the points crowd one r/T — in a column beside them,
  // spaced a line apart, each joined to its point.
  const QFont label_font = figure_font(f * 0.85), bold_font = figure_font(f * 0.85, true);
  const double line = figure_metrics(label_font).height();
  double left = a.area.right(), right = a.area.left(), widest = 0;
  for (const Drawn& d : drawn) {
    left = std::min(left, d.at.x()), right = std::max(right, d.right);
    widest = std::max(widest, figure_metrics(bold_font).horizontalAdvance(d.m->method));
  }
  std::vector<QPointF> label_at(drawn.size());
  std::vector<QRectF> boxes(drawn.size());
  for (size_t k = 0; k < drawn.size(); ++k) {
    const QFontMetricsF fm = figure_metrics(drawn[k].m->method == "cascade" ? bold_font : label_font);
    const double w = fm.horizontalAdvance(drawn[k].m->method);
    // Above right of the point; left of it or below it where the frame would cut the name.
    QPointF at = drawn[k].at + QPointF(6, -5);
    if (at.x() + w > a.area.right()) at.setX(drawn[k].at.x() - 6 - w);
    if (at.y() - fm.ascent() < a.area.top()) at.setY(drawn[k].at.y() + 5 + fm.ascent());
    label_at[k] = at;
    boxes[k] = QRectF(at.x(), at.y() - fm.ascent(), w, fm.height());
  }
  bool crowded = false;  // two names overlap, or a name covers another point
  for (size_t u = 0; u < drawn.size() && !crowded; ++u)
    for (size_t v = 0; v < drawn.size() && !crowded; ++v)
      crowded = u != v && (boxes[u].intersects(boxes[v]) || boxes[u].adjusted(-3, -3, 3, 3).contains(drawn[v].at));
  const bool column = crowded;
  if (column) {
    std::vector<size_t> by_y(drawn.size());
    for (size_t k = 0; k < by_y.size(); ++k) by_y[k] = k;
    std::sort(by_y.begin(), by_y.end(), [&](size_t u, size_t v) { return drawn[u].at.y() < drawn[v].at.y(); });
    std::vector<double> ys;
    for (size_t k : by_y) ys.push_back(std::max(drawn[k].at.y(), ys.empty() ? a.area.top() + line * 0.8 : ys.back() + line));
    for (size_t k = ys.size(); k-- > 0;)  // pushed past the bottom: back up
      ys[k] = std::min(ys[k], k + 1 < ys.size() ? ys[k + 1] - line : a.area.bottom() - line * 0.3);
    const bool on_right = right + f * 2 + widest < a.area.right();
    const double x = on_right ? right + f * 2 : left - f * 2 - widest;
    for (size_t k = 0; k < by_y.size(); ++k) label_at[by_y[k]] = QPointF(x, ys[k] + line * 0.3);
  }
  for (size_t k = 0; k < drawn.size(); ++k) {
    const bool cascade = drawn[k].m->method == "cascade";
    const QColor c = study_color(drawn[k].study);
    if (column) {
      const bool on_right = label_at[k].x() > drawn[k].at.x();
      QColor leader = c;
      leader.setAlphaF(0.45);
      p.setPen(QPen(leader, 0.6));
      p.drawLine(QPointF(on_right ? drawn[k].right + 2 : drawn[k].at.x() - 4, drawn[k].at.y()),
                 QPointF(on_right ? label_at[k].x() - 2 : label_at[k].x() + widest + 2, label_at[k].y() - line * 0.3));
    }
    p.setFont(cascade ? bold_font : label_font);
    p.setPen(cascade ? kInk : c.darker(120));
    p.drawText(label_at[k], drawn[k].m->method);
  }
  draw_legend(p, QPointF(rect.left() + f * 0.5, rect.bottom() - below), tradeoff_legend(studies), f, rect.width() - f);
}

}  // namespace

// --- the public side -----------------------------------------------------------------------------

StudyData make_study_data(std::shared_ptr<const Study> s, const QString& name, std::optional<study::Aggregates> stored) {
  StudyData d;
  d.name = name;
  d.study = std::move(s);
  d.aggregates = stored ? std::move(*stored) : study::aggregate(*d.study);
  const Study& st = *d.study;
  const int64_t resamples = st.resamples > 0 ? st.resamples : stats::kBootstrapResamples;
  const study::Array* r = st.find("methods/r");
  const study::Array* ppl = st.find("methods/delta_ppl");
  const study::Array* err = st.find("methods/attn_err");
  const auto M = static_cast<int64_t>(st.methods.size());
  bool any_ppl = false;
  if (ppl)
    for (double v : ppl->values) any_ppl = any_ppl || finite(v);
  d.quality = any_ppl ? "delta_ppl" : err ? "attn_err" : "";
  if (!r || d.quality.isEmpty()) return d;
  for (int64_t m = 0; m < M; ++m) {
    // x: the document's mean r over layers / T; y: its ΔPPL, else its mean attn_err over layers.
    const std::vector<double> xs = study::method_r_over_T(st, m);
    const std::vector<double> ys = any_ppl ? st.column("methods/delta_ppl", m) : study::method_over_layers(st, "methods/attn_err", m);
    // The same seed for x and y and every method: any rerun draws the same CIs.
    d.methods.push_back({QString::fromStdString(st.methods[static_cast<size_t>(m)]), stats::describe(xs, st.seed, resamples),
                         stats::describe(ys, st.seed, resamples)});
  }
  return d;
}

QString study_model(const Study& s) { return QString::fromStdString(study::model_spec(s)); }

QString study_name(const Study& s, const QString& path) {
  const QString model = QString::fromStdString(study::model_label(s));  // as the run figures name a model
  const QString file = path.isEmpty() ? QString() : QFileInfo(path).fileName();
  if (model.isEmpty()) return file.isEmpty() ? QString("study") : file;
  return file.isEmpty() ? model : QString("%1 (%2)").arg(model, file);
}

const std::vector<StudyFigureKind>& study_figure_kinds() {
  static const std::vector<StudyFigureKind> kinds = {StudyFigureKind::Bands, StudyFigureKind::Histogram,
                                                     StudyFigureKind::Tradeoff};
  return kinds;
}

QString study_figure_id(StudyFigureKind kind) {
  switch (kind) {
    case StudyFigureKind::Bands: return "study-bands";
    case StudyFigureKind::Histogram: return "study-histogram";
    case StudyFigureKind::Tradeoff: return "study-tradeoff";
  }
  return {};
}

QString study_figure_title(StudyFigureKind kind) {
  switch (kind) {
    case StudyFigureKind::Bands: return "Per-layer bands";
    case StudyFigureKind::Histogram: return "gram_savings histogram";
    case StudyFigureKind::Tradeoff: return "Methods trade-off";
  }
  return {};
}

std::optional<StudyFigureKind> parse_study_figure(const QString& id) {
  for (StudyFigureKind k : study_figure_kinds())
    if (study_figure_id(k) == id) return k;
  return std::nullopt;
}

QColor study_color(size_t index) { return index == 0 ? okabe_ito::blue : index == 1 ? okabe_ito::vermillion : okabe_ito::bluish_green; }

QString study_unavailable(StudyFigureKind kind, const Studies& studies) {
  if (studies.empty() || !studies.front() || !studies.front()->study) return "no study open";
  const StudyData& d = *studies.front();
  if (d.study->documents.empty()) return "the study has no documents";
  switch (kind) {
    case StudyFigureKind::Bands:
      if (band_panels(d).empty()) return "the study has no per-layer measures";
      break;
    case StudyFigureKind::Histogram:
      if (!d.study->find("summary/gram_savings")) return "the study has no summary/gram_savings";
      break;
    case StudyFigureKind::Tradeoff:
      if (d.methods.empty()) return "no methods were compared in this study (methods/r with attn_err or delta_ppl)";
      break;
  }
  return {};
}

double study_height_for_width(StudyFigureKind kind, const Studies& studies, const StudyFigureState& state, double width) {
  if (!study_unavailable(kind, studies).isEmpty()) return 300;
  const double f = type_of(state);
  const TypeFloor floor(state.font_pt);
  const QRectF rect(0, 0, width, 1000);
  switch (kind) {
    case StudyFigureKind::Bands: {
      const int cols = band_columns(width, f);
      const BandsGeometry g = bands_geometry(rect, studies, state, f, panel_height_for_width(width / cols, f));
      return g.top + g.rows * g.panel_h + g.legend_h;
    }
    case StudyFigureKind::Histogram:
      return plot_page_height(width, f, false, histogram_title(studies, state), 0.5,
                              histogram_legend_h(studies, histogram_of(studies, state), width, f));
    case StudyFigureKind::Tradeoff:
      return plot_page_height(width, f, false, tradeoff_title(studies, state), 0.6, tradeoff_legend_h(studies, width, f));
  }
  return 300;
}

void paint_study_figure(QPainter& p, const QRectF& rect, StudyFigureKind kind, const Studies& studies,
                        const StudyFigureState& state) {
  const double f = type_of(state);
  if (const QString why = study_unavailable(kind, studies); !why.isEmpty()) {
    p.setPen(kMuted);
    p.setFont(figure_font(f));
    p.drawText(rect, Qt::AlignCenter | Qt::TextWordWrap, why);
    return;
  }
  switch (kind) {
    case StudyFigureKind::Bands: paint_bands(p, rect, studies, state, f); break;
    case StudyFigureKind::Histogram: paint_histogram(p, rect, studies, state, f); break;
    case StudyFigureKind::Tradeoff: paint_tradeoff(p, rect, studies, state, f); break;
  }
}

QStringList study_legend_labels(StudyFigureKind kind, const Studies& studies, const StudyFigureState& state) {
  QStringList out;
  if (!study_unavailable(kind, studies).isEmpty()) return out;
  std::vector<LegendEntry> entries;
  switch (kind) {
    case StudyFigureKind::Bands: entries = bands_legend(studies); break;
    case StudyFigureKind::Histogram: entries = histogram_legend(studies, histogram_of(studies, state)); break;
    case StudyFigureKind::Tradeoff: entries = tradeoff_legend(studies); break;
  }
  for (const LegendEntry& e : entries) out << e.label;
  return out;
}

QImage render_study_figure(StudyFigureKind kind, const Studies& studies, const StudyFigureState& state, QSizeF size,
                           double scale) {
  return render_page([&](QPainter& p, const QRectF& r) { paint_study_figure(p, r, kind, studies, state); }, size, scale,
                     state.font_pt);
}

void export_study_figure(StudyFigureKind kind, const Studies& studies, const StudyFigureState& state, const QString& path,
                         const ExportOptions& options) {
  if (const QString why = study_unavailable(kind, studies); !why.isEmpty())
    throw UsageError("the " + study_figure_title(kind).toStdString() + " figure has nothing to draw: " + why.toStdString());
  const double w = options.size.width() > 0 ? options.size.width() : 640;
  const double h = options.size.height() > 0 ? options.size.height() : study_height_for_width(kind, studies, state, w);
  export_page([&](QPainter& p, const QRectF& r) { paint_study_figure(p, r, kind, studies, state); }, {w, h}, state.font_pt,
              study_figure_title(kind), path, options);
}

}  // namespace cascade::widgets
