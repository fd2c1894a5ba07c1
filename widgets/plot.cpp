#include "widgets/plot.h"

#include <QFontMetricsF>

#include <algorithm>
#include <cmath>

#include "widgets/palette.h"

namespace cascade::widgets {

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (hi < lo) std::swap(lo, hi);
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return {lo};
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  const double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  std::vector<double> out;
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
    out.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  return out;
}

QString tick_label(double v, double step) {
  const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  if (std::abs(v) >= 1e5) return QString::number(v, 'g', 3);
  return QString::number(v, 'f', std::clamp(decimals, 0, 4));
}

void draw_hatch(QPainter& p, const QPainterPath& region, double spacing, bool rising, const QColor& color,
                double width) {
  if (region.isEmpty() || !(spacing > 0)) return;
  const QRectF box = region.boundingRect();
  p.save();
  p.setClipPath(region, Qt::IntersectClip);
  p.setPen(QPen(color, width, Qt::SolidLine, Qt::FlatCap));
  // Lines at 45°: x − y = c (falling) or x + y = c (rising), every `spacing`·√2 along x.
  const double step = spacing * std::sqrt(2.0), h = box.height();
  const double start = std::floor((rising ? box.left() + box.top() : box.left() - box.bottom()) / step) * step;
  const double stop = rising ? box.right() + box.bottom() : box.right() - box.top();
  for (double c = start; c <= stop + step; c += step) {
    if (rising) p.drawLine(QPointF(c - box.top(), box.top()), QPointF(c - box.bottom(), box.bottom()));
    else p.drawLine(QPointF(c + box.bottom() - h, box.top()), QPointF(c + box.bottom(), box.bottom()));
  }
  p.restore();
}

QImage crisp(const QImage& img) {
  const int k = std::max(1, 1024 / std::max(1, std::max(img.width(), img.height())));
  return k == 1 ? img : img.scaled(img.width() * k, img.height() * k, Qt::IgnoreAspectRatio, Qt::FastTransformation);
}

void draw_cells(QPainter& p, const QRectF& area, int64_t rows, int64_t cols, const std::vector<QRgb>& colors,
                int64_t max_rects) {
  if (rows <= 0 || cols <= 0) return;
  int64_t runs = 0;
  for (int64_t r = 0; r < rows && runs <= max_rects; ++r)
    for (int64_t c = 0; c < cols; ++c) runs += c == 0 || colors[r * cols + c] != colors[r * cols + c - 1];
  const double cw = area.width() / static_cast<double>(cols), ch = area.height() / static_cast<double>(rows);
  p.save();
  if (runs <= max_rects) {
    p.setRenderHint(QPainter::Antialiasing, false);
    p.setPen(Qt::NoPen);
    const double seam = 0.15;  // a hair of overlap so viewers show no gaps between cells
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c0 = 0; c0 < cols;) {
        int64_t c1 = c0 + 1;
        while (c1 < cols && colors[r * cols + c1] == colors[r * cols + c0]) ++c1;
        p.fillRect(QRectF(area.left() + c0 * cw, area.top() + r * ch, (c1 - c0) * cw + seam, ch + seam),
                   QColor::fromRgb(colors[r * cols + c0]));
        c0 = c1;
      }
  } else {
    QImage img(static_cast<int>(cols), static_cast<int>(rows), QImage::Format_RGB32);
    for (int64_t r = 0; r < rows; ++r)
      std::copy(colors.begin() + r * cols, colors.begin() + (r + 1) * cols, reinterpret_cast<QRgb*>(img.scanLine(static_cast<int>(r))));
    p.setRenderHint(QPainter::SmoothPixmapTransform, false);
    p.drawImage(area, crisp(img));
  }
  p.restore();
}

void draw_colorbar(QPainter& p, const QRectF& bar, const std::vector<double>& ticks, int decimals, const QString& label,
                   double font_pt) {
  const double f = font_pt;
  const int steps = 64;
  for (int k = 0; k < steps; ++k) {
    const double h = bar.height() / steps;
    p.fillRect(QRectF(bar.left(), bar.bottom() - (k + 1) * h, bar.width(), h + 0.5), viridis((k + 0.5) / steps));
  }
  p.setPen(QPen(kInk, 0.8));
  p.setBrush(Qt::NoBrush);
  p.drawRect(bar);
  p.setFont(figure_font(f * 0.85));
  for (double v : ticks) {
    const double y = bar.bottom() - v * bar.height();
    p.drawLine(QPointF(bar.right(), y), QPointF(bar.right() + f * 0.3, y));
    p.drawText(QRectF(bar.right() + f * 0.5, y - f * 0.8, f * 3, f * 1.6), Qt::AlignLeft | Qt::AlignVCenter,
               QString::number(v, 'f', decimals));
  }
  p.save();
  p.translate(bar.right() + f * 4.4, bar.center().y());
  p.rotate(90);
  draw_rich(p, QRectF(-bar.height() / 2, -f * 0.8, bar.height(), f * 1.6), Qt::AlignCenter, label, p.font());
  p.restore();
}

namespace {

struct RichPiece {
  QString text;
  int kind = 0;  // 0 plain, 1 subscript, 2 superscript
};

std::vector<RichPiece> rich_pieces(const QString& text) {
  std::vector<RichPiece> out;
  QString plain;
  for (qsizetype i = 0; i < text.size(); ++i) {
    const QChar c = text[i];
    if ((c == '_' || c == '^') && i + 1 < text.size() && text[i + 1] == '{') {
      const qsizetype close = text.indexOf('}', i + 2);
      if (close > i) {
        if (!plain.isEmpty()) out.push_back({plain, 0}), plain.clear();
        out.push_back({text.mid(i + 2, close - i - 2), c == '_' ? 1 : 2});
        i = close;
        continue;
      }
    }
    plain += c;
  }
  if (!plain.isEmpty()) out.push_back({plain, 0});
  return out;
}

QFont script_font(const QFont& font) {
  return figure_font(font.pointSizeF() * 0.72, font.bold());
}

// Lays the pieces out (drawing them when p is given); returns the advance.
double layout_rich(QPainter* p, QPointF at, const QString& text, const QFont& font) {
  const auto pieces = rich_pieces(text);
  const QFont small = script_font(font);
  const QFontMetricsF fm = figure_metrics(font), fs = figure_metrics(small);
  const double size = font.pointSizeF();
  double x = at.x();
  for (size_t k = 0; k < pieces.size(); ++k) {
    const RichPiece& piece = pieces[k];
    if (piece.kind == 0) {
      if (p) p->setFont(font), p->drawText(QPointF(x, at.y()), piece.text);
      x += fm.horizontalAdvance(piece.text);
      continue;
    }
    // A script, and the other script right after it stacked at the same x.
    const bool stacked = k + 1 < pieces.size() && pieces[k + 1].kind != 0 && pieces[k + 1].kind != piece.kind;
    double w = 0;
    for (size_t j = k; j <= (stacked ? k + 1 : k); ++j) {
      const double dy = pieces[j].kind == 1 ? size * 0.28 : -size * 0.40;
      if (p) p->setFont(small), p->drawText(QPointF(x, at.y() + dy), pieces[j].text);
      w = std::max(w, fs.horizontalAdvance(pieces[j].text));
    }
    if (stacked) ++k;
    x += w + size * 0.05;
  }
  return x - at.x();
}

}  // namespace

double rich_width(const QString& text, const QFont& font) { return layout_rich(nullptr, {}, text, font); }

double draw_rich(QPainter& p, QPointF at, const QString& text, const QFont& font) {
  p.save();
  const double w = layout_rich(&p, at, text, font);
  p.restore();
  return w;
}

void draw_rich(QPainter& p, const QRectF& rect, int flags, const QString& text, const QFont& font) {
  const QFontMetricsF fm = figure_metrics(font);
  const double w = rich_width(text, font);
  const double x = flags & Qt::AlignHCenter ? rect.center().x() - w / 2 : flags & Qt::AlignRight ? rect.right() - w : rect.left();
  const double y = flags & Qt::AlignTop      ? rect.top() + fm.ascent()
                   : flags & Qt::AlignBottom ? rect.bottom() - fm.descent()
                                             : rect.center().y() + (fm.ascent() - fm.descent()) / 2;
  draw_rich(p, QPointF(x, y), text, font);
}

namespace {
double left_margin(double f) { return f * 6.6; }
double right_margin(double f, bool right_axis) { return right_axis ? f * 6.6 : f * 2.0; }  // room for a last x tick
double bottom_margin(double f) { return f * 3.6; }
}  // namespace

QStringList wrap_words(const QString& text, const QFont& font, double width) {
  const QFontMetricsF fm = figure_metrics(font);
  QStringList lines;
  for (const QString& paragraph : text.split('\n')) {
    QString line;
    for (const QString& word : paragraph.split(' ', Qt::SkipEmptyParts)) {
      const QString tried = line.isEmpty() ? word : line + ' ' + word;
      if (!line.isEmpty() && fm.horizontalAdvance(tried) > width) {
        lines << line;
        line = word;
      } else {
        line = tried;
      }
    }
    lines << line;
  }
  return lines;
}

namespace {
// "τ = 0.30", "T = 144" and "47.9 %" stay on one line.
QString keep_together(QString text) {
  const QChar nb(0xA0);
  return text.replace(" = ", QString(nb) + '=' + nb).replace(" %", QString(nb) + '%');
}
}  // namespace

double title_height(double width, const QString& title, double font_pt) {
  if (title.isEmpty()) return 0;
  const QFont font = figure_font(font_pt * 1.1, true);
  return static_cast<double>(wrap_words(keep_together(title), font, width - font_pt).size()) * figure_metrics(font).lineSpacing() +
         font_pt * 0.7;
}

void draw_title(QPainter& p, const QRectF& rect, const QString& title, double font_pt) {
  if (title.isEmpty()) return;
  const QFont font = figure_font(font_pt * 1.1, true);
  const QFontMetricsF fm = figure_metrics(font);
  p.save();
  p.setFont(font);
  p.setPen(kInk);
  double y = rect.top() + font_pt * 0.35;
  for (const QString& line : wrap_words(keep_together(title), font, rect.width() - font_pt)) {
    draw_rich(p, QPointF(rect.left() + font_pt * 0.5, y + fm.ascent()), line, font);
    y += fm.lineSpacing();
  }
  p.restore();
}

QRectF inner_area(const QRectF& rect, double font_pt, bool right_axis, const QString& title, double below) {
  const double top = title.isEmpty() ? font_pt * 0.8 : title_height(rect.width(), title, font_pt) + font_pt * 0.5;
  return rect.adjusted(left_margin(font_pt), top, -right_margin(font_pt, right_axis), -bottom_margin(font_pt) - below);
}

double plot_page_height(double width, double font_pt, bool right_axis, const QString& title, double plot_aspect,
                        double below, double min_plot) {
  const double plot_w = std::max(font_pt * 4, width - left_margin(font_pt) - right_margin(font_pt, right_axis));
  const double top = title.isEmpty() ? font_pt * 0.8 : title_height(width, title, font_pt) + font_pt * 0.5;
  return top + std::max({font_pt * 10, min_plot, plot_w * plot_aspect}) + bottom_margin(font_pt) + below;
}

void draw_axes(QPainter& p, const Axes& a, const QString& x_label, const QString& y_label, double font_pt,
               bool integer_x, bool grid, bool integer_y) {
  p.save();
  p.setFont(figure_font(font_pt));
  const QFontMetricsF fm(p.font());
  auto keep_integers = [](std::vector<double>& ticks) {  // layer and token axes: no 2.5
    std::erase_if(ticks, [](double v) { return std::abs(v - std::round(v)) >= 1e-9; });
  };
  auto xt = nice_ticks(a.x0, a.x1, std::max(2, static_cast<int>(a.area.width() / (font_pt * 6))));
  if (integer_x) keep_integers(xt);
  auto yt = nice_ticks(a.y0, a.y1, std::max(2, static_cast<int>(a.area.height() / (font_pt * 3))));
  if (integer_y) keep_integers(yt);
  const double xstep = xt.size() > 1 ? xt[1] - xt[0] : 1, ystep = yt.size() > 1 ? yt[1] - yt[0] : 1;
  p.setPen(QPen(kGrid, 0.5));
  if (grid)
    for (double v : yt) p.drawLine(QPointF(a.area.left(), a.py(v)), QPointF(a.area.right(), a.py(v)));
  p.setPen(QPen(kInk, 0.8));
  p.setBrush(Qt::NoBrush);
  p.drawRect(a.area);
  const double tick = font_pt * 0.35;
  for (double v : xt) {
    const double x = a.px(v);
    p.drawLine(QPointF(x, a.area.bottom()), QPointF(x, a.area.bottom() + tick));
    p.drawText(QRectF(x - font_pt * 4, a.area.bottom() + tick, font_pt * 8, fm.height()), Qt::AlignHCenter | Qt::AlignTop,
               tick_label(v, xstep));
  }
  for (double v : yt) {
    const double y = a.py(v);
    p.drawLine(QPointF(a.area.left() - tick, y), QPointF(a.area.left(), y));
    p.drawText(QRectF(a.area.left() - tick - font_pt * 6 - 2, y - fm.height() / 2, font_pt * 6, fm.height()),
               Qt::AlignRight | Qt::AlignVCenter, tick_label(v, ystep));
  }
  draw_rich(p, QRectF(a.area.left(), a.area.bottom() + tick + fm.height(), a.area.width(), fm.height() * 1.4),
            Qt::AlignHCenter | Qt::AlignVCenter, x_label, p.font());
  p.translate(a.area.left() - font_pt * 5.2, a.area.center().y());
  p.rotate(-90);
  draw_rich(p, QRectF(-a.area.height() / 2, -fm.height(), a.area.height(), fm.height() * 1.4),
            Qt::AlignHCenter | Qt::AlignVCenter, y_label, p.font());
  p.restore();
}

void draw_right_axis(QPainter& p, const Axes& a, const QString& label, double font_pt) {
  p.save();
  p.setFont(figure_font(font_pt));
  const QFontMetricsF fm(p.font());
  const auto yt = nice_ticks(a.y0, a.y1, std::max(2, static_cast<int>(a.area.height() / (font_pt * 3))));
  const double ystep = yt.size() > 1 ? yt[1] - yt[0] : 1, tick = font_pt * 0.35;
  p.setPen(QPen(kInk, 0.8));
  for (double v : yt) {
    const double y = a.py(v);
    p.drawLine(QPointF(a.area.right(), y), QPointF(a.area.right() + tick, y));
    p.drawText(QRectF(a.area.right() + tick + 2, y - fm.height() / 2, font_pt * 6, fm.height()),
               Qt::AlignLeft | Qt::AlignVCenter, tick_label(v, ystep));
  }
  p.translate(a.area.right() + font_pt * 5.2, a.area.center().y());
  p.rotate(90);
  draw_rich(p, QRectF(-a.area.height() / 2, -fm.height(), a.area.height(), fm.height() * 1.4),
            Qt::AlignHCenter | Qt::AlignVCenter, label, p.font());
  p.restore();
}

namespace {

// Lays the legend out (and draws it when p is given): one place for the size and the drawing.
QSizeF layout_legend(QPainter* p, QPointF origin, const std::vector<LegendEntry>& entries, double font_pt,
                     double max_width) {
  const QFont font = figure_font(font_pt * 0.9);
  if (p) {
    p->save();
    p->setFont(font);
  }
  // The painter's own metrics where there is one (its device's resolution), the font's otherwise.
  const QFontMetricsF fm = figure_metrics(font);
  const double h = fm.height(), swatch = font_pt * 1.6, line_gap = font_pt * 0.35;
  double x = origin.x(), y = origin.y(), widest = 0;
  for (const auto& e : entries) {
    const double w = swatch + font_pt * 0.4 + rich_width(e.label, font);
    if (max_width > 0 && x > origin.x() && x + w > origin.x() + max_width) {
      widest = std::max(widest, x - font_pt * 1.2 - origin.x());
      x = origin.x();
      y += h + line_gap;
    }
    if (p) {
      const double cy = y + h / 2;
      const QRectF square(x, cy - font_pt * 0.45, swatch * 0.6, font_pt * 0.9);
      if (e.swatch) {
        e.swatch(*p, square);
      } else if (e.line) {
        p->setPen(QPen(e.color, 1.6, e.style));
        p->drawLine(QPointF(x, cy), QPointF(x + swatch, cy));
      } else {
        p->setPen(Qt::NoPen);
        p->setBrush(e.color);
        p->drawRect(square);
      }
      p->setPen(kInk);
      draw_rich(*p, QPointF(x + swatch + font_pt * 0.4, y + fm.ascent()), e.label, font);
    }
    x += w + font_pt * 1.2;
  }
  if (p) p->restore();
  widest = std::max(widest, x - font_pt * 1.2 - origin.x());
  return {widest, y + h - origin.y()};
}

}  // namespace

QSizeF draw_legend(QPainter& p, QPointF origin, const std::vector<LegendEntry>& entries, double font_pt,
                   double max_width) {
  return layout_legend(&p, origin, entries, font_pt, max_width);
}

QSizeF legend_size(const std::vector<LegendEntry>& entries, double font_pt, double max_width) {
  return layout_legend(nullptr, {}, entries, font_pt, max_width);
}

void draw_layer_series(QPainter& p, const Axes& a, const std::vector<std::optional<double>>& ys, const QColor& color,
                 Qt::PenStyle style, bool markers) {
  p.setPen(QPen(color, 1.6, style));
  p.setBrush(Qt::NoBrush);
  std::optional<QPointF> last;
  for (size_t i = 0; i < ys.size(); ++i) {
    if (!ys[i]) {
      last.reset();
      continue;
    }
    const QPointF pt(a.px(static_cast<double>(i)), a.py(*ys[i]));
    if (last) p.drawLine(*last, pt);
    last = pt;
  }
  if (!markers) return;
  p.setPen(QPen(color, 1.2));
  p.setBrush(Qt::white);
  for (size_t i = 0; i < ys.size(); ++i)
    if (ys[i]) p.drawEllipse(QPointF(a.px(static_cast<double>(i)), a.py(*ys[i])), 2.2, 2.2);
}

void mark_layer(QPainter& p, const Axes& a, int64_t layer) {
  if (layer < 0) return;  // nothing selected, or --no-highlight
  p.setPen(QPen(okabe_ito::vermillion, 1.0, Qt::DotLine));
  p.drawLine(QPointF(a.px(static_cast<double>(layer)), a.area.top()), QPointF(a.px(static_cast<double>(layer)), a.area.bottom()));
}

int64_t layer_at(const Axes& a, QPointF pos, int64_t L) {
  return std::clamp<int64_t>(static_cast<int64_t>(std::lround(a.x_of(pos.x()))), 0, L - 1);
}

}  // namespace cascade::widgets
