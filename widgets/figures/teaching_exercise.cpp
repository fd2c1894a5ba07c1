#include "widgets/figures/teaching_exercise.h"

#include <algorithm>

#include "widgets/figures/teaching_draw.h"
#include "widgets/figures/token_flow.h"
#include "widgets/palette.h"

namespace cascade::widgets {

namespace {

using teach::draw_line;
using teach::draw_wrapped;
using teach::metrics;

constexpr int kChipChars = 14;

bool in(const std::vector<int64_t>& s, int64_t t) { return std::binary_search(s.begin(), s.end(), t); }

const std::vector<int64_t>& no_guesses() {
  static const std::vector<int64_t> none;
  return none;
}

struct Layout {
  QRectF header, text, chips, legend;
  std::vector<QRectF> cells;
  double f = 12;
};

QString header_text(const FigureState& state) {
  return QString("Your turn · which tokens will be representatives at layer %1?").arg(state.layer + 1);
}

QString body_text(const RunSnapshot& run, const FigureState& state) {
  if (state.reveal)
    return TeachingExerciseFigure::score_line(
               TeachingExerciseFigure::score(run, state.layer, state.guesses ? *state.guesses : no_guesses())) +
           ".";
  const int64_t r = static_cast<int64_t>(run.analysis().layers[state.layer].reps_casc.size());
  return QString("Layer %1 has %2 representatives (underlined). Click the tokens you expect at layer %3, then press Enter.")
      .arg(state.layer).arg(r).arg(state.layer + 1);
}

Layout layout_of(const QRectF& rect, const RunSnapshot& run, const FigureState& state) {
  Layout lay;
  lay.f = 11 * state.scale;
  const double f = lay.f;
  const QRectF inner = rect.adjusted(f, f * 0.5, -f, -f * 0.4);
  const double head = metrics(figure_font(f, true)).lineSpacing();
  lay.header = QRectF(inner.left(), inner.top(), inner.width(), head);
  const QString text = body_text(run, state);
  const double text_h = std::min(teach::wrapped_height(text, figure_font(f), inner.width()), inner.height() * 0.35);
  lay.text = QRectF(inner.left(), lay.header.bottom() + head * 0.15, inner.width(), text_h);
  const double legend_h = metrics(figure_font(f * 0.7)).lineSpacing() * 1.5;
  lay.legend = QRectF(inner.left(), inner.bottom() - legend_h, inner.width(), legend_h);
  lay.chips = QRectF(inner.left(), lay.text.bottom() + f * 0.7, inner.width(), lay.legend.top() - lay.text.bottom() - f * 1.2);
  for (double cf : {f * 0.8, f * 0.7, f * 0.6, f * 0.5, f * 0.42, f * 0.35, f * 0.28})
    if (flow_chips(run, lay.chips, cf, kChipChars, lay.cells)) return lay;
  grid_cells(lay.chips, run.T(), lay.cells);
  for (QRectF& c : lay.cells) c.setSize(c.size() * 0.9);
  return lay;
}

enum class Verdict { None, Right, Missed, Wrong };

struct Look {
  QColor fill;
  Qt::PenStyle outline = Qt::NoPen;
  bool hatched = false;
  QString badge;
};

Look look_of(Verdict v, bool guessed, bool revealed) {
  if (!revealed) return guessed ? Look{okabe_ito::orange, Qt::SolidLine, false, ""} : Look{QColor(236, 236, 236)};
  switch (v) {
    case Verdict::Right: return {okabe_ito::bluish_green, Qt::SolidLine, false, QString(QChar(0x2713))};
    case Verdict::Missed: return {okabe_ito::sky_blue, Qt::DashLine, false, "?"};
    case Verdict::Wrong: return {okabe_ito::vermillion, Qt::SolidLine, true, QString(QChar(0x2717))};
    default: return {QColor(236, 236, 236)};
  }
}

void draw_badge(QPainter& p, const QRectF& chip, const QString& badge, double pt) {
  const double d = std::max(8.0, std::min(chip.height() * 0.5, pt * 0.9));
  const QRectF circle(chip.right() - d * 0.6, chip.top() - d * 0.4, d, d);
  p.setPen(QPen(kInk, std::max(1.0, d * 0.07)));
  p.setBrush(Qt::white);
  p.drawEllipse(circle);
  p.setFont(figure_font(d * 0.62, true));
  p.setPen(kInk);
  p.drawText(circle, Qt::AlignCenter, badge);
}

}  // namespace

const TokenSet& TeachingExerciseFigure::answer(const RunSnapshot& run, int64_t layer) {
  return run.analysis().layers.at(layer + 1).reps_casc;
}

ExerciseScore TeachingExerciseFigure::score(const RunSnapshot& run, int64_t layer, const std::vector<int64_t>& guesses) {
  ExerciseScore s;
  const TokenSet& truth = answer(run, layer);
  s.total = static_cast<int64_t>(truth.size());
  for (int64_t t : guesses) (in(truth, t) ? s.right : s.wrong)++;
  s.missed = s.total - s.right;
  return s;
}

QString TeachingExerciseFigure::score_line(const ExerciseScore& s) {
  // "right" alone read as a grade next to many wrong guesses: say what was counted.
  return QString("%1 of %2 representatives found · %3 missed · %4 wrong guess%5")
      .arg(s.right).arg(s.total).arg(s.missed).arg(s.wrong).arg(s.wrong == 1 ? "" : "es");
}

QString TeachingExerciseFigure::presenter_note(bool revealed) {
  return revealed ? "Ask: why do most representatives stay from one layer to the next? (Depth coherence: the cascade relies on it.)"
                  : "Ask the room, then click their guesses; a good first guess: the same tokens as this layer.";
}

bool TeachingExerciseFigure::available(const RunSnapshot& run, const FigureState& state) const {
  return state.layer >= 0 && state.layer + 1 < run.L();
}

QString TeachingExerciseFigure::unavailable_reason(const RunSnapshot& run, const FigureState& state) const {
  return "the exercise needs a next layer";
}

std::vector<QRectF> TeachingExerciseFigure::chips(const QRectF& rect, const RunSnapshot& run, const FigureState& state) {
  return layout_of(rect, run, state).cells;
}

void TeachingExerciseFigure::paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const {
  const double f0 = 11 * state.scale;
  if (!available(run, state)) {
    draw_wrapped(p, rect.adjusted(f0, f0, -f0, -f0), "The exercise needs a next layer: pick a layer before the last.",
                 figure_font(f0), kMuted);
    return;
  }
  const Layout lay = layout_of(rect, run, state);
  const double f = lay.f;
  p.setFont(figure_font(f, true));
  p.setPen(kInk);
  draw_line(p, lay.header, Qt::AlignLeft | Qt::AlignVCenter, header_text(state));
  draw_wrapped(p, lay.text, body_text(run, state), figure_font(f), kInk);

  const std::vector<int64_t>& guesses = state.guesses ? *state.guesses : no_guesses();
  const TokenSet& truth = answer(run, state.layer);
  const TokenSet& now = run.analysis().layers[state.layer].reps_casc;
  const bool text = !lay.cells.empty() && lay.cells[0].height() > 9;
  const double chip_pt = lay.cells.empty() ? f : std::max(4.0, lay.cells[0].height() / 1.75);
  for (int64_t t = 0; t < run.T(); ++t) {
    const bool guessed = in(guesses, t), kept = in(truth, t);
    const Verdict v = guessed && kept ? Verdict::Right : kept ? Verdict::Missed : guessed ? Verdict::Wrong : Verdict::None;
    const Look look = look_of(v, guessed, state.reveal);
    const QRectF& c = lay.cells[t];
    p.setPen(look.outline == Qt::NoPen ? QPen(Qt::NoPen) : QPen(kInk, std::max(1.5, chip_pt * 0.12), look.outline));
    p.setBrush(look.fill);
    p.drawRoundedRect(c, 3, 3);
    if (look.hatched) teach::hatch(p, c.adjusted(2, 2, -2, -2), QColor(255, 255, 255, 110), std::max(4.0, chip_pt * 0.5));
    if (in(now, t)) p.fillRect(QRectF(c.left() + 2, c.bottom() - std::max(2.0, c.height() * 0.14), c.width() - 4,
                                      std::max(2.0, c.height() * 0.1)), okabe_ito::blue);
    if (text) {
      p.setFont(figure_font(chip_pt));
      p.setPen(qGray(look.fill.rgb()) < 120 ? QColor(Qt::white) : kInk);
      p.drawText(c, Qt::AlignCenter, token_label(run.token(t), kChipChars));
    }
    if (!look.badge.isEmpty()) draw_badge(p, c, look.badge, chip_pt);
  }

  // Legend: the colours and their second channel.
  const QFont lf = figure_font(f * 0.7);
  const QFontMetricsF fm = metrics(lf);
  double x = lay.legend.left();
  const double y = lay.legend.top() + fm.lineSpacing() * 0.3, sw = fm.height() * 1.2;
  auto entry = [&](const QColor& fill, Qt::PenStyle pen, bool hatched, const QString& badge, bool underline, const QString& label) {
    const QRectF sq(x, y + (fm.height() - sw * 0.75) / 2, sw * 1.4, sw * 0.75);
    p.setPen(pen == Qt::NoPen ? QPen(Qt::NoPen) : QPen(kInk, 1.5, pen));
    p.setBrush(fill);
    p.drawRoundedRect(sq, 2, 2);
    if (hatched) teach::hatch(p, sq, QColor(255, 255, 255, 150), sw * 0.3);
    if (underline) p.fillRect(QRectF(sq.left() + 1, sq.bottom() - sq.height() * 0.22, sq.width() - 2, sq.height() * 0.16), okabe_ito::blue);
    if (!badge.isEmpty()) {
      p.setFont(figure_font(f * 0.6, true));
      p.setPen(kInk);
      p.drawText(sq, Qt::AlignCenter, badge);
    }
    p.setFont(lf);
    p.setPen(kInk);
    const double w = fm.horizontalAdvance(label) + 2;
    draw_line(p, QRectF(sq.right() + f * 0.25, y, std::min(w, lay.legend.right() - sq.right()), fm.height()),
              Qt::AlignLeft | Qt::AlignVCenter, label);
    x = sq.right() + f * 0.25 + w + f * 0.8;
  };
  entry(QColor(236, 236, 236), Qt::NoPen, false, "", true, QString("representative at layer %1").arg(state.layer));
  if (!state.reveal) {
    entry(okabe_ito::orange, Qt::SolidLine, false, "", false, "your guess");
  } else {
    entry(okabe_ito::bluish_green, Qt::SolidLine, false, QString(QChar(0x2713)), false, "right");
    entry(okabe_ito::sky_blue, Qt::DashLine, false, "?", false, "missed");
    entry(okabe_ito::vermillion, Qt::SolidLine, true, QString(QChar(0x2717)), false, "wrong guess");
  }
}

Hit TeachingExerciseFigure::hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const {
  Hit h;
  if (!available(run, state)) return h;
  const std::vector<QRectF> cells = chips(rect, run, state);
  for (int64_t t = 0; t < static_cast<int64_t>(cells.size()); ++t)
    if (cells[t].contains(pos)) {
      h.token = t;
      h.layer = state.layer;
      h.tooltip = QString::fromStdString(run.token(t));
      break;
    }
  return h;
}

}  // namespace cascade::widgets
