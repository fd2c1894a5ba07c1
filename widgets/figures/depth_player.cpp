#include "widgets/figures/depth_player.h"

#include <QFontMetricsF>
#include <QPainterPath>

#include <cmath>

#include "widgets/figures/method_view.h"
#include "widgets/figures/token_flow.h"
#include "widgets/palette.h"
#include "widgets/plot.h"

namespace cascade::widgets {

namespace {

constexpr int kMaxChipChars = 24;

// A token's colour at one layer: its status, or its membership in the picked methods' sets.
QColor colour_at(const RunSnapshot& run, const FigureState& state, int64_t layer, int64_t t) {
  if (method_colouring(state, layer)) return membership_color(membership(state, layer, t), method_difference(state, layer));
  return status_color(run.status(layer, t));
}

QColor fill_for(const RunSnapshot& run, const FigureState& state, int64_t t) {
  if (method_colouring(state, state.layer)) {
    const QColor now = colour_at(run, state, state.layer, t);
    if (state.phase <= 0 || state.layer + 1 >= run.L()) return now;
    return mix(now, colour_at(run, state, state.layer + 1, t), state.phase);
  }
  const QColor now = status_color(run.status(state.layer, t));
  if (state.phase <= 0 || state.layer + 1 >= run.L()) return now;
  return mix(now, status_color(run.status(state.layer + 1, t)), state.phase);
}

// Breaks only between " · " parts ("r_casc 34 / 144" stays on one line).
QString unbreakable_parts(const QString& text) {
  QStringList parts = text.split("  ·  ");
  for (QString& part : parts) part.replace(' ', QChar(0xA0));
  return parts.join(" · ");
}

QString header_sub(const RunSnapshot& run, const FigureState& state) {
  QString sub = QString("τ = %1 (θ = %2), %3")
                    .arg(run.tau(), 0, 'f', 2)
                    .arg(run.analysis().theta, 0, 'f', 3)
                    .arg(QString::fromStdString(to_string(run.rule())));
  if (method_colouring(state, state.layer)) sub += "  ·  " + method_caption(state);
  if (!state.anonymous) sub += "  ·  " + QString::fromStdString(short_source(run.record()));
  if (state.phase > 0 && state.layer + 1 < run.L()) sub += QString("  ·  → layer %1").arg(state.layer + 1);
  return unbreakable_parts(sub);
}

// The title lines (wrapped between their parts) and their height.
double header_height(const RunSnapshot& run, const FigureState& state, double width, double f) {
  if (!state.title) return f * 0.4;
  const QFont sub_font = figure_font(f * 0.9);
  return title_height(width, unbreakable_parts(layer_caption(run, state.layer)), f) +
         static_cast<double>(wrap_words(header_sub(run, state), sub_font, width - f * 1.2).size()) *
             figure_metrics(sub_font).lineSpacing() +
         f * 0.5;
}

}  // namespace

QString layer_caption(const RunSnapshot& run, int64_t layer) {
  const LayerMeasures& m = run.analysis().layers.at(layer);
  QString s = QString("Layer %1 of 0–%2 (block %3)  ·  r_{casc} %4 / %5  ·  r_{ind} %6")
                  .arg(layer)
                  .arg(run.L() - 1)
                  .arg(m.layer)
                  .arg(m.r_casc)
                  .arg(run.T())
                  .arg(m.r_ind);
  if (layer > 0) s += QString("  ·  +%1 \u2212%2").arg(m.adds).arg(m.removes);
  s += QString("  ·  missed %1").arg(m.missed.size());
  return s;
}

namespace {

std::vector<LegendEntry> status_legend(double font_pt) {
  std::vector<LegendEntry> entries;
  for (TokenStatus s : {TokenStatus::Representative, TokenStatus::Added, TokenStatus::Removed, TokenStatus::Missed,
                        TokenStatus::Extra, TokenStatus::Redundant}) {
    LegendEntry e{status_color(s), status_name(s), false};
    if (status_hatched(s))
      e.swatch = [font_pt, s](QPainter& p, const QRectF& square) {
        const QRectF cell = square.adjusted(-font_pt * 0.2, -font_pt * 0.15, font_pt * 0.5, font_pt * 0.15);
        p.setPen(Qt::NoPen);
        p.setBrush(status_color(s));
        p.drawRect(cell);
        QPainterPath path;
        path.addRect(cell);
        hatch_status(p, path, s, font_pt);
      };
    entries.push_back(e);
  }
  // The second status a token can hold: an outline and a corner dot in its colour.
  LegendEntry also{status_color(TokenStatus::Removed), "+ also missed / extra", false};
  also.swatch = [font_pt](QPainter& p, const QRectF& square) {
    const QRectF cell = square.adjusted(-font_pt * 0.2, -font_pt * 0.15, font_pt * 0.5, font_pt * 0.15);
    p.setPen(Qt::NoPen);
    p.setBrush(status_color(TokenStatus::Removed));
    p.drawRect(cell);
    QPainterPath path;
    path.addRect(cell);
    hatch_status(p, path, TokenStatus::Removed, font_pt);
    draw_also_marker(p, cell, TokenStatus::Missed, font_pt * 0.7);
  };
  entries.push_back(also);
  return entries;
}

}  // namespace

namespace {

// The status legend, or the methods' (kept / not kept, A only / B only / both / neither) in method mode.
double player_legend_height(const RunSnapshot& run, const FigureState& state, double width, double f) {
  if (method_colouring(state, state.layer)) return legend_size(membership_legend(state, state.layer, run.T()), f, width).height();
  return status_legend_height(width, f);
}

void draw_player_legend(QPainter& p, const RunSnapshot& run, const FigureState& state, QPointF origin, double f, double width) {
  if (method_colouring(state, state.layer)) draw_legend(p, origin, membership_legend(state, state.layer, run.T()), f, width);
  else draw_status_legend(p, origin, f, width);
}

}  // namespace

double status_legend_height(double width, double font_pt) {
  return legend_size(status_legend(font_pt), font_pt, width).height();
}

void draw_status_legend(QPainter& p, QPointF origin, double font_pt, double width) {
  draw_legend(p, origin, status_legend(font_pt), font_pt, width);
}

bool status_hatched(TokenStatus s) { return s == TokenStatus::Removed || s == TokenStatus::Extra; }

void hatch_status(QPainter& p, const QPainterPath& region, TokenStatus s, double font_pt) {
  if (!status_hatched(s)) return;
  const double spacing = std::max(2.2, font_pt * 0.36);
  draw_hatch(p, region, spacing, s == TokenStatus::Removed, QColor(255, 255, 255, 170), spacing * 0.32);
}

void draw_also_marker(QPainter& p, const QRectF& cell, TokenStatus also, double font_pt) {
  if (also == TokenStatus::Redundant) return;
  const double w = std::max(1.0, font_pt * 0.2);
  p.setPen(QPen(status_color(also), w));
  p.setBrush(Qt::NoBrush);
  p.drawRect(cell.adjusted(w / 2, w / 2, -w / 2, -w / 2));
  const double r = std::max(1.5, font_pt * 0.28);
  p.setPen(QPen(kInk, std::max(0.5, w * 0.4)));
  p.setBrush(status_color(also));
  p.drawEllipse(QPointF(cell.right() - r, cell.top() + r), r, r);
}

QSizeF DepthPlayerFigure::natural_size(const RunSnapshot& run) const {
  // About 12 tokens a line at 500 pt; tall enough for the text, capped at a page.
  const double lines = std::ceil(static_cast<double>(run.T()) / 11.0);
  return {500, std::clamp(60 + lines * 17, 160.0, 700.0)};
}

double DepthPlayerFigure::height_for_width(const RunSnapshot& run, const FigureState& state, double width) const {
  // As tall as the chips flow at this width (the header, the legend and the chips' lines), at most
  // a tall page; beyond that the layout falls back to cells.
  const double f = type_pt(state);
  const TypeFloor floor(state.font_pt);
  const double legend_h = player_legend_height(run, state, width - f * 1.2, f) + f * 0.7;
  std::vector<QRectF> cells;
  const QRectF body(f * 0.6, 0, width - f * 1.2, 1e6);
  const auto [t0, t1] = state.tokens.within(run.T());
  flow_chips(run, body, f, kMaxChipChars, cells, t0, t1);
  const double chips_h = cells.empty() ? f * 2 : cells.back().bottom() + f * 0.6;
  return std::clamp(header_height(run, state, width, f) + chips_h + legend_h + f * 0.4, 120.0, 1000.0);
}

DepthPlayerFigure::Layout DepthPlayerFigure::layout(const QRectF& rect, const RunSnapshot& run,
                                                    const FigureState& state) {
  Layout out;
  out.font_pt = type_pt(state);
  const double f = out.font_pt;
  const auto [t0, t1] = state.tokens.within(run.T());
  out.first = t0;
  out.header = QRectF(rect.left(), rect.top(), rect.width(), header_height(run, state, rect.width(), f));
  const double legend_h = player_legend_height(run, state, rect.width() - f * 1.2, f) + f * 0.7;
  out.legend = QRectF(rect.left(), rect.bottom() - legend_h, rect.width(), legend_h);
  out.body = QRectF(rect.left() + f * 0.6, out.header.bottom(), rect.width() - f * 1.2,
                    out.legend.top() - out.header.bottom() - f * 0.4);
  // Chips flowing like text while they fit; one cell per token beyond that (long runs).
  if (t1 - t0 <= 4096 && flow_chips(run, out.body, f, kMaxChipChars, out.cells, t0, t1)) return out;
  out.chips = false;
  const Grid grid = grid_cells(out.body, t1 - t0, out.cells);
  out.cols = grid.cols;
  out.side = grid.side;
  return out;
}

void DepthPlayerFigure::paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const {
  const Layout lay = layout(rect, run, state);
  const double f = lay.font_pt;
  // Header: what layer, what the numbers are (the title lines).
  if (state.title) {
    draw_title(p, lay.header, unbreakable_parts(layer_caption(run, state.layer)), f);
    const QFont sub_font = figure_font(f * 0.9);
    const QFontMetricsF fm = figure_metrics(sub_font);
    p.setFont(sub_font);
    p.setPen(kMuted);
    double y = lay.header.top() + title_height(lay.header.width(), unbreakable_parts(layer_caption(run, state.layer)), f);
    for (const QString& line : wrap_words(header_sub(run, state), sub_font, lay.header.width() - f * 1.2)) {
      p.drawText(QPointF(lay.header.left() + f * 0.6, y + fm.ascent()), line);
      y += fm.lineSpacing();
    }
  }

  const int64_t first = lay.first, n = static_cast<int64_t>(lay.cells.size());
  const bool statuses = !method_colouring(state, state.layer);  // hatches and second statuses are the cascade's
  if (lay.chips) {
    p.setFont(figure_font(f));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t t = first + i;
      const QRectF& c = lay.cells[i];
      const QColor fill = fill_for(run, state, t);
      p.setPen(Qt::NoPen);
      p.setBrush(fill);
      p.drawRoundedRect(c, f * 0.3, f * 0.3);
      if (const TokenStatus st = run.status(state.layer, t); statuses && status_hatched(st) && state.phase <= 0) {
        QPainterPath shape;
        shape.addRoundedRect(c, f * 0.3, f * 0.3);
        hatch_status(p, shape, st, f);
      }
      p.setPen(qGray(fill.rgb()) < 140 ? QColor(Qt::white) : kInk);
      p.drawText(c, Qt::AlignCenter, token_label(run.token(t), kMaxChipChars));
      if (statuses) draw_also_marker(p, c, run.also(state.layer, t), f);
    }
  } else {
    p.setRenderHint(QPainter::Antialiasing, false);
    for (int64_t i = 0; i < n; ++i) p.fillRect(lay.cells[i], fill_for(run, state, first + i));
    if (statuses && state.phase <= 0)
      for (TokenStatus hatched : {TokenStatus::Removed, TokenStatus::Extra}) {
        QPainterPath cells;
        for (int64_t i = 0; i < n; ++i)
          if (run.status(state.layer, first + i) == hatched) cells.addRect(lay.cells[i]);
        hatch_status(p, cells, hatched, f);
      }
    if (statuses && lay.side >= 6)
      for (int64_t i = 0; i < n; ++i) draw_also_marker(p, lay.cells[i], run.also(state.layer, first + i), lay.side);
    p.setRenderHint(QPainter::Antialiasing, true);
  }
  // Selection and hover outlines, and the link from a redundant token to its representative.
  auto outline = [&](int64_t t, const QColor& color, double width) {
    if (t < first || t >= first + n) return;
    p.setPen(QPen(color, width));
    p.setBrush(Qt::NoBrush);
    const QRectF c = lay.cells[t - first].adjusted(-width / 2, -width / 2, width / 2, width / 2);
    if (lay.chips) p.drawRoundedRect(c, f * 0.3, f * 0.3);
    else p.drawRect(c);
  };
  auto shown = [&](int64_t t) { return t >= first && t < first + n; };
  if (shown(state.hover_token) && shown(state.link_to) && state.link_to != state.hover_token) {
    const QPointF a = lay.cells[state.hover_token - first].center(), b = lay.cells[state.link_to - first].center();
    QPainterPath path(a);
    const QPointF mid = (a + b) / 2 - QPointF(0, std::max(f * 2.0, std::abs(a.x() - b.x()) * 0.15));
    path.quadTo(mid, b);
    p.setPen(QPen(kInk, 1.4, Qt::DashLine));
    p.setBrush(Qt::NoBrush);
    p.drawPath(path);
    outline(state.link_to, kInk, 1.6);
  }
  outline(state.hover_token, kMuted, 1.2);
  outline(highlighted_token(state), kInk, 2.0);
  draw_player_legend(p, run, state, QPointF(lay.legend.left() + f * 0.6, lay.legend.top() + f * 0.3), f,
                     lay.legend.width() - f * 1.2);
}

Hit DepthPlayerFigure::hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const {
  const Layout lay = layout(rect, run, state);
  Hit h;
  if (!lay.chips) {
    const double side = lay.side;
    const int64_t cols = lay.cols;
    if (!lay.body.contains(pos)) return h;
    const int64_t col = static_cast<int64_t>((pos.x() - lay.body.left()) / side);
    const int64_t row = static_cast<int64_t>((pos.y() - lay.body.top()) / side);
    const int64_t i = row * cols + col;
    if (col < cols && i >= 0 && i < static_cast<int64_t>(lay.cells.size()) && lay.cells[i].contains(pos))
      h.token = lay.first + i;
  } else {
    for (size_t i = 0; i < lay.cells.size(); ++i)
      if (lay.cells[i].contains(pos)) {
        h.token = lay.first + static_cast<int64_t>(i);
        break;
      }
  }
  if (h.token >= 0) {
    h.layer = state.layer;
    h.tooltip = QString("%1  [%2]  %3").arg(QString::fromStdString(run.token(h.token))).arg(h.token)
                    .arg(method_colouring(state, state.layer) ? membership_name(state, membership(state, state.layer, h.token))
                                                              : QString(status_name(run.status(state.layer, h.token))));
  }
  return h;
}

}  // namespace cascade::widgets
