// Figures and their export: statuses against their set definitions, every figure draws a run,
// exports parse back as PNG/SVG/PDF of the asked size, and the depth player shows each token's
// status colour where the token is.
#include <QFile>
#include <QImage>
#include <QSvgRenderer>
#include <QTemporaryDir>

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>

#include "core/baselines.h"
#include "core/sets.h"
#include "widgets/fixtures.h"
#include "widgets/figures/depth_player.h"
#include "widgets/figures/sweep.h"
#include "widgets/palette.h"
#include "widgets/render.h"

namespace cascade::widgets {
namespace {

bool in(const TokenSet& s, int64_t t) { return std::binary_search(s.begin(), s.end(), t); }

using testing::ink;

// Every method compared at the run's τ and two more (the Methods and trade-off figures' data).
std::vector<Comparison> compare_at_three_taus(const RunSnapshot& run) {
  std::vector<Comparison> out;
  for (double tau : {run.tau() - 0.1, run.tau(), run.tau() + 0.1}) {
    const auto at = RunSnapshot::derive(run.record_ptr(), tau, run.rule());
    out.push_back(compare_methods(at->record(), at->analysis(), nullptr, {}));
  }
  return out;
}

FigureState full_state(const RunSnapshot& run, std::vector<float>& gram, std::unique_ptr<CascadeExplanation>& ex,
                       const std::vector<Comparison>& comparisons) {
  FigureState s;
  s.comparison = &comparisons[1];
  s.tradeoff = &comparisons;
  s.layer = 2;
  s.token = 5;
  gram = run.gram(s.layer);
  s.gram = &gram;
  ex = std::make_unique<CascadeExplanation>(run.explain(s.layer));
  s.explanation = ex.get();
  return s;
}

TEST(Statuses, FollowTheSetDefinitionsAtEveryLayer) {
  const auto run = testing::synthetic_snapshot(0.3, 8, 60);
  int seen[kNumStatuses] = {};
  for (int64_t l = 0; l < run->L(); ++l) {
    const LayerMeasures& m = run->analysis().layers[l];
    for (int64_t t = 0; t < run->T(); ++t) {
      TokenStatus want;
      if (in(m.added, t)) want = TokenStatus::Added;
      else if (in(m.removed, t)) want = TokenStatus::Removed;
      else if (in(m.reps_ind, t) && !in(m.reps_casc, t)) want = TokenStatus::Missed;
      else if (in(m.reps_ind, t)) want = TokenStatus::Representative;
      else if (in(m.reps_casc, t)) want = TokenStatus::Extra;
      else want = TokenStatus::Redundant;
      ASSERT_EQ(run->status(l, t), want) << "layer " << l << " token " << t;
      ++seen[static_cast<int>(want)];
    }
  }
  EXPECT_GT(seen[static_cast<int>(TokenStatus::Representative)], 0);
  EXPECT_GT(seen[static_cast<int>(TokenStatus::Redundant)], 0);
  EXPECT_GT(seen[static_cast<int>(TokenStatus::Added)] + seen[static_cast<int>(TokenStatus::Removed)], 0);
}

TEST(Snapshot, TauChangeReDerivesWithoutRescanning) {
  const auto data = testing::synthetic_data();
  const auto a = RunSnapshot::derive(data, 0.2, Rule::PriorMax), b = RunSnapshot::derive(data, 0.5, Rule::PriorMax);
  EXPECT_EQ(&a->record(), &b->record());  // the τ-free cache is shared
  EXPECT_DOUBLE_EQ(b->tau(), 0.5);
  // Larger τ (lower θ) → fewer or equal independent representatives at every layer (prior-max).
  for (int64_t l = 0; l < a->L(); ++l) EXPECT_LE(b->analysis().layers[l].r_ind, a->analysis().layers[l].r_ind);
}

TEST(Snapshot, NearestRepresentativeMatchesBruteForce) {
  const auto run = testing::synthetic_snapshot();
  for (int64_t l : {0, 3}) {
    const auto& reps = run->analysis().layers[l].reps_casc;
    for (int64_t t = 0; t < run->T(); ++t) {
      const Nearest n = run->nearest_representative(l, t);
      double best = -1;
      int64_t arg = -1;
      for (int64_t r : reps)
        if (std::abs(run->cosine(l, t, r)) > best + 1e-7) best = std::abs(run->cosine(l, t, r)), arg = r;
      if (in(reps, t)) {
        EXPECT_EQ(n.token, t);
      } else {
        EXPECT_EQ(n.token, arg) << "layer " << l << " token " << t;
        EXPECT_NEAR(std::abs(n.cosine), best, 1e-5);
      }
    }
    // represented_by is the inverse map of nearest_representative.
    for (int64_t r : reps)
      for (int64_t t : run->represented_by(l, r)) EXPECT_EQ(run->nearest_representative(l, t).token, r);
  }
}

TEST(Snapshot, ExplanationAgreesWithTheCascadeStep) {
  const auto run = testing::synthetic_snapshot(0.3, 6, 50);
  for (int64_t l = 1; l < run->L(); ++l) {
    const CascadeExplanation ex = run->explain(l);
    EXPECT_EQ(ex.trace.result, run->analysis().layers[l].reps_casc);
    for (int64_t t = 0; t < run->T(); ++t) {
      if (in(ex.trace.inherited, t)) {  // validation: stays iff below θ
        EXPECT_EQ(in(ex.trace.valid, t), !(ex.best_cos[t] >= ex.theta)) << t;
      } else if (!ex.trace.valid.empty()) {  // cross-Gram: added iff below θ
        EXPECT_EQ(in(ex.trace.added, t), ex.best_cos[t] < ex.theta) << t;
        EXPECT_NEAR(ex.best_cos[t], std::abs(run->cosine(l, t, ex.best_partner[t])), 1e-5);
      }
    }
  }
}

TEST(Figures, EveryFigureDrawsARun) {
  const auto run = testing::synthetic_snapshot();
  std::vector<float> gram;
  std::unique_ptr<CascadeExplanation> ex;
  const std::vector<Comparison> comparisons = compare_at_three_taus(*run);
  const FigureState state = full_state(*run, gram, ex, comparisons);
  ASSERT_EQ(all_figures().size(), 10u);
  FigureState none = state;  // nothing compared: the methods figures say how to get a comparison
  none.comparison = nullptr;
  none.tradeoff = nullptr;
  for (const auto& f : all_figures()) {
    if (f->id() == "methods" || f->id() == "tradeoff") {
      EXPECT_FALSE(f->available(*run, none));
      EXPECT_TRUE(f->unavailable_reason(*run, none).startsWith("no comparison computed")) << f->id().toStdString();
    }
    ASSERT_TRUE(f->available(*run, state)) << f->id().toStdString();
    const QSizeF size = f->natural_size(*run);
    const QImage img = render_figure(*f, *run, state, size, 1.0);
    EXPECT_EQ(img.width(), static_cast<int>(std::lround(size.width())));
    EXPECT_GT(ink(img), img.width() * img.height() / 50) << f->id().toStdString() << " drew almost nothing";
  }
  for (int step = 0; step < 5; ++step) {  // every teaching stage draws
    FigureState s = state;
    s.teach_step = step;
    EXPECT_GT(ink(render_figure(*make_figure("cascade-step"), *run, s, {640, 420})), 1000) << step;
  }
}

TEST(Figures, DepthPlayerColoursEachTokenByItsStatus) {
  const auto run = testing::synthetic_snapshot(0.3, 6, 40);
  DepthPlayerFigure fig;
  for (int64_t layer : {0, 3, 5}) {
    FigureState s;
    s.layer = layer;
    const QSizeF size(600, 300);
    const QImage img = render_figure(fig, *run, s, size, 1.0).convertToFormat(QImage::Format_RGB32);
    const auto lay = DepthPlayerFigure::layout(QRectF(QPointF(0, 0), size), *run, s);
    ASSERT_TRUE(lay.chips);
    for (int64_t t = 0; t < run->T(); ++t) {
      const QRectF c = lay.cells[t];
      const QColor want = status_color(run->status(layer, t));
      auto off = [&](int y) {
        const QColor got = img.pixelColor(static_cast<int>(c.left() + 2.5), y);
        return std::abs(got.red() - want.red()) + std::abs(got.green() - want.green()) + std::abs(got.blue() - want.blue());
      };
      if (!status_hatched(run->status(layer, t))) {
        EXPECT_LE(off(static_cast<int>(c.center().y())), 6) << "layer " << layer << " token " << t;
      } else {  // striped: the colour between lighter stripes, somewhere down the chip's middle half
        int matches = 0, stripes = 0;
        for (int y = static_cast<int>(c.top() + c.height() / 4); y <= static_cast<int>(c.bottom() - c.height() / 4); ++y)
          (off(y) <= 6 ? matches : stripes) += 1;
        EXPECT_GT(matches, 0) << "layer " << layer << " token " << t;
        EXPECT_GT(stripes, 0) << "layer " << layer << " token " << t << " is not hatched";
      }
    }
    // Hit testing finds the token under each chip's centre.
    for (int64_t t = 0; t < run->T(); ++t)
      EXPECT_EQ(fig.hit(QRectF(QPointF(0, 0), size), *run, s, lay.cells[t].center()).token, t);
  }
}

TEST(Figures, DepthPlayerBlendsTowardsTheNextLayer) {
  const auto run = testing::synthetic_snapshot(0.3, 6, 40);
  DepthPlayerFigure fig;
  FigureState s;
  s.layer = 2;
  s.phase = 1.0;  // fully at the next layer's colours
  const QSizeF size(600, 300);
  const QImage img = render_figure(fig, *run, s, size).convertToFormat(QImage::Format_RGB32);
  const auto lay = DepthPlayerFigure::layout(QRectF(QPointF(0, 0), size), *run, s);
  for (int64_t t = 0; t < run->T(); ++t) {
    const QRectF c = lay.cells[t];
    EXPECT_EQ(img.pixelColor(static_cast<int>(c.left() + 2.5), static_cast<int>(c.center().y())).rgb(),
              status_color(run->status(3, t)).rgb());
  }
}

TEST(Figures, LongRunsUseCellsAndStillHitTest) {
  const auto run = testing::synthetic_snapshot(0.3, 4, 3000);
  DepthPlayerFigure fig;
  FigureState s;
  const QRectF rect(0, 0, 500, 300);
  const auto lay = DepthPlayerFigure::layout(rect, *run, s);
  EXPECT_FALSE(lay.chips);
  for (int64_t t : {0, 1, 1234, 2999}) EXPECT_EQ(fig.hit(rect, *run, s, lay.cells[t].center()).token, t);
}

TEST(Figures, SweepMapsPointerToTau) {
  const auto run = testing::synthetic_snapshot();
  const QRectF rect(0, 0, 500, 320);
  const auto left = SweepFigure().tau_at(rect, *run, {}, QPointF(80, 150));
  const auto right = SweepFigure().tau_at(rect, *run, {}, QPointF(440, 150));
  ASSERT_TRUE(left && right);
  EXPECT_LT(*left, *right);
  EXPECT_GE(*left, 0.1 - 1e-9);
  EXPECT_LE(*right, 0.5 + 1e-9);
  EXPECT_FALSE(SweepFigure().tau_at(rect, *run, {}, QPointF(2, 2)));
}

// ---- export ----

QByteArray read_all(const QString& path) {
  QFile f(path);
  EXPECT_TRUE(f.open(QIODevice::ReadOnly)) << path.toStdString();
  return f.readAll();
}

TEST(Export, PngSvgPdfParseBackAtTheAskedSize) {
  const auto run = testing::synthetic_snapshot();
  std::vector<float> gram;
  std::unique_ptr<CascadeExplanation> ex;
  const std::vector<Comparison> comparisons = compare_at_three_taus(*run);
  const FigureState state = full_state(*run, gram, ex, comparisons);
  QTemporaryDir dir;
  for (const auto& f : all_figures()) {
    const QString base = dir.filePath(f->id());
    export_figure(*f, *run, state, base + ".png", {ExportFormat::Png, QSizeF(360, 240), 200});
    QImage png(base + ".png");
    ASSERT_FALSE(png.isNull()) << f->id().toStdString();
    EXPECT_EQ(png.width(), 1000);  // 360 pt at 200 dpi
    EXPECT_EQ(png.height(), 667);
    EXPECT_NEAR(png.dotsPerMeterX() * 0.0254, 200, 0.5);

    export_figure(*f, *run, state, base + ".svg", {ExportFormat::Svg, QSizeF(360, 240), 300});
    QSvgRenderer svg(base + ".svg");
    ASSERT_TRUE(svg.isValid()) << f->id().toStdString();
    EXPECT_EQ(svg.viewBoxF(), QRectF(0, 0, 360, 240));
    EXPECT_TRUE(read_all(base + ".svg").contains("<text")) << "SVG text must stay text (vector)";

    export_figure(*f, *run, state, base + ".pdf", {ExportFormat::Pdf, QSizeF(360, 240), 300});
    const QByteArray pdf = read_all(base + ".pdf");
    EXPECT_TRUE(pdf.startsWith("%PDF-"));
    EXPECT_TRUE(pdf.trimmed().endsWith("%%EOF"));
    EXPECT_TRUE(pdf.contains("/Font")) << "PDF text must be fonts, not outlines";
    const std::string s = pdf.toStdString();
    std::smatch m;
    ASSERT_TRUE(std::regex_search(s, m, std::regex(R"(/MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\])")));
    EXPECT_NEAR(std::stod(m[1]), 360, 1);
    EXPECT_NEAR(std::stod(m[2]), 240, 1);
  }
}

TEST(Export, ErrorsAreClear) {
  const auto run = testing::synthetic_snapshot();
  auto gram_fig = make_figure("gram");
  EXPECT_THROW(export_figure(*gram_fig, *run, {}, "/tmp/never.png", {}), UsageError);  // no Gram computed
  auto depth = make_figure("depth");
  try {
    export_figure(*depth, *run, {}, "/nonexistent-dir/x.png", {});
    FAIL() << "expected an Error";
  } catch (const InputError& e) {
    FAIL() << "an output that cannot be written is exit 1 (Error), not bad input: " << e.what();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot write /nonexistent-dir/x.png"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_export_format("gif"), UsageError);
  EXPECT_EQ(make_figure("nope"), nullptr);
}

TEST(Export, AllWritesEveryAvailableFigure) {
  const auto run = testing::synthetic_snapshot();
  QTemporaryDir dir;
  const QStringList files = export_all(*run, {}, dir.path(), {ExportFormat::Svg, ExportFormat::Pdf});
  // The Gram matrix (not computed here) is skipped; the cascade step is explained into layer 1 when
  // layer 0 is selected: 7 figures × 2 formats.
  EXPECT_EQ(files.size(), 14);
  EXPECT_TRUE(files.contains(dir.filePath("cascade-step.pdf")));
  EXPECT_FALSE(files.contains(dir.filePath("gram.pdf")));
  for (const QString& f : files) EXPECT_TRUE(QFile::exists(f));
}

TEST(Palette, StatusColoursAreDistinctAndViridisIsMonotoneInLuminance) {
  for (int a = 0; a < kNumStatuses; ++a)
    for (int b = a + 1; b < kNumStatuses; ++b)
      EXPECT_NE(status_color(static_cast<TokenStatus>(a)).rgb(), status_color(static_cast<TokenStatus>(b)).rgb());
  double last = -1;
  for (int i = 0; i <= 20; ++i) {
    const QColor c = viridis(i / 20.0);
    const double light = 0.2126 * c.redF() + 0.7152 * c.greenF() + 0.0722 * c.blueF();  // relative luminance
    EXPECT_GE(light, last - 0.02);
    last = light;
  }
}

}  // namespace
}  // namespace cascade::widgets
