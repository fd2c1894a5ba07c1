#include "widgets/figures/teaching_draw.h"

#include <QImage>
#include <QPainterPath>

#include <algorithm>
#include <cmath>

#include "widgets/palette.h"

namespace cascade::widgets::teach {

namespace {

thread_local TextBoxes* current_boxes = nullptr;

QString tick_text(double v) { return v == 0 ? "0" : v == 1 ? "1" : QString::number(v, 'f', 1); }

}  // namespace

TextBoxes::TextBoxes() : outer_(current_boxes) { current_boxes = this; }
TextBoxes::~TextBoxes() { current_boxes = outer_; }

void TextBoxes::note(const QPainter& p, const QRectF& box, const QString& text) {
  for (TextBoxes* b = current_boxes; b; b = b->outer_) {
    b->boxes_.push_back(p.transform().mapRect(box));
    b->texts_.push_back(text);
  }
}

double wrapped_height(const QString& text, const QFont& font, double width) {
  return static_cast<double>(wrap_words(text, font, width).size()) * metrics(font).lineSpacing();
}

double draw_wrapped(QPainter& p, const QRectF& rect, const QString& text, QFont font, const QColor& color,
                    Qt::Alignment horizontal) {
  const double full = font.pointSizeF();
  QStringList lines = wrap_words(text, font, rect.width());
  auto widest = [&] {
    double w = 0;
    for (const QString& l : lines) w = std::max(w, metrics(font).horizontalAdvance(l));
    return w;
  };
  while ((lines.size() * metrics(font).lineSpacing() > rect.height() + 0.5 || widest() > rect.width() + 0.5) &&
         font.pointSizeF() > full * 0.5) {
    font.setPointSizeF(font.pointSizeF() * 0.94);
    lines = wrap_words(text, font, rect.width());
  }
  const QFontMetricsF fm = metrics(font);
  p.save();
  p.setFont(font);
  p.setPen(color);
  double y = rect.top();
  for (const QString& line : lines) {
    const double w = fm.horizontalAdvance(line);
    const double x = horizontal & Qt::AlignHCenter ? rect.center().x() - w / 2 : rect.left();
    const QRectF box(x, y, w, fm.height());
    p.drawText(box, Qt::AlignLeft | Qt::AlignTop | Qt::TextDontClip, line);
    TextBoxes::note(p, box, line);
    y += fm.lineSpacing();
  }
  p.restore();
  return y - rect.top();
}

void draw_line(QPainter& p, const QRectF& rect, int flags, const QString& text) {
  QFont font = p.font();
  const double full = font.pointSizeF();
  while (metrics(font).horizontalAdvance(text) > rect.width() && font.pointSizeF() > full * 0.4)
    font.setPointSizeF(font.pointSizeF() * 0.94);
  p.save();
  p.setFont(font);
  QRectF used;
  p.drawText(rect, (flags & ~Qt::TextWordWrap) | Qt::TextDontClip | Qt::TextSingleLine, text, &used);
  TextBoxes::note(p, used, text);
  p.restore();
}

void hatch(QPainter& p, const QRectF& r, const QColor& color, double spacing) {
  p.save();
  p.setClipRect(r, Qt::IntersectClip);
  p.setPen(QPen(color, std::max(1.0, spacing * 0.22)));
  for (double x = r.left() - r.height(); x < r.right(); x += spacing)
    p.drawLine(QPointF(x, r.bottom()), QPointF(x + r.height(), r.top()));
  p.restore();
}

BarLayout bar_layout(const QRectF& rect, const std::vector<TokenBar>& bars, double theta, double font_pt) {
  BarLayout lay;
  const QFont tick_font = figure_font(font_pt * 0.8), theta_font = figure_font(font_pt * 0.85, true);
  const QFontMetricsF tf = metrics(tick_font), thf = metrics(theta_font);
  const double left = tf.horizontalAdvance("0.5") + font_pt * 0.8;
  const QString theta_text = QString("θ = %1").arg(theta, 0, 'f', 3);
  const double right = thf.horizontalAdvance(theta_text) + font_pt * 1.0;
  const double top = tf.height() * 1.3;  // "|cos|" above the axis
  const double n = static_cast<double>(std::max<size_t>(bars.size(), 1));
  const double width = std::max(1.0, rect.width() - left - right);
  lay.slot = width / n;
  // Token words: level under each bar when they fit its slot, else written upwards (at most the
  // slot's width tall), and never larger than the tick type.
  lay.label_pt = font_pt * 0.8;
  double widest = 0;
  for (const TokenBar& b : bars) widest = std::max(widest, metrics(figure_font(lay.label_pt)).horizontalAdvance(b.label));
  double label_h = metrics(figure_font(lay.label_pt)).height();
  if (widest + font_pt * 0.2 > lay.slot) {
    lay.rotated = true;
    lay.label_pt = std::min(lay.label_pt, lay.slot * 0.8);
    widest = 0;
    for (const TokenBar& b : bars) widest = std::max(widest, metrics(figure_font(lay.label_pt)).horizontalAdvance(b.label));
    label_h = std::min(widest + font_pt * 0.3, rect.height() * 0.4);
  }
  const double bottom = label_h + font_pt * 0.4;
  lay.plot = QRectF(rect.left() + left, rect.top() + top, width, std::max(1.0, rect.height() - top - bottom));
  const double y_theta = lay.plot.bottom() - theta * lay.plot.height();
  lay.theta_label = QRectF(lay.plot.right() + font_pt * 0.4, y_theta - thf.height() / 2, right - font_pt * 0.4, thf.height());
  return lay;
}

BarLayout draw_token_bars(QPainter& p, const QRectF& rect, const std::vector<TokenBar>& bars, double theta,
                          double font_pt) {
  const BarLayout lay = bar_layout(rect, bars, theta, font_pt);
  const QRectF& a = lay.plot;
  auto py = [&](double v) { return a.bottom() - std::clamp(v, 0.0, 1.0) * a.height(); };
  p.save();
  // Grid and y axis: 0, 0.5, 1; "|cos|" above it (level, so it is never clipped or broken).
  p.setFont(figure_font(font_pt * 0.8));
  const QFontMetricsF tf = metrics(p.font());
  for (double v : {0.0, 0.5, 1.0}) {
    p.setPen(QPen(kGrid, 1));
    p.drawLine(QPointF(a.left(), py(v)), QPointF(a.right(), py(v)));
    p.setPen(kInk);
    draw_line(p, QRectF(rect.left(), py(v) - tf.height() / 2, a.left() - rect.left() - font_pt * 0.3, tf.height()),
              Qt::AlignRight | Qt::AlignVCenter, tick_text(v));
  }
  p.setPen(kInk);
  draw_line(p, QRectF(rect.left(), rect.top(), rect.width() * 0.5, tf.height()), Qt::AlignLeft | Qt::AlignTop, "|cos|");
  p.setPen(QPen(kInk, 1.2));
  p.drawLine(a.bottomLeft(), a.topLeft());
  p.drawLine(a.bottomLeft(), a.bottomRight());
  // Bars and the words under them.
  const double bw = std::max(1.0, lay.slot * 0.72);
  const QFont label_font = figure_font(lay.label_pt);
  const QFontMetricsF lf = metrics(label_font);
  for (size_t i = 0; i < bars.size(); ++i) {
    const TokenBar& b = bars[i];
    const double cx = a.left() + (static_cast<double>(i) + 0.5) * lay.slot;
    if (std::isfinite(b.value)) {
      const QRectF bar(QPointF(cx - bw / 2, py(b.value)), QPointF(cx + bw / 2, a.bottom()));
      p.fillRect(bar, b.color);
      if (b.hatch) hatch(p, bar, Qt::white, std::max(4.0, bw * 0.35));
    }
    p.setFont(label_font);
    p.setPen(kInk);
    // Under a paper's type floor words bigger than their slot would overlap: bars alone then.
    if (lay.rotated && TypeFloor::current() > lay.label_pt + 1e-9) continue;
    if (lay.rotated) {
      p.save();
      p.translate(cx, a.bottom() + font_pt * 0.25);
      p.rotate(-90);
      // Upwards text ending at the axis: in rotated coordinates it runs leftwards from 0.
      const double room = rect.bottom() - a.bottom() - font_pt * 0.25;
      draw_line(p, QRectF(-room, -lf.height() / 2, room, lf.height()), Qt::AlignRight | Qt::AlignVCenter, b.label);
      p.restore();
    } else {
      draw_line(p, QRectF(cx - lay.slot / 2, a.bottom() + font_pt * 0.25, lay.slot, lf.height()),
                Qt::AlignHCenter | Qt::AlignTop, b.label);
    }
  }
  // θ: a dashed line across the plot and its label in the right margin, beside the last bar.
  p.setPen(QPen(kInk, std::max(1.5, font_pt * 0.08), Qt::DashLine));
  p.drawLine(QPointF(a.left(), py(theta)), QPointF(a.right(), py(theta)));
  p.setFont(figure_font(font_pt * 0.85, true));
  p.setPen(kInk);
  draw_line(p, lay.theta_label, Qt::AlignLeft | Qt::AlignVCenter, QString("θ = %1").arg(theta, 0, 'f', 3));
  p.restore();
  return lay;
}

}  // namespace cascade::widgets::teach
