#include "widgets/figures/token_flow.h"

#include <QFontMetricsF>

#include <algorithm>
#include <cmath>

#include "widgets/palette.h"

namespace cascade::widgets {

QString token_label(const std::string& token, int max_chars) {
  QString s = QString::fromStdString(token);
  s.replace('\n', QChar(0x21B5));
  s.replace('\t', QChar(0x21E5));
  if (s.trimmed().isEmpty()) s = QString(QChar(0x2423));
  if (s.size() > max_chars) s = s.left(max_chars - 2) + QChar(0x2026);
  return s;
}

bool flow_chips(const RunSnapshot& run, const QRectF& body, double font_pt, int max_chars, std::vector<QRectF>& cells,
                int64_t first, int64_t last) {
  const QFontMetricsF fm(figure_font(font_pt));
  const double pad = font_pt * 0.35, h = fm.height() + pad, gap = font_pt * 0.22;
  if (last < 0) last = run.T();
  const int64_t T = last - first;
  cells.resize(T);
  double x = body.left(), y = body.top();
  for (int64_t t = 0; t < T; ++t) {
    const double w = fm.horizontalAdvance(token_label(run.token(first + t), max_chars)) + 2 * pad;
    if (x + w > body.right() && x > body.left()) x = body.left(), y += h + gap;
    if (y + h > body.bottom()) return false;
    cells[t] = QRectF(x, y, std::min(w, body.width()), h);
    x += w + gap;
  }
  return true;
}

Grid grid_cells(const QRectF& body, int64_t T, std::vector<QRectF>& cells) {
  Grid g;
  g.side = std::sqrt(body.width() * body.height() / static_cast<double>(std::max<int64_t>(T, 1)));
  g.cols = std::max<int64_t>(1, static_cast<int64_t>(body.width() / g.side));
  while (g.cols * static_cast<int64_t>(body.height() / g.side) < T && g.side > 0.05) {
    g.side *= 0.97;
    g.cols = std::max<int64_t>(1, static_cast<int64_t>(body.width() / g.side));
  }
  cells.resize(T);
  for (int64_t t = 0; t < T; ++t)
    cells[t] = QRectF(body.left() + (t % g.cols) * g.side, body.top() + (t / g.cols) * g.side, g.side, g.side);
  return g;
}

}  // namespace cascade::widgets
