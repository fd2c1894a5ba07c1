#include "widgets/figures/cascade_step.h"

#include <QFontMetricsF>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/sets.h"
#include "widgets/figures/teaching_draw.h"
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
  QRectF title, narration, chips, caption, bars;
  std::vector<QRectF> cells;
  double f = 12;
};

QString step_title(const FigureState& state, int step) {
  // Wrapped only between its parts ("layer 0 → 1" stays whole).
  QStringList parts = {"The cascade", QString("layer %1 → %2").arg(state.layer - 1).arg(state.layer),
                       QString("step %1").arg(CascadeStepFigure::step_name(step))};
  for (QString& part : parts) part.replace(' ', QChar(0xA0));
  return parts.join(" · ");
}

// The chips' flow, the caption and the bars below the narration.
double bars_height(double inner_h, double width, double f) { return std::max({f * 6, inner_h * 0.36, std::min(width * 0.45, f * 12)}); }

Layout layout_of(const QRectF& rect, const RunSnapshot& run, const FigureState& state) {
  Layout lay;
  lay.f = type_pt(state, 11);
  const double f = lay.f;
  const QRectF inner = rect.adjusted(f, f * 0.5, -f, -f * 0.4);
  const double head = teach::wrapped_height(step_title(state, state.teach_step), figure_font(f * 1.05, true), inner.width());
  lay.title = QRectF(inner.left(), inner.top(), inner.width(), head);
  const QString text = CascadeStepFigure::narration(run, state);
  const double text_h = std::min(teach::wrapped_height(text, figure_font(f), inner.width()),
                                 TypeFloor::current() > 0 ? inner.height() : inner.height() * 0.4);
  lay.narration = QRectF(inner.left(), lay.title.bottom() + head * 0.1, inner.width(), text_h);
  // "Inherit" compares nothing: no bars there, unless its hint fills the room on screen.
  const bool bars = state.teach_step > 0 || state.hints;
  const double bars_h = bars ? std::min(bars_height(inner.height(), inner.width(), f), inner.height() * 0.5) : 0.0;
  lay.bars = QRectF(inner.left(), inner.bottom() - bars_h, inner.width(), bars_h);
  const double cap_h = teach::metrics(figure_font(f * 0.7)).lineSpacing();
  lay.caption = QRectF(inner.left(), lay.bars.top() - cap_h - f * 0.2, inner.width(), cap_h);
  lay.chips = QRectF(inner.left(), lay.narration.bottom() + f * 0.5, inner.width(),
                     lay.caption.top() - lay.narration.bottom() - f * 1.0);
  // Chips at the largest of a few type sizes that fits; cells (with a gap) beyond that.
  for (double cf : {f * 0.8, f * 0.7, f * 0.6, f * 0.5, f * 0.42, f * 0.35})
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

double CascadeStepFigure::height_for_width(const RunSnapshot& run, const FigureState& state, double width) const {
  // The title and narration wrapped at this width, the chips flowing at their largest type, the
  // caption and the bars.
  const double f = type_pt(state, 11);
  const TypeFloor floor(state.font_pt);
  const double w = width - 2 * f;
  const double head = teach::wrapped_height(step_title(state, state.teach_step), figure_font(f * 1.05, true), w);
  const double text_h = teach::wrapped_height(narration(run, state), figure_font(f), w);
  std::vector<QRectF> cells;
  flow_chips(run, QRectF(0, 0, w, 1e6), f * 0.8, kMaxChipChars, cells);
  const double chips_h = cells.empty() ? f * 2 : cells.back().bottom();
  const double cap_h = teach::metrics(figure_font(f * 0.7)).lineSpacing();
  const double fixed = f * 0.5 + head * 1.1 + text_h + f * 0.5 + chips_h + f * 1.0 + cap_h + f * 0.2 + f * 0.4;
  const bool bars = state.teach_step > 0 || state.hints;
  return std::clamp(fixed + (bars ? std::max(f * 6, std::min(w * 0.45, f * 12)) : 0.0), 120.0, 2000.0);
}

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

bool CascadeStepFigure::stage_compares(const CascadeExplanation& ex, int64_t T, int step) {
  const int64_t r = static_cast<int64_t>(ex.trace.inherited.size()), rv = static_cast<int64_t>(ex.trace.valid.size());
  switch (std::clamp(step, 0, kSteps - 1)) {
    case 0: return true;
    case 1: case 3: return r >= 2;
    default: return T - r > 0 && rv > 0;
  }
}

QString CascadeStepFigure::narration(const RunSnapshot& run, const FigureState& state) {
  if (!state.explanation) return {};
  const CascadeTrace& tr = state.explanation->trace;
  const int64_t T = run.T(), r = static_cast<int64_t>(tr.inherited.size()), rv = static_cast<int64_t>(tr.valid.size());
  const int64_t l = state.layer;
  const double theta = state.explanation->theta;
  const int step = std::clamp(state.teach_step, 0, kSteps - 1);
  const bool empty = !stage_compares(*state.explanation, T, step);
  const int64_t saved_pct = std::lround(100.0 * (1.0 - static_cast<double>(tr.gram_entries) / static_cast<double>(T * T)));
  switch (step) {
    case 0:
      if (r == T)
        return QString("At layer %1 every one of the %2 tokens was a representative, so layer %3 starts from all of them (blue).")
            .arg(l - 1).arg(T).arg(l);
      return QString("Layer %1 starts from the %2 representatives of layer %3 (blue) instead of comparing all %4 tokens with each other.")
          .arg(l).arg(r).arg(l - 1).arg(T);
    case 1:
      if (empty) return QString("Validate: a single inherited token has nothing to be compared with, so it stays.");
      return QString("Validate: compare the %1 inherited tokens with each other; one whose |cos| with an earlier one reaches θ\u00A0=\u00A0%2 is no longer distinct (red).")
          .arg(r).arg(theta, 0, 'f', 2);
    case 2:
      if (empty)
        return QString("Cross-Gram: all %1 tokens were inherited from layer %2, so no other token is left to compare with them.")
            .arg(T).arg(l - 1);
      return QString("Cross-Gram: compare each of the %1 other tokens with the %2 valid representatives; one whose best |cos| stays below θ is new (green).")
          .arg(T - r).arg(rv);
    case 3:
      if (tr.removed.empty()) return QString("Remove: every inherited token passed validation, so none leaves the set.");
      return QString("Remove: %1 inherited token%2 failed validation and leave%3 the set.")
          .arg(tr.removed.size()).arg(tr.removed.size() == 1 ? "" : "s").arg(tr.removed.size() == 1 ? "s" : "");
    default:
      if (empty)
        return QString("Add: no token was left outside the set, so none joins; layer %1 keeps %2 representatives.")
            .arg(l).arg(tr.result.size());
      return QString("Add: %1 new token%2 join; layer %3 keeps %4 representatives for %5 Gram entries instead of %6 (%7% saved).")
          .arg(tr.added.size()).arg(tr.added.size() == 1 ? "" : "s").arg(l).arg(tr.result.size()).arg(tr.gram_entries)
          .arg(T * T).arg(saved_pct);
  }
}

QString CascadeStepFigure::presenter_note(int step) {
  switch (std::clamp(step, 0, kSteps - 1)) {
    case 0: return "Say: the cascade reuses the last layer's answer instead of starting again from every pair.";
    case 1: return "Say: two inherited tokens may have become alike in this layer; the later one is then dropped.";
    case 2: return "Say: a token that was redundant may have drifted away from every representative; it is checked here.";
    case 3: return "Ask: which red token was removed, and which earlier token now says it?";
    default: return "Say: the saving is the Gram entries never computed; E starts the exercise.";
  }
}

void CascadeStepFigure::paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const {
  const double f0 = 11 * state.scale;
  if (!available(run, state)) {
    teach::draw_wrapped(p, rect.adjusted(f0, f0, -f0, -f0),
                        run.has_activations() ? "Pick a layer ≥ 1 to step through the cascade into it."
                                              : "The cascade step's cosines need the activations (this session was saved without them).",
                        figure_font(f0), kMuted, Qt::AlignHCenter);
    return;
  }
  const Layout lay = layout_of(rect, run, state);
  const double f = lay.f;
  const CascadeExplanation& ex = *state.explanation;
  const int step = std::clamp(state.teach_step, 0, kSteps - 1);
  teach::draw_wrapped(p, lay.title, step_title(state, step), figure_font(f * 1.05, true), kInk);
  teach::draw_wrapped(p, lay.narration, narration(run, state), figure_font(f), kInk);

  const int64_t T = run.T();
  const bool text = lay.cells.empty() || lay.cells[0].height() > 9;
  QFont chip_font = figure_font(std::max(4.0, (lay.cells.empty() ? f : lay.cells[0].height()) / 1.75));
  p.setFont(chip_font);
  for (int64_t t = 0; t < T; ++t) {
    const Look look = chip_look(ex.trace, step, t, ex.best_cos[t], ex.theta);
    const QRectF& c = lay.cells[t];
    p.setPen(look.outline.alpha() ? QPen(look.outline, std::max(2.2, chip_font.pointSizeF() * 0.14)) : QPen(Qt::NoPen));
    p.setBrush(look.fill);
    p.drawRoundedRect(c, 3, 3);
    if (text) {
      p.setPen(qGray(look.fill.rgb()) < 140 ? QColor(Qt::white) : kInk);
      p.drawText(c, Qt::AlignCenter, token_label(run.token(t), kMaxChipChars));
    }
    if (look.strike) {
      p.setPen(QPen(okabe_ito::vermillion, std::max(1.4, chip_font.pointSizeF() * 0.1)));
      p.drawLine(QPointF(c.left() + 2, c.center().y()), QPointF(c.right() - 2, c.center().y()));
    }
  }

  // The numbers that decide the stage: each relevant token's best |cos| against θ (none yet at
  // "inherit"; none where the stage compares nothing).
  p.setFont(figure_font(f * 0.8));
  p.setPen(kMuted);
  if (step == 0) {
    if (state.hints) teach::draw_wrapped(p, lay.bars, "→ next: validate the inherited set", figure_font(f * 0.8), kMuted, Qt::AlignHCenter);
    return;
  }
  if (!stage_compares(ex, T, step)) {
    teach::draw_wrapped(p, lay.bars, "Nothing to compare at this step, so no |cos| bars.", figure_font(f * 0.8), kMuted, Qt::AlignHCenter);
    return;
  }
  const bool validating = step == 1 || step == 3;
  p.setFont(figure_font(f * 0.7));
  p.setPen(kMuted);
  teach::draw_line(p, lay.caption, Qt::AlignLeft | Qt::AlignVCenter,
                   validating ? "Each inherited token's largest |cos| with an earlier inherited one"
                              : "Each other token's largest |cos| with a valid representative");
  std::vector<teach::TokenBar> bars;
  for (int64_t t : bar_tokens(ex, step, T)) {
    const double v = std::isfinite(ex.best_cos[t]) ? ex.best_cos[t] : std::numeric_limits<double>::quiet_NaN();
    const bool passes = !(ex.best_cos[t] >= ex.theta);  // distinct: stays (validate) or is added (cross-Gram)
    QColor c = passes ? (validating ? okabe_ito::blue : okabe_ito::bluish_green) : okabe_ito::vermillion;
    if (!validating && !passes) c = QColor(170, 170, 170);
    bars.push_back({token_label(run.token(t), 10).trimmed(), v, c, !passes});
  }
  teach::draw_token_bars(p, lay.bars, bars, ex.theta, f * 0.9);
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
