#include "widgets/figures/teaching_intro.h"

#include <QPainterPath>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <tuple>

#include "core/analyzer.h"
#include "widgets/figures/teaching_draw.h"
#include "widgets/figures/token_flow.h"
#include "widgets/palette.h"

namespace cascade::widgets {

namespace {

using teach::draw_line;
using teach::draw_wrapped;
using teach::metrics;

constexpr int kChipChars = 10;
constexpr double kDeg = 180.0 / std::numbers::pi;

QString word(const RunSnapshot& run, int64_t t) { return token_label(run.token(t), kChipChars).trimmed(); }
QString quoted(const RunSnapshot& run, int64_t t) { return QString("“%1”").arg(word(run, t)); }

// The first tokens up to the end of a sentence (at most kMaxTokens; all of them when no sentence
// ends in time).
int64_t shown_tokens(const RunSnapshot& run) {
  const int64_t n = std::min<int64_t>(run.T(), TeachingIntroFigure::kMaxTokens);
  for (int64_t t = n - 1; t >= 5; --t) {
    const std::string& s = run.token(t);
    if (s.find('.') != std::string::npos || s.find('!') != std::string::npos || s.find('?') != std::string::npos)
      return t + 1;
  }
  return n;
}

// One direction per token whose pairwise differences follow the true angles acos|cos| as well as
// a flat picture can: classical scaling of the angle matrix onto one dimension.
std::vector<double> arrow_angles(const std::vector<double>& cosines, int64_t n) {
  std::vector<double> d2(n * n), b(n * n);
  for (int64_t i = 0; i < n * n; ++i) {
    const double a = std::acos(std::clamp(std::abs(cosines[i]), 0.0, 1.0));
    d2[i] = a * a;
  }
  std::vector<double> row(n, 0.0);
  double all = 0;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) row[i] += d2[i * n + j] / n;
    all += row[i] / n;
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) b[i * n + j] = -0.5 * (d2[i * n + j] - row[i] - row[j] + all);
  std::vector<double> v(n), w(n);
  for (int64_t i = 0; i < n; ++i) v[i] = 1.0 + 0.1 * static_cast<double>(i % 3) - 0.05 * static_cast<double>(i);
  double lambda = 0;
  for (int iter = 0; iter < 200; ++iter) {
    double norm = 0;
    for (int64_t i = 0; i < n; ++i) {
      w[i] = 0;
      for (int64_t j = 0; j < n; ++j) w[i] += b[i * n + j] * v[j];
      norm += w[i] * w[i];
    }
    norm = std::sqrt(norm);
    if (norm < 1e-12) break;
    lambda = norm;
    for (int64_t i = 0; i < n; ++i) v[i] = w[i] / norm;
  }
  std::vector<double> out(n);
  const double s = std::sqrt(std::max(lambda, 0.0));
  for (int64_t i = 0; i < n; ++i) out[i] = v[i] * s;
  // Centred on "up and to the right"; at most ±80° so every arrow stays readable.
  const auto [lo, hi] = std::minmax_element(out.begin(), out.end());
  const double mid = (*lo + *hi) / 2, half = std::max(1e-9, (*hi - *lo) / 2);
  const double limit = 80.0 / kDeg, shrink = half > limit ? limit / half : 1.0;
  for (double& a : out) a = std::numbers::pi / 4 + (a - mid) * shrink;
  return out;
}

void draw_arrow(QPainter& p, QPointF from, double angle, double length, const QColor& color, double width) {
  const QPointF to = from + QPointF(std::cos(angle), -std::sin(angle)) * length;
  p.setPen(QPen(color, width, Qt::SolidLine, Qt::RoundCap));
  p.drawLine(from, to);
  const double head = std::max(6.0, width * 3.2);
  QPainterPath tip;
  tip.moveTo(to);
  tip.lineTo(to - QPointF(std::cos(angle - 0.45), -std::sin(angle - 0.45)) * head);
  tip.lineTo(to - QPointF(std::cos(angle + 0.45), -std::sin(angle + 0.45)) * head);
  tip.closeSubpath();
  p.setPen(Qt::NoPen);
  p.setBrush(color);
  p.drawPath(tip);
}

// The shown tokens as chips in `rows` rows of equal slots, row r's top at tops[r]; their type
// shrinks until every word fits its slot.
int rows_for(int64_t n) { return n >= 10 ? 2 : 1; }

std::vector<QRectF> chip_rows(const RunSnapshot& run, int64_t n, const QRectF& area, const std::vector<double>& tops,
                              double font_pt, double* chip_pt) {
  const int rows = static_cast<int>(tops.size());
  const int64_t per_row = (n + rows - 1) / rows;
  const double slot = area.width() / static_cast<double>(per_row), gap = std::min(slot * 0.12, font_pt * 0.3);
  double pt = font_pt;
  for (int64_t t = 0; t < n; ++t)
    while (metrics(figure_font(pt)).horizontalAdvance(word(run, t)) > slot - gap - pt * 0.4 && pt > 4) pt *= 0.94;
  const double h = metrics(figure_font(pt)).height() * 1.35;
  std::vector<QRectF> cells;
  for (int64_t t = 0; t < n; ++t)
    cells.emplace_back(area.left() + static_cast<double>(t % per_row) * slot + gap / 2, tops[t / per_row], slot - gap, h);
  *chip_pt = pt;
  return cells;
}

void draw_chip(QPainter& p, const QRectF& c, const QString& text, double pt, const QColor& fill, bool dashed = false) {
  p.setPen(dashed ? QPen(kMuted, std::max(1.5, pt * 0.08), Qt::DashLine) : QPen(mix(fill, kInk, 0.35), 1.5));
  p.setBrush(fill);
  p.drawRoundedRect(c, pt * 0.25, pt * 0.25);
  p.setFont(figure_font(pt));
  p.setPen(qGray(fill.rgb()) < 140 ? QColor(Qt::white) : kInk);
  draw_line(p, c, Qt::AlignCenter, text);
}

void stage_vectors(QPainter& p, const QRectF& area, const RunSnapshot& run, const TeachingIntroFigure::Story& s, double f) {
  const int rows = rows_for(s.tokens);
  const double pitch = area.height() / rows;
  std::vector<double> tops;
  for (int r = 0; r < rows; ++r) tops.push_back(area.top() + r * pitch);
  double pt = 0;
  const std::vector<QRectF> cells = chip_rows(run, s.tokens, area, tops, f * 0.8, &pt);
  const double chip_h = cells[0].height();
  const double d = std::min(cells[0].width() * 0.9, pitch - chip_h - f * 0.9);
  for (int64_t t = 0; t < s.tokens; ++t) {
    draw_chip(p, cells[t], word(run, t), pt, QColor(236, 236, 236));
    const QPointF centre(cells[t].center().x(), cells[t].bottom() + f * 0.3 + d / 2);
    p.setPen(QPen(kGrid, std::max(1.0, f * 0.04)));
    p.setBrush(Qt::NoBrush);
    p.drawEllipse(centre, d / 2, d / 2);
    draw_arrow(p, centre, s.angle[t], d / 2 * 0.92, okabe_ito::blue, std::max(2.0, f * 0.09));
  }
}

// Two arrows from one origin with the angle between them marked, and the pair named below.
void angle_panel(QPainter& p, const QRectF& box, const RunSnapshot& run, int64_t a, int64_t b, double abs_cos, double f,
                 const QColor& color) {
  const QFontMetricsF fm = metrics(figure_font(f * 0.8));
  const double caption_h = fm.lineSpacing() * 2.2;
  const QRectF pic(box.left(), box.top(), box.width(), box.height() - caption_h);
  const double angle = std::acos(std::clamp(abs_cos, 0.0, 1.0));
  const double len = std::min(pic.width() * 0.62, pic.height() * 0.82);
  const QPointF o(pic.left() + pic.width() * 0.2, pic.bottom() - f * 0.3);
  const double base = 8.0 / kDeg;
  draw_arrow(p, o, base, len, kInk, std::max(2.0, f * 0.1));
  draw_arrow(p, o, base + angle, len, color, std::max(2.0, f * 0.1));
  p.setPen(QPen(kMuted, std::max(1.5, f * 0.06)));
  p.setBrush(Qt::NoBrush);
  const double r = len * 0.35;
  p.drawArc(QRectF(o.x() - r, o.y() - r, 2 * r, 2 * r), static_cast<int>(base * kDeg * 16), static_cast<int>(angle * kDeg * 16));
  p.setFont(figure_font(f * 0.8, true));
  const QPointF tip_a = o + QPointF(std::cos(base), -std::sin(base)) * (len + f * 0.3);
  const QPointF tip_b = o + QPointF(std::cos(base + angle), -std::sin(base + angle)) * (len + f * 0.3);
  const QString label_a = QString("%1 [%2]").arg(word(run, a)).arg(a), label_b = QString("%1 [%2]").arg(word(run, b)).arg(b);
  const double w = metrics(figure_font(f * 0.8, true)).horizontalAdvance(label_a.size() > label_b.size() ? label_a : label_b) + f * 0.5;
  p.setPen(kInk);
  draw_line(p, QRectF(std::min(tip_a.x(), box.right() - w), tip_a.y() - fm.height(), w, fm.height()), Qt::AlignLeft | Qt::AlignVCenter, label_a);
  p.setPen(color);
  draw_line(p, QRectF(std::min(tip_b.x(), box.right() - w), tip_b.y() - fm.height(), w, fm.height()), Qt::AlignLeft | Qt::AlignVCenter, label_b);
  p.setFont(figure_font(f * 0.8));
  p.setPen(kInk);
  draw_line(p, QRectF(box.left(), pic.bottom() + f * 0.3, box.width(), fm.lineSpacing()), Qt::AlignHCenter | Qt::AlignTop,
            QString("|cos| = %1   ·   angle %2°").arg(abs_cos, 0, 'f', 2).arg(std::lround(angle * kDeg)));
  draw_line(p, QRectF(box.left(), pic.bottom() + f * 0.3 + fm.lineSpacing(), box.width(), fm.lineSpacing()),
            Qt::AlignHCenter | Qt::AlignTop, abs_cos >= 0.5 ? "point the same way: similar" : "point apart: different");
}

void stage_similarity(QPainter& p, const QRectF& area, const RunSnapshot& run, const TeachingIntroFigure::Story& s, double f) {
  const double half = area.width() / 2;
  angle_panel(p, QRectF(area.left(), area.top(), half - f, area.height()), run, s.similar_a, s.similar_b, s.similar_cos, f,
              okabe_ito::blue);
  angle_panel(p, QRectF(area.left() + half + f, area.top(), half - f, area.height()), run, s.similar_a, s.different_b,
              s.different_cos, f, okabe_ito::vermillion);
}

void stage_threshold(QPainter& p, const QRectF& area, const RunSnapshot& run, const TeachingIntroFigure::Story& s, double f) {
  std::vector<teach::TokenBar> bars;
  for (int64_t t = 0; t < s.tokens; ++t) {
    const bool said = !s.representative(t);
    bars.push_back({word(run, t), std::isfinite(s.gamma[t]) ? s.gamma[t] : std::numeric_limits<double>::quiet_NaN(),
                    said ? QColor(150, 150, 150) : okabe_ito::blue, said});
  }
  // Legend: colour and hatching both say "already said"; a second line when one is too narrow.
  const QFontMetricsF fm = metrics(figure_font(f * 0.75));
  const double sw = fm.height() * 0.9;
  const std::vector<std::tuple<QColor, bool, QString>> entries = {
      {okabe_ito::blue, false, "below θ: not yet said"}, {QColor(150, 150, 150), true, "above θ: already said by an earlier token"}};
  double total = 0;
  for (const auto& [c, h, text] : entries) total += sw * 1.4 + fm.horizontalAdvance(text) + f * 1.2;
  const int lines = total > area.width() ? 2 : 1;
  const double legend_h = fm.lineSpacing() * (lines + 0.4);
  teach::draw_token_bars(p, QRectF(area.left(), area.top(), area.width(), area.height() - legend_h), bars, s.theta, f);
  double x = area.left(), y = area.bottom() - legend_h + fm.lineSpacing() * 0.3;
  for (const auto& [c, hatched, text] : entries) {
    const QRectF sq(x, y + (fm.height() - sw) / 2, sw, sw);
    p.fillRect(sq, c);
    if (hatched) teach::hatch(p, sq, Qt::white, sw * 0.3);
    p.setFont(figure_font(f * 0.75));
    p.setPen(kInk);
    const double w = std::min(fm.horizontalAdvance(text) + f * 0.2, area.right() - x - sw * 1.4);
    draw_line(p, QRectF(x + sw * 1.4, y, w, fm.height()), Qt::AlignLeft | Qt::AlignVCenter, text);
    if (lines == 2) y += fm.lineSpacing();
    else x += sw * 1.4 + w + f;
  }
}

void stage_representatives(QPainter& p, const QRectF& area, const RunSnapshot& run, const TeachingIntroFigure::Story& s,
                           double f) {
  const int rows = rows_for(s.tokens);
  const QFontMetricsF fm = metrics(figure_font(f * 0.75));
  const double legend_h = fm.lineSpacing() * 1.4;
  const QRectF body(area.left(), area.top(), area.width(), area.height() - legend_h);
  std::vector<double> tops;
  for (int r = 0; r < rows; ++r) tops.push_back(body.top() + body.height() * (rows == 1 ? 0.45 : 0.22 + 0.5 * r));
  double pt = 0;
  const std::vector<QRectF> cells = chip_rows(run, s.tokens, body, tops, f * 0.8, &pt);
  // Each said token points back to the earlier token that said it: straight up to the row above,
  // or in an arc over the row.
  p.setBrush(Qt::NoBrush);
  for (int64_t t = 0; t < s.tokens; ++t) {
    if (s.representative(t) || s.partner[t] < 0) continue;
    const QRectF& from = cells[t];
    const QRectF& to = cells[s.partner[t]];
    const double w = std::max(1.5, f * 0.07);
    if (to.bottom() < from.top()) {
      const QPointF a(from.center().x(), from.top()), b(to.center().x(), to.bottom() + f * 0.15);
      p.setPen(QPen(kMuted, w, Qt::DashLine));
      p.drawLine(a, b + QPointF(0, f * 0.4));
      const double ang = std::atan2(-(b.y() - a.y()), b.x() - a.x());
      draw_arrow(p, b - QPointF(std::cos(ang), -std::sin(ang)) * f * 0.45, ang, f * 0.45, kMuted, w);
    } else {
      const QPointF a(from.center().x(), from.top()), b(to.center().x(), to.top() - f * 0.15);
      const double lift = std::min(body.height() * 0.18, std::abs(a.x() - b.x()) * 0.4 + f);
      QPainterPath arc;
      arc.moveTo(a);
      arc.cubicTo(a - QPointF(0, lift), b - QPointF(0, lift), b - QPointF(0, f * 0.4));
      p.setPen(QPen(kMuted, w, Qt::DashLine));
      p.drawPath(arc);
      draw_arrow(p, b - QPointF(0, f * 0.45), -std::numbers::pi / 2, f * 0.45, kMuted, w);
    }
  }
  for (int64_t t = 0; t < s.tokens; ++t)
    draw_chip(p, cells[t], word(run, t), pt, s.representative(t) ? okabe_ito::blue : QColor(225, 225, 225), !s.representative(t));
  p.setFont(figure_font(f * 0.75));
  p.setPen(kInk);
  draw_line(p, QRectF(area.left(), area.bottom() - legend_h + fm.lineSpacing() * 0.3, area.width(), fm.height()),
            Qt::AlignLeft | Qt::AlignTop,
            QString("blue: representative (%1 of %2) · grey, dashed: already said (the arrow points to who said it)")
                .arg(s.representatives()).arg(s.tokens));
}

// A causal score grid: row i (a query) against columns j ≤ i; `keep` says which rows/columns count.
void score_grid(QPainter& p, const QRectF& box, const RunSnapshot& run, const TeachingIntroFigure::Story& s, bool reps_only,
                double f, const QString& caption) {
  const QFontMetricsF cap = metrics(figure_font(f * 0.75, true));
  const double label_w = box.width() * 0.24;
  const double side = std::min((box.width() - label_w) / static_cast<double>(s.tokens),
                               (box.height() - cap.lineSpacing() * 1.3) / static_cast<double>(s.tokens));
  const QRectF grid(box.left() + label_w, box.top() + cap.lineSpacing() * 1.3, side * s.tokens, side * s.tokens);
  p.setFont(figure_font(f * 0.75, true));
  p.setPen(kInk);
  draw_line(p, QRectF(box.left(), box.top(), box.width(), cap.height()), Qt::AlignHCenter | Qt::AlignTop, caption);
  const double label_pt = std::min(f * 0.6, side * 0.8);
  p.setFont(figure_font(label_pt));
  for (int64_t i = 0; i < s.tokens; ++i) {
    const bool row_kept = !reps_only || s.representative(i);
    p.setPen(row_kept ? kInk : kMuted);
    draw_line(p, QRectF(box.left(), grid.top() + side * i, label_w - f * 0.3, side), Qt::AlignRight | Qt::AlignVCenter,
              row_kept || s.partner[i] < 0 ? word(run, i) : QString("%1 ← %2").arg(word(run, i), word(run, s.partner[i])));
    for (int64_t j = 0; j <= i; ++j) {
      const QRectF c(grid.left() + side * j + 1, grid.top() + side * i + 1, side - 2, side - 2);
      const bool kept = !reps_only || (s.representative(i) && s.representative(j));
      p.fillRect(c, kept ? okabe_ito::orange : QColor(242, 242, 242));
    }
  }
  p.setPen(QPen(kMuted, 1));
  p.setBrush(Qt::NoBrush);
  p.drawRect(grid);
}

void stage_attention(QPainter& p, const QRectF& area, const RunSnapshot& run, const TeachingIntroFigure::Story& s, double f) {
  const int64_t n = s.tokens, r = s.representatives();
  const double half = area.width() / 2;
  score_grid(p, QRectF(area.left(), area.top(), half - f * 0.5, area.height()), run, s, false, f,
             QString("every token: %1 scores").arg(n * (n + 1) / 2));
  score_grid(p, QRectF(area.left() + half + f * 0.5, area.top(), half - f * 0.5, area.height()), run, s, true, f,
             QString("representatives only: %1 scores").arg(r * (r + 1) / 2));
}

}  // namespace

int64_t TeachingIntroFigure::Story::representatives() const {
  int64_t r = 0;
  for (int64_t t = 0; t < tokens; ++t) r += representative(t);
  return r;
}

TeachingIntroFigure::Story TeachingIntroFigure::story(const RunSnapshot& run) {
  Story s;
  s.tokens = shown_tokens(run);
  s.tau = run.tau();
  s.theta = run.analysis().theta;
  const int64_t n = s.tokens;
  // The layer where about half the shown tokens are already said (the earliest of equals).
  int64_t best = std::numeric_limits<int64_t>::max();
  for (int64_t l = std::min<int64_t>(1, run.L() - 1); l < run.L(); ++l) {
    const std::vector<float>& g = run.gamma(l);
    int64_t said = 0;
    for (int64_t t = 0; t < n; ++t) said += g[t] >= s.theta;
    const int64_t off = std::abs(2 * said - n);
    if (said > 0 && off < best) best = off, s.layer = l;
  }
  s.layer = std::min(s.layer, run.L() - 1);
  const std::vector<float>& g = run.gamma(s.layer);
  const std::vector<int64_t>& pi = run.partner(s.layer);
  for (int64_t t = 0; t < n; ++t) {
    s.gamma.push_back(t == 0 || !std::isfinite(g[t]) ? -std::numeric_limits<double>::infinity() : g[t]);
    s.partner.push_back(t == 0 ? -1 : pi[t]);
  }
  std::vector<double> cosines(n * n, 1.0);
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = a + 1; b < n; ++b) cosines[a * n + b] = cosines[b * n + a] = run.cosine(s.layer, a, b);
  s.angle = arrow_angles(cosines, n);
  // Stage 1: the most "already said" token with its partner, and the token least like it.
  // (A said token with the longest word, the earliest of equals: "cat" reads better than "m".)
  auto letters = [&](int64_t t) { return word(run, t).size(); };
  for (int64_t t = 1; t < n; ++t) {
    const bool said = s.gamma[t] >= s.theta, best_said = s.similar_a >= 0 && s.gamma[s.similar_a] >= s.theta;
    if (s.similar_a < 0 || (said && !best_said) ||
        (said == best_said && (said ? letters(t) > letters(s.similar_a) : s.gamma[t] > s.gamma[s.similar_a])))
      s.similar_a = t;
  }
  s.similar_b = s.partner[s.similar_a];
  s.similar_cos = std::abs(cosines[s.similar_a * n + s.similar_b]);
  for (int64_t t = 0; t < n; ++t)
    if (t != s.similar_a && (s.different_b < 0 || std::abs(cosines[s.similar_a * n + t]) < s.different_cos))
      s.different_b = t, s.different_cos = std::abs(cosines[s.similar_a * n + t]);
  return s;
}

bool TeachingIntroFigure::available(const RunSnapshot& run, const FigureState& state) const {
  return run.has_activations() && run.T() >= 3 && run.L() >= 1;
}

QString TeachingIntroFigure::unavailable_reason(const RunSnapshot& run, const FigureState& state) const {
  if (!run.has_activations()) return "the session was saved without activations";
  return "the run has too few tokens";
}

QString TeachingIntroFigure::stage_name(int stage) {
  static const char* names[] = {"tokens become vectors", "similar = same direction", "the line θ", "representatives",
                                "attention"};
  return names[std::clamp(stage, 0, kStages - 1)];
}

QString TeachingIntroFigure::narration(const RunSnapshot& run, const Story& s, int stage) {
  switch (std::clamp(stage, 0, kStages - 1)) {
    case 0:
      return QString("Inside the model each token becomes a vector, its hidden state (%1 numbers, drawn as an arrow).")
          .arg(run.record().analyzer->dim());
    case 1:
      return QString("Two tokens are similar when their vectors point the same way: |cos| near 1 is a small angle, near 0 a right angle.");
    case 2:
      return QString("A token whose |cos| with an earlier token is above θ\u00A0=\u00A01\u00A0−\u00A0τ²\u00A0=\u00A0%1 has already been said.")
          .arg(s.theta, 0, 'f', 2);
    case 3:
      return QString("A representative is a token not yet said: %1 of these %2 are.").arg(s.representatives()).arg(s.tokens);
    default:
      return QString("Attention then needs only the representatives; each other token reuses the output of the one that said it.");
  }
}

QString TeachingIntroFigure::presenter_note(int stage) {
  switch (std::clamp(stage, 0, kStages - 1)) {
    case 0: return "Say: attention compares these vectors; arrows that point alike belong to tokens the model sees alike.";
    case 1: return "Say: only the direction counts, not the length; a flipped arrow counts as the same line (absolute cosine).";
    case 2: return "Say: τ is the knob; a larger τ lowers the line, so more tokens count as already said.";
    case 3: return "Ask: why is the second “cat” not a representative? (Its arrow points to the first one.)";
    default: return "Say: fewer keys and queries, the same answer for the said tokens. Next: how the cascade finds them cheaply.";
  }
}

void TeachingIntroFigure::paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const {
  const double f = 11 * state.scale;
  if (!available(run, state)) {
    draw_wrapped(p, rect.adjusted(f, f, -f, -f), "The opening sequence needs the activations: " + unavailable_reason(run, state) + ".",
                 figure_font(f), kMuted);
    return;
  }
  const Story s = story(run);
  const int stage = std::clamp(state.intro_stage, 0, kStages - 1);
  const QRectF inner = rect.adjusted(f, f * 0.5, -f, -f * 0.4);
  p.setFont(figure_font(f, true));
  p.setPen(kInk);
  const double head = metrics(p.font()).lineSpacing();
  draw_line(p, QRectF(inner.left(), inner.top(), inner.width(), head), Qt::AlignLeft | Qt::AlignVCenter,
            QString("Before the algorithm · %1 of %2 · %3").arg(stage + 1).arg(kStages).arg(stage_name(stage)));
  const QString text = narration(run, s, stage);
  const QFont body = figure_font(f);
  const double text_h = std::min(teach::wrapped_height(text, body, inner.width()), inner.height() * 0.4);
  const double used = draw_wrapped(p, QRectF(inner.left(), inner.top() + head * 1.15, inner.width(), text_h), text, body, kInk);
  p.setFont(figure_font(f * 0.6));
  p.setPen(kMuted);
  const QFontMetricsF small = metrics(p.font());
  const double cap_y = inner.top() + head * 1.15 + used + f * 0.1;
  draw_line(p, QRectF(inner.left(), cap_y, inner.width(), small.height()), Qt::AlignLeft | Qt::AlignTop,
            QString("The first %1 tokens of the text, at layer %2").arg(s.tokens).arg(s.layer));
  const QRectF area(inner.left(), cap_y + small.lineSpacing() + f * 0.5, inner.width(),
                    inner.bottom() - (cap_y + small.lineSpacing() + f * 0.5));
  switch (stage) {
    case 0: stage_vectors(p, area, run, s, f); break;
    case 1: stage_similarity(p, area, run, s, f); break;
    case 2: stage_threshold(p, area, run, s, f); break;
    case 3: stage_representatives(p, area, run, s, f); break;
    default: stage_attention(p, area, run, s, f); break;
  }
}

}  // namespace cascade::widgets
