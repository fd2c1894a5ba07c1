// Status colours under colour-vision deficiency. A simulation (Machado, Oliveira & Fernandes 2009,
// severity 1, applied in linear RGB) of the token map as rendered shows that colour alone merges
// cascade-removed with missed and cascade-added with extra for deuteranopes and protanopes; the
// second channel, hatching, keeps them apart: removed and extra cells are striped (removed rising,
// extra falling), missed and added ones flat. CASCADE_SHOTS_DIR=dir keeps the simulated images.
#include <QDir>
#include <QImage>

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <map>

#include "core/token_status.h"
#include "fixtures.h"
#include "widgets/figures/token_map.h"
#include "widgets/figures/method_view.h"
#include "widgets/palette.h"
#include "widgets/render.h"

namespace cascade::widgets {
namespace {

using Matrix = std::array<std::array<double, 3>, 3>;
const Matrix kProtanopia = {{{0.152286, 1.052583, -0.204868}, {0.114503, 0.786281, 0.099216}, {-0.003882, -0.048116, 1.051998}}};
const Matrix kDeuteranopia = {{{0.367322, 0.860646, -0.227968}, {0.280085, 0.672501, 0.047413}, {-0.011820, 0.042940, 0.968881}}};

double to_linear(int c) {
  const double v = c / 255.0;
  return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
}
int to_srgb(double v) {
  v = std::clamp(v, 0.0, 1.0);
  return static_cast<int>(std::lround(255.0 * (v <= 0.0031308 ? v * 12.92 : 1.055 * std::pow(v, 1 / 2.4) - 0.055)));
}

QRgb simulate(QRgb c, const Matrix& m) {
  const double rgb[3] = {to_linear(qRed(c)), to_linear(qGreen(c)), to_linear(qBlue(c))};
  int out[3];
  for (int i = 0; i < 3; ++i) out[i] = to_srgb(m[i][0] * rgb[0] + m[i][1] * rgb[1] + m[i][2] * rgb[2]);
  return qRgb(out[0], out[1], out[2]);
}

QImage simulate(const QImage& image, const Matrix& m) {
  QImage out = image.convertToFormat(QImage::Format_RGB32);
  for (int y = 0; y < out.height(); ++y) {
    auto* row = reinterpret_cast<QRgb*>(out.scanLine(y));
    for (int x = 0; x < out.width(); ++x) row[x] = simulate(row[x], m);
  }
  return out;
}

// CIELAB (D65) of a linear-RGB triple.
std::array<double, 3> lab_of_linear(const std::array<double, 3>& c) {
  const double x = 0.4124 * c[0] + 0.3576 * c[1] + 0.1805 * c[2], y = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2],
               z = 0.0193 * c[0] + 0.1192 * c[1] + 0.9505 * c[2];
  auto f = [](double t) { return t > 216.0 / 24389 ? std::cbrt(t) : (24389.0 / 27 * t + 16) / 116; };
  const double fx = f(x / 0.95047), fy = f(y), fz = f(z / 1.08883);
  return {116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)};
}
std::array<double, 3> lab(QRgb c, const Matrix* m = nullptr) {
  std::array<double, 3> l = {to_linear(qRed(c)), to_linear(qGreen(c)), to_linear(qBlue(c))};
  if (m) {
    std::array<double, 3> s;
    for (int i = 0; i < 3; ++i) s[i] = std::clamp((*m)[i][0] * l[0] + (*m)[i][1] * l[1] + (*m)[i][2] * l[2], 0.0, 1.0);
    l = s;
  }
  return lab_of_linear(l);
}
double hue_deg(const std::array<double, 3>& l) { return std::atan2(l[2], l[1]) * 180 / M_PI; }
double chroma_distance(const std::array<double, 3>& a, const std::array<double, 3>& b) {
  return std::hypot(a[1] - b[1], a[2] - b[2]);
}

double distance(QRgb a, QRgb b) {
  return std::hypot(qRed(a) - qRed(b), qGreen(a) - qGreen(b), qBlue(a) - qBlue(b));
}

// Inside one cell (its middle half): how striped it is, and along which diagonal the stripes run
// (the mean step between neighbours up-right vs down-right: stripes change least along themselves).
struct Texture {
  double spread = 0;        // standard deviation of grey
  double rising_step = 0;   // mean |grey(x, y) − grey(x + 1, y − 1)|
  double falling_step = 0;  // mean |grey(x, y) − grey(x + 1, y + 1)|
};

Texture texture(const QImage& img, const QRect& r) {
  Texture t;
  double sum = 0, sum2 = 0;
  int n = 0, m = 0;
  for (int y = r.top() + 1; y < r.bottom(); ++y)
    for (int x = r.left(); x < r.right(); ++x) {
      const double g = qGray(img.pixel(x, y));
      sum += g, sum2 += g * g, ++n;
      t.rising_step += std::abs(g - qGray(img.pixel(x + 1, y - 1)));
      t.falling_step += std::abs(g - qGray(img.pixel(x + 1, y + 1)));
      ++m;
    }
  t.spread = std::sqrt(std::max(0.0, sum2 / n - (sum / n) * (sum / n)));
  t.rising_step /= m;
  t.falling_step /= m;
  return t;
}

TEST(ColourVision, HatchingKeepsRemovedFromMissedAndAddedFromExtraWhereColourMerges) {
  // The colour pairs really do merge. Removed and missed (vermillion, orange) differ in hue by
  // about 22° in full colour but take one hue under both simulations (within 3°): only lightness
  // is left between them. Added and extra (bluish green, reddish purple) keep less than half their
  // a*b* (hue and chroma) distance.
  for (const auto& [name, m] : {std::pair{"protanopia", &kProtanopia}, std::pair{"deuteranopia", &kDeuteranopia}}) {
    SCOPED_TRACE(name);
    const QRgb removed = status_color(TokenStatus::Removed).rgb(), missed = status_color(TokenStatus::Missed).rgb();
    EXPECT_GT(std::abs(hue_deg(lab(removed)) - hue_deg(lab(missed))), 10.0);
    EXPECT_LT(std::abs(hue_deg(lab(removed, m)) - hue_deg(lab(missed, m))), 3.0);
    const QRgb added = status_color(TokenStatus::Added).rgb(), extra = status_color(TokenStatus::Extra).rgb();
    const double full = chroma_distance(lab(added), lab(extra)), seen = chroma_distance(lab(added, m), lab(extra, m));
    EXPECT_LT(seen, 0.5 * full) << "added vs extra: a*b* distance " << seen << " of " << full;
  }
  // A run whose layer shows all four statuses on their own (no second status on the cell).
  std::shared_ptr<const RunSnapshot> run;
  int64_t layer = -1;
  for (double tau : {0.3, 0.4, 0.2, 0.5})
    for (Rule rule : {Rule::GreedyCover, Rule::PriorMax}) {
      if (layer >= 0) break;
      auto snap = RunSnapshot::derive(testing::synthetic_data(6, 120), tau, rule);
      for (int64_t l = 1; l < snap->L() && layer < 0; ++l) {
        std::map<TokenStatus, int> seen;
        for (int64_t t = 0; t < snap->T(); ++t)
          if (snap->also(l, t) == TokenStatus::Redundant) ++seen[snap->status(l, t)];
        if (seen[TokenStatus::Removed] && seen[TokenStatus::Missed] && seen[TokenStatus::Added] && seen[TokenStatus::Extra])
          run = snap, layer = l;
      }
    }
  ASSERT_GE(layer, 0) << "no synthetic layer shows removed, missed, added and extra";
  // A 40-token window holding all four (the first such).
  const int64_t window = 40;
  int64_t first = -1;
  for (int64_t s = 0; s + window <= run->T() && first < 0; ++s) {
    std::map<TokenStatus, int> seen;
    for (int64_t t = s; t < s + window; ++t)
      if (run->also(layer, t) == TokenStatus::Redundant) ++seen[run->status(layer, t)];
    if (seen[TokenStatus::Removed] && seen[TokenStatus::Missed] && seen[TokenStatus::Added] && seen[TokenStatus::Extra]) first = s;
  }
  ASSERT_GE(first, 0) << "no 40-token window shows all four statuses";
  // The token map, one layer, big cells: 4× a 500 × 160 pt page.
  const TokenMapFigure map;
  FigureState state;
  state.layer = layer;
  state.highlight = false;
  state.layers = Span{layer, layer + 1};
  state.tokens = Span{first, first + window};
  const double scale = 4;
  const QImage image = render_figure(map, *run, state, QSizeF(500, 160), scale);
  // Each token's cell, from the figure's own hit test (points), then in image pixels.
  const QRectF page(0, 0, 500, 160);
  std::map<int64_t, QRectF> cell;
  for (double y = 0; y < page.height(); y += 0.5)
    for (double x = 0; x < page.width(); x += 0.25) {
      const Hit h = map.hit(page, *run, state, QPointF(x, y));
      if (h.layer != layer || h.token < 0) continue;
      QRectF& c = cell[h.token];
      c = c.isNull() ? QRectF(x, y, 0.25, 0.5) : c.united(QRectF(x, y, 0.25, 0.5));
    }
  ASSERT_EQ(cell.size(), static_cast<size_t>(window));
  const QString shots = qEnvironmentVariable("CASCADE_SHOTS_DIR");
  for (const auto& [name, m] : {std::pair{"protanopia", kProtanopia}, std::pair{"deuteranopia", kDeuteranopia}}) {
    SCOPED_TRACE(name);
    const QImage seen = simulate(image, m);
    if (!shots.isEmpty()) {
      QDir().mkpath(shots);
      image.save(QDir(shots).filePath("token-map-colour.png"));
      seen.save(QDir(shots).filePath(QString("token-map-%1.png").arg(name)));
    }
    std::map<TokenStatus, std::vector<Texture>> by_status;
    for (int64_t t = first; t < first + window; ++t) {
      if (run->also(layer, t) != TokenStatus::Redundant) continue;
      const QRectF c = cell.at(t);
      const QRect px =  // the cell's middle half, in pixels
          QRectF((c.x() + c.width() / 4) * scale, (c.y() + c.height() / 4) * scale, c.width() / 2 * scale, c.height() / 2 * scale)
              .toRect();
      ASSERT_GT(px.width(), 6) << "cells too small to measure";
      by_status[run->status(layer, t)].push_back(texture(seen, px));
    }
    for (TokenStatus s : {TokenStatus::Removed, TokenStatus::Missed, TokenStatus::Added, TokenStatus::Extra}) {
      SCOPED_TRACE(status_name(s));
      ASSERT_FALSE(by_status[s].empty()) << "not in the window";
      for (const Texture& t : by_status[s]) {
        if (s == TokenStatus::Missed || s == TokenStatus::Added) {
          EXPECT_LT(t.spread, 3.0);  // flat
        } else {
          EXPECT_GT(t.spread, 12.0);  // striped
          // Removed rising (/), extra falling (\): each is smoothest along its own direction.
          if (s == TokenStatus::Removed) EXPECT_LT(t.rising_step * 2, t.falling_step);
          else EXPECT_LT(t.falling_step * 2, t.rising_step);
        }
      }
    }
  }
}

// The method picker's colours (kept / not kept; A only / B only / both / neither) stay apart for
// normal vision and under protanopia and deuteranopia: every pair at least ΔE 20 in CIELAB
// (tokens of the difference view are judged by colour alone: no hatching).
TEST(ColourVision, MethodMembershipColoursStayApart) {
  const std::array<Membership, 4> all = {Membership::AOnly, Membership::BOnly, Membership::Both, Membership::Neither};
  for (const Matrix* m : {static_cast<const Matrix*>(nullptr), &kProtanopia, &kDeuteranopia}) {
    SCOPED_TRACE(m == nullptr ? "normal" : m == &kProtanopia ? "protanopia" : "deuteranopia");
    for (size_t i = 0; i < all.size(); ++i)
      for (size_t j = i + 1; j < all.size(); ++j) {
        const auto a = lab(membership_color(all[i], true).rgb(), m), b = lab(membership_color(all[j], true).rgb(), m);
        EXPECT_GT(std::hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]), 20.0) << i << " vs " << j;
      }
    const auto kept = lab(membership_color(Membership::Both, false).rgb(), m);
    const auto not_kept = lab(membership_color(Membership::Neither, false).rgb(), m);
    EXPECT_GT(std::abs(kept[0] - not_kept[0]), 30.0);  // kept vs not kept: lightness alone (greyscale prints)
  }
}

}  // namespace
}  // namespace cascade::widgets
