#include "widgets/figures/cascade_step.h"

#include <QFontMetricsF>

#include <algorithm>
#include <cmath>

#include "core/sets.h"
#include "widgets/figures/token_flow.h"
#include "widgets/palette.h"
#include "widgets/plot.h"

namespace cascade::widgets {

namespace {

bool in(const TokenSet& s, int64_t t) { return std::binary_search(s.begin(), s.end(), t); }

struct Look {
  QColor fill, outline;
  bool strike = false;
};

Look chip_look(const CascadeTrace& tr, int step, int64_t t, double best, double theta) {
  const QColor grey(232, 232, 232), blue = okabe_ito::blue, green = okabe_ito::bluish_green, red = okabe_ito::vermillion;
  const bool inherited = in(tr.inherited, t), removed = in(tr.removed, t), added = in(tr.added, t);
  switch (step) {
    case 0: return {inherited ? blue : grey, Qt::transparent};
    case 1: return {inherited ? blue : grey, removed ? red : QColor(Qt::transparent)};
    case 2:
      if (inherited) return {removed ? mix(red, Qt::white, 0.55) : blue, Qt::transparent};
      return {grey, best < theta ? green : QColor(Qt::transparent)};
    case 3:
      if (removed) return {red, Qt::transparent};
      return {inherited ? blue : grey, Qt::transparent};
    default:
      if (added) return {green, Qt::transparent};
      if (removed) return {grey, red, true};
      return {inherited ? blue : grey, Qt::transparent};
  }
}

constexpr int kMaxChipChars = 18;

struct Layout {
  QRectF narration, chips, bars;
  std::vector<QRectF> cells;
  double f = 12;
};

Layout layout_of(const QRectF& rect, const RunSnapshot& run, const FigureState& state) {
  Layout lay;
  lay.f = 11 * state.scale;
  const double f = lay.f;
  lay.narration = QRectF(rect.left() + f, rect.top() + f * 0.6, rect.width() - 2 * f, f * 5.2);
  const double bars_h = std::max(f * 8, rect.height() * 0.34);
  lay.bars = QRectF(rect.left() + f * 4.5, rect.bottom() - bars_h, rect.width() - f * 6, bars_h - f * 2.6);
  lay.chips = QRectF(rect.left() + f, lay.narration.bottom() + f * 0.4, rect.width() - 2 * f,
                     lay.bars.top() - lay.narration.bottom() - f * 2.2);
  // Chips at the largest of a few type sizes that fits; cells (with a gap) beyond that.
  for (double cf : {f * 0.95, f * 0.8, f * 0.65, f * 0.5})
    if (flow_chips(run, lay.chips, cf, kMaxChipChars, lay.cells)) return lay;
  grid_cells(lay.chips, run.T(), lay.cells);
  for (QRectF& c : lay.cells) c.setSize(c.size() * 0.9);
  return lay;
}

// The tokens whose |cos| bar a stage shows: inherited ones while validating, the others after.
std::vector<int64_t> bar_tokens(const CascadeExplanation& ex, int step, int64_t T) {
  if (step == 1 || step == 3) return ex.trace.inherited;
  std::vector<int64_t> out;
  for (int64_t t = 0; t < T; ++t)
    if (!in(ex.trace.inherited, t)) out.push_back(t);
  return out;
}

}  // namespace

bool CascadeStepFigure::available(const RunSnapshot& run, const FigureState& state) const {
  return run.has_activations() && state.explanation && state.layer >= 1 && state.layer < run.L() &&
         static_cast<int64_t>(state.explanation->best_cos.size()) == run.T();
}

QString CascadeStepFigure::unavailable_reason(const RunSnapshot& run, const FigureState& state) const {
  if (!run.has_activations()) return "the session was saved without activations";
  if (state.layer < 1) return "layer 0 has no cascade step into it";
  if (run.T() > state.gram_limit) return QString("T above %1").arg(state.gram_limit);
  return "the cascade step is computed on request";
}

QString CascadeStepFigure::step_name(int step) {
  static const char* names[] = {"1 · inherit", "2 · validate (r × r)", "3 · cross-Gram", "4 · remove", "5 · add"};
  return names[std::clamp(step, 0, kSteps - 1)];
}

QString CascadeStepFigure::narration(const RunSnapshot& run, const FigureState& state) {
  if (!state.explanation) return {};
  const CascadeTrace& tr = state.explanation->trace;
  const int64_t T = run.T(), r = static_cast<int64_t>(tr.inherited.size()), rv = static_cast<int64_t>(tr.valid.size());
  const int64_t l = state.layer;
  const double theta = state.explanation->theta;
  switch (std::clamp(state.teach_step, 0, kSteps - 1)) {
    case 0:
      return QString("Layer %1 starts from the %2 representatives of layer %3 (blue) instead of comparing all %4 tokens with each other.")
          .arg(l).arg(r).arg(l - 1).arg(T);
    case 1:
      return QString("Validate: compare the %1 inherited tokens with each other (%2 Gram entries); one whose |cos| with an earlier one reaches θ = %3 is no longer distinct (red outline).")
          .arg(r).arg(r * r).arg(theta, 0, 'f', 3);
    case 2:
      return QString("Cross-Gram: compare each of the %1 other tokens with the %2 valid representatives (%3 entries); a token whose best |cos| stays below θ carries new information (green outline).")
          .arg(T - r).arg(rv).arg((T - r) * rv);
    case 3:
      return QString("Remove: %1 inherited token%2 failed validation and leave%3 the set.")
          .arg(tr.removed.size()).arg(tr.removed.size() == 1 ? "" : "s").arg(tr.removed.size() == 1 ? "s" : "");
    default:
      return QString("Add: %1 new token%2 join; layer %3 keeps %4 representatives for %5 Gram entries instead of %6 (%7 % saved).")
          .arg(tr.added.size()).arg(tr.added.size() == 1 ? "" : "s").arg(l).arg(tr.result.size()).arg(tr.gram_entries)
          .arg(T * T).arg(100.0 * (1.0 - static_cast<double>(tr.gram_entries) / static_cast<double>(T * T)), 0, 'f', 1);
  }
}

void CascadeStepFigure::paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const {
  const Layout lay = layout_of(rect, run, state);
  const double f = lay.f;
  if (!available(run, state)) {
    p.setFont(figure_font(f));
    p.setPen(kMuted);
    p.drawText(rect, Qt::AlignCenter | Qt::TextWordWrap,
               run.has_activations() ? "Pick a layer ≥ 1 to step through the cascade into it."
                                     : "The cascade step's cosines need the activations (this session was saved without them).");
    return;
  }
  const CascadeExplanation& ex = *state.explanation;
  const int step = std::clamp(state.teach_step, 0, kSteps - 1);
  p.setFont(figure_font(f * 1.15, true));
  p.setPen(kInk);
  p.drawText(QRectF(lay.narration.left(), lay.narration.top(), lay.narration.width(), f * 1.8), Qt::AlignLeft | Qt::AlignVCenter,
             QString("Layer %1 → %2   ·   step %3").arg(state.layer - 1).arg(state.layer).arg(step_name(step)));
  p.setFont(figure_font(f));
  p.drawText(lay.narration.adjusted(0, f * 2.0, 0, 0), Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap, narration(run, state));

  const int64_t T = run.T();
  const bool text = lay.cells.empty() || lay.cells[0].height() > f * 0.9;
  QFont chip_font = figure_font(std::max(4.0, (lay.cells.empty() ? f : lay.cells[0].height()) / 1.75));
  p.setFont(chip_font);
  for (int64_t t = 0; t < T; ++t) {
    const Look look = chip_look(ex.trace, step, t, ex.best_cos[t], ex.theta);
    const QRectF& c = lay.cells[t];
    p.setPen(look.outline.alpha() ? QPen(look.outline, 2.2) : QPen(Qt::NoPen));
    p.setBrush(look.fill);
    p.drawRoundedRect(c, 3, 3);
    if (text) {
      p.setPen(qGray(look.fill.rgb()) < 140 ? QColor(Qt::white) : kInk);
      p.drawText(c, Qt::AlignCenter, token_label(run.token(t), kMaxChipChars));
    }
    if (look.strike) {
      p.setPen(QPen(okabe_ito::vermillion, 1.4));
      p.drawLine(QPointF(c.left() + 2, c.center().y()), QPointF(c.right() - 2, c.center().y()));
    }
  }

  // The numbers that decide the stage: each relevant token's best |cos| against θ (none yet at "inherit").
  if (step == 0) {
    if (!state.hints) return;
    p.setFont(figure_font(f * 0.9));
    p.setPen(kMuted);
    p.drawText(lay.bars, Qt::AlignCenter | Qt::TextWordWrap, "→ next: validate the inherited set");
    return;
  }
  const std::vector<int64_t> tokens = bar_tokens(ex, step, T);
  Axes a{lay.bars, -0.5, static_cast<double>(std::max<size_t>(tokens.size(), 1)) - 0.5, 0, 1.0};
  draw_axes(p, a, step == 1 || step == 3 ? "inherited representatives (in order)" : "other tokens (in order)",
            "best |cos|", f * 0.8, true);
  const double bw = std::max(0.5, lay.bars.width() / static_cast<double>(std::max<size_t>(tokens.size(), 1)) * 0.8);
  p.setPen(Qt::NoPen);
  for (size_t i = 0; i < tokens.size(); ++i) {
    const double v = std::isfinite(ex.best_cos[tokens[i]]) ? ex.best_cos[tokens[i]] : 0.0;
    const bool passes = v < ex.theta;  // distinct: stays (validate) or is added (cross-Gram)
    QColor c = passes ? (step == 1 || step == 3 ? okabe_ito::blue : okabe_ito::bluish_green) : okabe_ito::vermillion;
    if (!(step == 1 || step == 3) && !passes) c = QColor(190, 190, 190);
    p.setBrush(c);
    const double x = a.px(static_cast<double>(i));
    p.drawRect(QRectF(QPointF(x - bw / 2, a.py(v)), QPointF(x + bw / 2, a.py(0))));
  }
  p.setPen(QPen(kInk, 1.4, Qt::DashLine));
  p.drawLine(QPointF(a.area.left(), a.py(ex.theta)), QPointF(a.area.right(), a.py(ex.theta)));
  p.setFont(figure_font(f * 0.8, true));
  const QString label = QString("θ = %1").arg(ex.theta, 0, 'f', 3);
  const QRectF box(a.area.left() + f * 0.4, a.py(ex.theta) + f * 0.3, QFontMetricsF(p.font()).horizontalAdvance(label) + f * 0.6, f * 1.4);
  p.fillRect(box, QColor(255, 255, 255, 220));
  p.drawText(box, Qt::AlignCenter, label);
}

Hit CascadeStepFigure::hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const {
  Hit h;
  if (!available(run, state)) return h;
  const Layout lay = layout_of(rect, run, state);
  for (int64_t t = 0; t < run.T(); ++t)
    if (lay.cells[t].contains(pos)) {
      const auto& ex = *state.explanation;
      h.token = t;
      h.layer = state.layer;
      h.tooltip = QString("%1 [%2]: best |cos| %3 with %4").arg(QString::fromStdString(run.token(t))).arg(t)
                      .arg(std::isfinite(ex.best_cos[t]) ? QString::number(ex.best_cos[t], 'f', 3) : QString("—"))
                      .arg(ex.best_partner[t] >= 0 ? QString("[%1]").arg(ex.best_partner[t]) : QString("none"));
      break;
    }
  return h;
}

}  // namespace cascade::widgets
