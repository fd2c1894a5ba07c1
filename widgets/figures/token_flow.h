#pragma once
// Tokens laid out as chips flowing like text, or as a grid of cells when they do not fit: shared by
// the depth player and the teaching figure.
#include <QRectF>
#include <QString>

#include <string>
#include <vector>

#include "core/snapshot.h"

namespace cascade::widgets {

// A token as a chip shows it: newlines ↵, tabs ⇥, an all-blank token ␣, pieces longer than
// max_chars cut with an ellipsis (a leading space is the chip's own gap).
QString token_label(const std::string& token, int max_chars);

// Flows every token's chip (text at font_pt plus padding) through `body`, line by line. Returns
// false when they do not all fit (cells then hold a partial layout).
// With first/last, only tokens first..last−1 (last −1: to the end); cells[i] is token first + i.
bool flow_chips(const RunSnapshot& run, const QRectF& body, double font_pt, int max_chars, std::vector<QRectF>& cells,
                int64_t first = 0, int64_t last = -1);

// A row-major grid of square cells, the largest that fits `body` for T of them.
struct Grid {
  int64_t cols = 1;
  double side = 1;
};
Grid grid_cells(const QRectF& body, int64_t T, std::vector<QRectF>& cells);

}  // namespace cascade::widgets
