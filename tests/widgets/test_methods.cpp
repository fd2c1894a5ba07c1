// SPEC §7 in the GUI: the method picker recolours the depth player and the token map by a method's
// set (kept / not kept) or two methods' difference (A only / B only / both / neither); the Methods
// figure draws one series per method with the comparison's values; the trade-off figure rings the
// current τ; the Methods dock computes in the background, and a saved session keeps the comparisons.
#include <QComboBox>
#include <QDir>
#include <QSignalSpy>
#include <QTemporaryDir>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/baselines.h"
#include "core/synthetic.h"
#include "data/formats/activation_io.h"
#include "gui/methods_panel.h"
#include "widgets/figure_view.h"
#include "widgets/figures/depth_player.h"
#include "widgets/figures/method_view.h"
#include "widgets/figures/methods.h"
#include "widgets/figures/token_map.h"
#include "widgets/figures/tradeoff.h"
#include "widgets/fixtures.h"
#include "widgets/palette.h"
#include "widgets/render.h"

namespace cascade::widgets {
namespace {

bool in(const TokenList& s, int64_t t) { return std::binary_search(s.begin(), s.end(), t); }

int colour_off(const QColor& got, const QColor& want) {
  return std::abs(got.red() - want.red()) + std::abs(got.green() - want.green()) + std::abs(got.blue() - want.blue());
}

struct Compared {
  std::shared_ptr<const RunSnapshot> run;
  Comparison comparison;
};

// A synthetic run (activations, no model) and every method compared at its τ: the attention
// methods say "needs the model".
Compared compared(double tau = 0.3, Budget budget = {}) {
  Compared c;
  c.run = testing::synthetic_snapshot(tau, 6, 40);
  CompareRequest request;
  request.budget = budget;
  c.comparison = compare_methods(c.run->record(), c.run->analysis(), nullptr, request);
  return c;
}

const TokenList& set_of(const Comparison& c, Method m, int64_t layer) { return *c.find(m)->layers.at(layer).set; }

TEST(MethodPicker, OffersTheTokenSetMethodsOnly) {
  const auto methods = pickable_methods();
  EXPECT_EQ(std::count(methods.begin(), methods.end(), Method::TopK), 0);
  EXPECT_EQ(std::count(methods.begin(), methods.end(), Method::TopTheta), 0);
  EXPECT_EQ(methods.size(), all_methods().size() - 2);
}

TEST(MethodPicker, RecoloursTheDepthPlayerByTheMethodsSet) {
  const Compared c = compared();
  DepthPlayerFigure fig;
  const QSizeF size(600, 320);
  for (int64_t layer : {0, 2, 5}) {
    FigureState s;
    s.layer = layer;
    s.comparison = &c.comparison;
    s.method_a = Method::Recency;
    const QImage img = render_figure(fig, *c.run, s, size, 1.0).convertToFormat(QImage::Format_RGB32);
    const auto lay = DepthPlayerFigure::layout(QRectF(QPointF(0, 0), size), *c.run, s);
    ASSERT_TRUE(lay.chips);
    const TokenList& kept = set_of(c.comparison, Method::Recency, layer);
    for (int64_t t = 0; t < c.run->T(); ++t) {
      const QRectF cell = lay.cells[t];
      const QColor want = membership_color(in(kept, t) ? Membership::Both : Membership::Neither, false);
      const QColor got = img.pixelColor(static_cast<int>(cell.left() + 2.5), static_cast<int>(cell.center().y()));
      EXPECT_LE(colour_off(got, want), 6) << "layer " << layer << " token " << t;
      // The hit test finds the token, and its tooltip says whether the method keeps it.
      const Hit h = fig.hit(QRectF(QPointF(0, 0), size), *c.run, s, cell.center());
      EXPECT_EQ(h.token, t);
      EXPECT_TRUE(h.tooltip.endsWith(in(kept, t) ? "kept by recency" : "not kept by recency")) << h.tooltip.toStdString();
    }
  }
}

TEST(MethodPicker, TwoMethodsShowTheirDifferenceWithCountsInTheLegend) {
  const Compared c = compared();
  FigureState s;
  s.layer = 3;
  s.comparison = &c.comparison;
  s.method_a = Method::Random;
  s.method_b = Method::Cascade;
  const TokenList& a = set_of(c.comparison, Method::Random, 3);
  const TokenList& b = set_of(c.comparison, Method::Cascade, 3);
  // The counts are the set differences.
  TokenList a_only, b_only, both;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(a_only));
  std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(b_only));
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
  const auto n = membership_counts(s, 3, c.run->T());
  EXPECT_EQ(n[static_cast<size_t>(Membership::AOnly)], static_cast<int64_t>(a_only.size()));
  EXPECT_EQ(n[static_cast<size_t>(Membership::BOnly)], static_cast<int64_t>(b_only.size()));
  EXPECT_EQ(n[static_cast<size_t>(Membership::Both)], static_cast<int64_t>(both.size()));
  EXPECT_EQ(n[static_cast<size_t>(Membership::Neither)],
            c.run->T() - static_cast<int64_t>(a_only.size() + b_only.size() + both.size()));
  EXPECT_GT(a_only.size() + b_only.size(), 0u) << "random and the cascade agree everywhere: a weak fixture";
  // The legend names the methods and carries the counts.
  const auto legend = membership_legend(s, 3, c.run->T());
  ASSERT_EQ(legend.size(), 4u);
  EXPECT_EQ(legend[0].label, QString("random only (%1)").arg(a_only.size()));
  EXPECT_EQ(legend[1].label, QString("cascade only (%1)").arg(b_only.size()));
  EXPECT_EQ(legend[2].label, QString("both (%1)").arg(both.size()));

  // The depth player's chips and the token map's cells carry the palette's four colours.
  const QSizeF size(600, 320);
  const QImage player = render_figure(DepthPlayerFigure(), *c.run, s, size, 1.0).convertToFormat(QImage::Format_RGB32);
  const auto lay = DepthPlayerFigure::layout(QRectF(QPointF(0, 0), size), *c.run, s);
  TokenMapFigure map;
  const QSizeF map_size(600, 300);
  const QImage map_img = render_figure(map, *c.run, s, map_size, 1.0).convertToFormat(QImage::Format_RGB32);
  const QRectF map_rect(QPointF(0, 0), map_size);
  int map_checked = 0;
  for (int64_t t = 0; t < c.run->T(); ++t) {
    const Membership m = in(a, t) && in(b, t) ? Membership::Both : in(a, t) ? Membership::AOnly : in(b, t) ? Membership::BOnly
                                                                                                            : Membership::Neither;
    const QColor want = membership_color(m, true);
    const QRectF cell = lay.cells[t];
    EXPECT_LE(colour_off(player.pixelColor(static_cast<int>(cell.left() + 2.5), static_cast<int>(cell.center().y())), want), 6)
        << "depth player token " << t;
  }
  // The token map: layer 3's row (found with the hit test down a column), then each token's cell
  // along it, sampled away from its edges.
  int row_top = -1, row_bottom = -1;
  const double mid_x = map_size.width() / 2;
  for (int y = 0; y < map_img.height(); ++y)
    if (map.hit(map_rect, *c.run, s, QPointF(mid_x, y + 0.5)).layer == 3) {
      if (row_top < 0) row_top = y;
      row_bottom = y;
    }
  ASSERT_GE(row_top, 0);
  const int y = (row_top + row_bottom) / 2;
  std::vector<std::pair<int, int>> span(static_cast<size_t>(c.run->T()), {-1, -1});
  for (int x = 0; x < map_img.width(); ++x) {
    const Hit h = map.hit(map_rect, *c.run, s, QPointF(x + 0.5, y + 0.5));
    if (h.layer != 3 || h.token < 0) continue;
    auto& [first, last] = span[static_cast<size_t>(h.token)];
    if (first < 0) first = x;
    last = x;
  }
  for (int64_t t = 0; t < c.run->T(); ++t) {
    const auto [first, last] = span[static_cast<size_t>(t)];
    ASSERT_GE(first, 0) << "token " << t << " has no cell";
    const Membership m = in(a, t) && in(b, t) ? Membership::Both : in(a, t) ? Membership::AOnly : in(b, t) ? Membership::BOnly
                                                                                                            : Membership::Neither;
    EXPECT_LE(colour_off(map_img.pixelColor((first + last) / 2, y), membership_color(m, true)), 6) << "token map token " << t;
    const Hit h = map.hit(map_rect, *c.run, s, QPointF((first + last) / 2 + 0.5, y + 0.5));
    EXPECT_TRUE(h.tooltip.contains(membership_name(s, m))) << h.tooltip.toStdString();
    ++map_checked;
  }
  EXPECT_EQ(map_checked, c.run->T());
  // Without a comparison the picker has nothing to show: the cascade statuses stay.
  FigureState plain = s;
  plain.comparison = nullptr;
  EXPECT_FALSE(method_colouring(plain, 3));
}

TEST(MethodsFigure, DrawsOneSeriesPerMethodWithTheComparisonsValues) {
  const Compared c = compared();
  MethodsFigure fig;
  FigureState s;
  s.comparison = &c.comparison;
  s.methods_coverage = true;
  ASSERT_TRUE(fig.available(*c.run, s));
  const QSizeF size(600, 420);
  const QRectF rect(QPointF(0, 0), size);
  const QImage img = render_figure(fig, *c.run, s, size, 1.0);
  EXPECT_GT(testing::ink(img), 5000);
  // Hovering each method's point at each layer reports a method drawn there (the method itself, or
  // one whose point lies within a pixel of it) and that layer's value.
  int measured = 0, itself = 0;
  for (const MethodResult& r : c.comparison.methods)
    for (int64_t l = 0; l < c.run->L(); ++l) {
      const auto at = MethodsFigure::where(rect, *c.run, s, r.method, l);
      if (!r.layers[static_cast<size_t>(l)].coverage) {
        EXPECT_FALSE(at.has_value());
        continue;
      }
      ASSERT_TRUE(at.has_value());
      ++measured;
      const Hit h = fig.hit(rect, *c.run, s, *at);
      EXPECT_EQ(h.layer, l);
      const QString want = QString("layer %1: %2 coverage %3").arg(l).arg(method_label(r.method))
                               .arg(*r.layers[static_cast<size_t>(l)].coverage, 0, 'f', 4);
      if (h.tooltip.startsWith(want)) {
        ++itself;
        continue;
      }
      bool near = false;  // another method's point on top of this one
      for (const MethodResult& o : c.comparison.methods)
        if (h.tooltip.startsWith(QString("layer %1: %2 ").arg(l).arg(method_label(o.method))))
          if (const auto q = MethodsFigure::where(rect, *c.run, s, o.method, l)) near = std::abs(q->y() - at->y()) < 1.0;
      EXPECT_TRUE(near) << want.toStdString() << " got " << h.tooltip.toStdString();
    }
  // Without the model every method that needs no attention measures coverage at every layer.
  const auto without_model = std::count_if(all_methods().begin(), all_methods().end(), [](Method m) { return !needs_attention(m); });
  EXPECT_EQ(measured, c.run->L() * without_model);
  EXPECT_GE(itself, measured / 2);
  // The picture: every method's colour is on it (at least one series of each colour drawn).
  const QImage rgb = img.convertToFormat(QImage::Format_RGB32);
  for (const MethodResult& r : c.comparison.methods) {
    if (!missing_reason(r, &MethodLayer::coverage).isEmpty()) continue;
    const QColor want = method_style(r.method).color;
    int64_t n = 0;
    for (int y = 0; y < rgb.height(); ++y)
      for (int x = 0; x < rgb.width(); ++x) n += colour_off(rgb.pixelColor(x, y), want) <= 12;
    EXPECT_GT(n, 5) << method_label(r.method).toStdString();
  }
  // The attention methods have no coverage-free excuse here: they need the model, and say so.
  bool needs_model = false;
  for (const MethodResult& r : c.comparison.methods)
    if (needs_attention(r.method) && !is_element_method(r.method))
      needs_model = needs_model || missing_reason(r, &MethodLayer::attn_err).contains("needs the model");
  EXPECT_TRUE(needs_model);
}

TEST(TradeoffFigure, MarksTheCurrentTau) {
  const auto run = testing::synthetic_snapshot(0.3, 6, 40);
  std::vector<Comparison> sweep;
  for (double tau : {0.1, 0.3, 0.5}) {
    const auto at = RunSnapshot::derive(run->record_ptr(), tau, Rule::PriorMax);
    sweep.push_back(compare_methods(at->record(), at->analysis(), nullptr, {}));
  }
  TradeoffFigure fig;
  FigureState s;
  s.tradeoff = &sweep;
  ASSERT_TRUE(fig.available(*run, s));
  EXPECT_EQ(TradeoffFigure::y_axis(sweep), TradeoffFigure::YAxis::CoverageLoss);  // no model: no attn_err, no ppl
  EXPECT_EQ(TradeoffFigure::current(sweep, run->tau()), 1u);
  const QSizeF size(600, 420);
  const QRectF rect(QPointF(0, 0), size);
  const QImage img = render_figure(fig, *run, s, size, 1.0).convertToFormat(QImage::Format_RGB32);
  // The cascade's point at τ = 0.3 is ringed in vermillion (radius 6); the one at 0.1 is not.
  auto ring_pixels = [&](size_t i) {
    const auto at = TradeoffFigure::where(rect, *run, s, i, Method::Cascade);
    if (!at) return -1;
    int n = 0;
    for (int a = 0; a < 72; ++a) {
      const double th = a * M_PI / 36;
      const int px = static_cast<int>(std::floor(at->x() + 6 * std::cos(th))), py = static_cast<int>(std::floor(at->y() + 6 * std::sin(th)));
      if (px >= 0 && py >= 0 && px < img.width() && py < img.height())
        n += colour_off(img.pixelColor(px, py), okabe_ito::vermillion) <= 90;
    }
    return n;
  };
  EXPECT_GT(ring_pixels(1), 30);
  EXPECT_GE(ring_pixels(0), 0);
  EXPECT_LT(ring_pixels(0), 10);
  // Hovering the ringed point names the method and its τ.
  const auto at = TradeoffFigure::where(rect, *run, s, 1, Method::Cascade);
  ASSERT_TRUE(at);
  const QString tip = fig.hit(rect, *run, s, *at).tooltip;
  EXPECT_TRUE(tip.contains("at τ = 0.300")) << tip.toStdString();
  // The legend says which τ is the current one.
  EXPECT_GT(testing::ink(img), 5000);
}

}  // namespace
}  // namespace cascade::widgets

namespace cascade::widgets {
namespace {

QString write_acts(const QTemporaryDir& dir) {
  SyntheticSpec spec;
  spec.layers = 6;
  spec.tokens = 48;
  spec.dim = 16;
  const QString path = dir.filePath("acts.npy");
  data::write_npy(path.toStdString(), make_synthetic(spec).hidden);
  return path;
}

TEST(MethodsDock, ComparesInTheBackgroundShowsTheDifferenceAndSavesTheComparisons) {
  QTemporaryDir dir;
  app::StartOptions options;
  options.activations = write_acts(dir);
  options.restore = false;
  options.batch = true;
  app::MainWindow window(options);
  ASSERT_TRUE(testing::start_main_window(window));
  EXPECT_EQ(window.view()->state().comparison, nullptr);  // hidden behind another tab: nothing computed
  // Shown, the dock compares the shown τ in a background job.
  QSignalSpy started(window.controller(), &app::Controller::job_started);
  window.show_methods();
  ASSERT_TRUE(testing::wait_until([&] { return window.view()->state().comparison != nullptr && !window.controller()->busy(); }));
  EXPECT_GE(started.count(), 1);
  const Comparison& c = *window.view()->state().comparison;
  EXPECT_DOUBLE_EQ(c.tau, window.view()->snapshot()->tau());
  EXPECT_EQ(c.methods.size(), all_methods().size());
  // Linked selection: clicking the cascade's point at layer 4 in the dock selects layer 4 everywhere.
  {
    FigureView* fv = window.methods_panel()->figure_view();
    ASSERT_GT(fv->width(), 100);
    const auto at = MethodsFigure::where(QRectF(0, 0, fv->width(), fv->height()), *window.view()->snapshot(),
                                         window.view()->state(), Method::Cascade, 4);
    ASSERT_TRUE(at.has_value());
    QTest::mouseClick(fv, Qt::LeftButton, {}, at->toPoint());
    EXPECT_EQ(window.view()->state().layer, 4);
  }
  // The difference view: the picker colours the depth player and the token map.
  app::MethodsPanel* panel = window.methods_panel();
  panel->pick(Method::Random, Method::Cascade);
  EXPECT_EQ(window.view()->state().method_a, Method::Random);
  EXPECT_EQ(window.view()->state().method_b, Method::Cascade);
  EXPECT_EQ(panel->method_a_box()->currentText(), "random");
  window.view()->set_layer(2);
  EXPECT_TRUE(method_difference(window.view()->state(), 2));
  // A budget change recomputes (the dock is shown), and the old budget's comparison stays for saving.
  panel->budget_box()->setCurrentText("ratio:0.25");
  ASSERT_TRUE(testing::wait_until([&] {
    return window.view()->state().comparison && window.view()->state().comparison->budget == parse_budget("ratio:0.25") &&
           !window.controller()->busy();
  }));
  // The trade-off over the sweep: one comparison per τ (at most 8), the figure available.
  ASSERT_TRUE(panel->compare_tradeoff());
  ASSERT_TRUE(testing::wait_until([&] { return !window.controller()->busy(); }));
  ASSERT_NE(window.view()->state().tradeoff, nullptr);
  EXPECT_GE(window.view()->state().tradeoff->size(), 2u);
  EXPECT_LE(window.view()->state().tradeoff->size(), 8u);
  for (const Comparison& c : *window.view()->state().tradeoff) EXPECT_EQ(c.budget, Budget{});  // each τ's own budget
  // What a save writes carries every comparison computed.
  const RunRecord saved = window.controller()->session_record();
  EXPECT_GE(saved.comparisons.size(), 2 + window.view()->state().tradeoff->size() - 1);
  QTest::qWait(50);
  const QImage shot = window.grab().toImage();
  EXPECT_FALSE(shot.isNull());
  if (const QString shots = qEnvironmentVariable("CASCADE_SHOTS_DIR"); !shots.isEmpty()) {  // to look at
    QDir().mkpath(shots);
    shot.save(QDir(shots).filePath("methods-dock.png"));
    panel->figure_view()->render_current().save(QDir(shots).filePath("methods-figure.png"));
    render_figure(TradeoffFigure(), *window.view()->snapshot(), window.view()->state(), {560, 400}, 2.0)
        .save(QDir(shots).filePath("tradeoff-figure.png"));
    render_figure(TokenMapFigure(), *window.view()->snapshot(), window.view()->state(), {560, 300}, 2.0)
        .save(QDir(shots).filePath("token-map-difference.png"));
  }
  // Back to the statuses.
  panel->pick(std::nullopt);
  EXPECT_FALSE(window.view()->state().method_a.has_value());
}

}  // namespace
}  // namespace cascade::widgets
