// What new users hit first, as they would hit it: typing τ key by key, a model folder that does not
// load (not remembered; at start-up the bundled model instead), the help's glossary, "export all".
#include <QDir>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>
#include <QFile>
#include <QRegularExpression>
#include <QSettings>

#include <gtest/gtest.h>

#include "core/names.h"
#include "core/token_status.h"
#include "data/formats/activation_io.h"
#include "fixtures.h"
#include "gui/export_dialog.h"
#include "widgets/inspector_panel.h"
#include "widgets/run_view.h"
#include "widgets/figures/token_map.h"
#include "widgets/render.h"

namespace cascade::widgets {
namespace {

using testing::start_main_window;
using testing::wait_until;

QString write_acts(const QTemporaryDir& dir) {
  SyntheticSpec spec;
  spec.layers = 5, spec.tokens = 40, spec.dim = 16, spec.seed = 5;
  const ActivationSet acts = make_synthetic(spec);
  const QString path = dir.filePath("acts.npy");
  data::write_npy(path.toStdString(), acts.hidden);
  return path;
}

// A window that opens a small activation file in `dir` (no model run, no saved settings).
app::StartOptions on_activations(const QTemporaryDir& dir) {
  app::StartOptions options;
  options.activations = write_acts(dir);
  options.restore = false;
  return options;
}

// Selects the box's text and types `keys` one key at a time (120 ms apart, as a person types), then Enter.
void type_into(QDoubleSpinBox* box, const QString& keys) {
  box->setFocus();
  box->selectAll();
  QTest::keyClicks(box, keys, Qt::NoModifier, 120);
  QTest::keyClick(box, Qt::Key_Return);
}

TEST(NewUsers, TypingIntoTheTauBoxGivesThatTau) {
  QTemporaryDir dir;
  app::MainWindow window(on_activations(dir));
  ASSERT_TRUE(start_main_window(window));
  auto* box = window.findChild<QDoubleSpinBox*>("tau");
  ASSERT_NE(box, nullptr);
  EXPECT_DOUBLE_EQ(window.controller()->tau(), 0.3);
  // Every keystroke used to be applied and written back: "0.25" ended at 0.000, ".45" at 0.400.
  for (const auto& [keys, want] : std::vector<std::pair<QString, double>>{{"0.25", 0.25}, {".45", 0.45}, {"0.3", 0.3}}) {
    type_into(box, keys);
    EXPECT_DOUBLE_EQ(window.controller()->tau(), want) << keys.toStdString();
    EXPECT_DOUBLE_EQ(window.view()->snapshot()->tau(), want) << keys.toStdString();
    EXPECT_DOUBLE_EQ(box->value(), want) << keys.toStdString();
  }
  // Half-typed, nothing is applied yet: the run stays at the τ in use.
  box->selectAll();
  QTest::keyClicks(box, "0.1", Qt::NoModifier, 50);
  EXPECT_DOUBLE_EQ(window.controller()->tau(), 0.3);
  QTest::keyClick(box, Qt::Key_Return);
  EXPECT_DOUBLE_EQ(window.controller()->tau(), 0.1);
  // The arrow keys, and τ from elsewhere (the sweep's drag, the ImGui slider), agree with the box.
  QTest::keyClick(box, Qt::Key_Up);
  EXPECT_NEAR(window.controller()->tau(), 0.11, 1e-12);
  window.controller()->set_tau(0.42);
  EXPECT_DOUBLE_EQ(box->value(), 0.42);
  EXPECT_DOUBLE_EQ(window.view()->snapshot()->tau(), 0.42);
}

TEST(NewUsers, AModelFolderThatFailsIsNotRemembered) {
  QTemporaryDir dir;
  app::StartOptions options;
  options.restore = false;
  options.batch = true;  // errors to stderr instead of a modal box
  app::MainWindow window(options);
  ASSERT_TRUE(start_main_window(window));  // the bundled model
  EXPECT_TRUE(window.model().isEmpty());
  QSignalSpy failed(window.controller(), &app::Controller::job_failed);
  QDir(dir.path()).mkdir("broken");
  const QString broken = dir.filePath("broken");  // no config.json, no tokenizer
  window.open_model_folder(broken);
  ASSERT_TRUE(wait_until([&] { return failed.count() == 1; }));
  EXPECT_TRUE(window.model().isEmpty()) << "a folder that did not load became the model";
  for (const QString& entry : window.recent()) EXPECT_FALSE(entry.contains(broken)) << entry.toStdString();
  EXPECT_TRUE(window.view()->has_run());  // the previous run stays on screen
}

TEST(NewUsers, AtStartUpAModelThatFailsFallsBackToTheBundledOne) {
  app::StartOptions options;
  options.restore = false;
  options.batch = true;
  options.model = "/nonexistent/model";  // as if remembered from a session whose folder is gone
  app::MainWindow window(options);
  window.resize(1400, 900);
  window.show();
  QSignalSpy done(window.controller(), &app::Controller::job_finished),
      failed(window.controller(), &app::Controller::job_failed);
  window.start_default();
  ASSERT_TRUE(wait_until([&] { return done.count() == 1; })) << "no fallback run";
  EXPECT_EQ(failed.count(), 1);
  EXPECT_TRUE(window.model().isEmpty());
  ASSERT_TRUE(window.view()->has_run());
  EXPECT_EQ(window.view()->snapshot()->record().kind, SourceKind::Model);
}

TEST(NewUsers, GlossaryNamesEveryStatusAndMeasure) {
  QTemporaryDir dir;
  app::MainWindow window(on_activations(dir));
  ASSERT_TRUE(start_main_window(window));
  window.show_glossary();
  QTextBrowser* text = nullptr;
  ASSERT_TRUE(wait_until([&] { return (text = window.findChild<QTextBrowser*>("glossary")) != nullptr; }, 5000));
  const QString plain = text->toPlainText();
  for (int i = 0; i < kNumStatuses; ++i)
    EXPECT_TRUE(plain.contains(status_name(static_cast<TokenStatus>(i)))) << status_name(static_cast<TokenStatus>(i));
  for (const auto* f : names::layer_fields()) EXPECT_TRUE(plain.contains(f->meaning)) << f->name;
  EXPECT_TRUE(plain.contains("Ctrl+R")) << "the shortcuts";
}

// The nearest member of `reps` by |cos| (first of equal maxima), by brute force over cosine().
int64_t nearest_by_hand(const RunSnapshot& run, int64_t l, int64_t t, const TokenSet& reps) {
  int64_t best = -1;
  double best_cos = -1;
  for (int64_t r : reps)
    if (const double c = std::abs(run.cosine(l, t, r)); c > best_cos + 1e-6) best = r, best_cos = c;
  return best;
}

// Each set's answer, labelled with its set: the nearest representative in the cascade set, and in
// the independent set where that differs; for a member of a set, the tokens it represents there.
TEST(NewUsers, TheInspectorGivesBothSetsAnswersWhereTheyDiffer) {
  // A run where the cascade misses some tokens the independent rule keeps.
  std::shared_ptr<const RunSnapshot> snap;
  for (double tau : {0.3, 0.4, 0.5, 0.2}) {
    snap = RunSnapshot::derive(testing::synthetic_data(6, 80), tau, Rule::PriorMax);
    int missed = 0;
    for (int64_t l = 1; l < snap->L(); ++l)
      for (int64_t t = 0; t < snap->T(); ++t) missed += snap->status(l, t) == TokenStatus::Missed || snap->also(l, t) == TokenStatus::Missed;
    if (missed) break;
  }
  RunView view;
  view.set_snapshot(snap);
  InspectorPanel inspector(&view);
  const RunSnapshot& run = *view.snapshot();
  int differ = 0, agree = 0, members = 0;
  for (int64_t l = 1; l < run.L(); ++l) {
    view.set_layer(l);
    const LayerMeasures& m = run.analysis().layers[l];
    for (int64_t t = 0; t < run.T(); ++t) {
      view.set_token(t);
      const QString text = inspector.text();
      SCOPED_TRACE("layer " + std::to_string(l) + " token " + std::to_string(t) + ": " + text.toStdString());
      const bool ind = std::binary_search(m.reps_ind.begin(), m.reps_ind.end(), t);
      const bool casc = std::binary_search(m.reps_casc.begin(), m.reps_casc.end(), t);
      if (!casc) {
        EXPECT_TRUE(text.contains(QString("nearest representative in the cascade set: token %1 ").arg(nearest_by_hand(run, l, t, m.reps_casc))));
      }
      if (ind && !casc) {
        ++members;
        EXPECT_TRUE(text.contains(QString("in the independent set (prior-max) it represents %1 token")
                                      .arg(run.represented_by(l, t, RepSet::Independent).size())));
      }
      if (ind || casc) continue;
      const int64_t in_ind = nearest_by_hand(run, l, t, m.reps_ind), in_casc = nearest_by_hand(run, l, t, m.reps_casc);
      const QString line = QString("nearest representative in the independent set (prior-max): token %1 ").arg(in_ind);
      if (in_ind != in_casc) {
        ++differ;
        EXPECT_TRUE(text.contains(line));
      } else {
        ++agree;
        EXPECT_FALSE(text.contains("in the independent set"));
      }
    }
  }
  EXPECT_GT(differ, 0);
  EXPECT_GT(agree, 0);
  EXPECT_GT(members, 0);
}

// The export dialog's presets give the paper layouts, and the choice is remembered.
TEST(NewUsers, TheExportDialogsSingleColumnPresetGivesA240PointFigureWith8PointType) {
  QSettings().remove("export");
  const auto run = testing::synthetic_snapshot();
  FigureState state;
  state.layer = 1;
  ExportOptions options;
  options.format = ExportFormat::Svg;
  {
    app::ExportDialog dialog(nullptr, "all figures", true);
    EXPECT_EQ(dialog.preset_box()->currentIndex(), 0) << "natural size by default";
    const int single = dialog.preset_box()->findData(QString("single-column"));
    ASSERT_GT(single, 0);
    ASSERT_GT(dialog.preset_box()->findData(QString("double-column")), 0);
    ASSERT_GT(dialog.preset_box()->findData(QString("slide")), 0);
    dialog.preset_box()->setCurrentIndex(single);
    dialog.apply(state, options);
  }
  EXPECT_EQ(options.size, QSizeF(240, 0));
  EXPECT_EQ(state.font_pt, 8);
  QTemporaryDir dir;
  const QStringList files = export_all(*run, state, dir.path(), {ExportFormat::Svg}, options.dpi, options.size);
  ASSERT_FALSE(files.isEmpty());
  for (const QString& f : files) {
    QFile file(f);
    ASSERT_TRUE(file.open(QIODevice::ReadOnly));
    const QString svg = QString::fromUtf8(file.readAll());
    EXPECT_TRUE(QRegularExpression(R"(viewBox="0 0 240 )").match(svg).hasMatch()) << f.toStdString();
  }
  app::ExportDialog again(nullptr, "a figure", false);
  EXPECT_EQ(again.preset_box()->currentData().toString(), "single-column");
  QSettings().remove("export");
}

TEST(NewUsers, ExportAllIncludesTheCascadeStepAtLayerZero) {
  const auto run = testing::synthetic_snapshot();
  FigureState state;
  state.layer = 0;
  QTemporaryDir dir;
  const QStringList files = export_all(*run, state, dir.path(), {ExportFormat::Svg});
  EXPECT_TRUE(files.contains(dir.filePath("cascade-step.svg"))) << files.join(", ").toStdString();
}

}  // namespace
}  // namespace cascade::widgets

namespace cascade::widgets {
namespace {

// The token map's hit at the centre of (layer, token)'s cell.
Hit hit_at(const RunSnapshot& run, int64_t layer, int64_t token) {
  const TokenMapFigure map;
  const QRectF rect(0, 0, 900, 400);
  for (double y = 0; y < rect.height(); y += 1) {
    if (map.hit(rect, run, FigureState{}, QPointF(rect.center().x(), y)).layer != layer) continue;
    for (double x = 0; x < rect.width(); x += 0.25)
      if (const Hit h = map.hit(rect, run, FigureState{}, QPointF(x, y)); h.token == token) return h;
  }
  return {};
}

// A token removed by the cascade that the independent rule keeps is "cascade-removed" and "missed";
// an added one the independent rule does not keep is "cascade-added" and "extra": both are held.
TEST(NewUsers, EveryStatusATokenHoldsIsShown) {
  int both = 0;
  for (double tau : {0.2, 0.3, 0.4, 0.5}) {
    const auto run = testing::synthetic_snapshot(tau, 8, 60);
    for (int64_t l = 0; l < run->L(); ++l) {
      const LayerMeasures& m = run->analysis().layers[l];
      auto in = [](const TokenSet& s, int64_t t) { return std::binary_search(s.begin(), s.end(), t); };
      for (int64_t t = 0; t < run->T(); ++t) {
        TokenStatus want = TokenStatus::Redundant;
        if (in(m.removed, t) && in(m.reps_ind, t)) want = TokenStatus::Missed;
        if (in(m.added, t) && !in(m.reps_ind, t)) want = TokenStatus::Extra;
        ASSERT_EQ(run->also(l, t), want) << "tau " << tau << " layer " << l << " token " << t;
        if (want == TokenStatus::Redundant) continue;
        ++both;
        // The token map's tooltip names both.
        const Hit h = hit_at(*run, l, t);
        ASSERT_EQ(h.token, t);
        EXPECT_TRUE(h.tooltip.contains(QString(status_name(run->status(l, t))) + " + " + status_name(want)))
            << h.tooltip.toStdString();
      }
    }
  }
  EXPECT_GT(both, 0) << "the data should hold tokens with two statuses";
}

}  // namespace
}  // namespace cascade::widgets

namespace cascade::widgets {
namespace {

TEST(NewUsers, ASettingThatNeedsARunMarksTheViewStale) {
  app::StartOptions options;
  options.restore = false;
  app::MainWindow window(options);
  ASSERT_TRUE(start_main_window(window));  // the bundled model, exact attention
  auto* stale = window.findChild<QLabel*>("stale");
  ASSERT_NE(stale, nullptr);
  EXPECT_FALSE(window.stale());
  EXPECT_FALSE(stale->isVisibleTo(&window));
  QComboBox* mode = nullptr;
  for (QComboBox* box : window.findChildren<QComboBox*>())
    if (box->findText("ada-cascade") >= 0) mode = box;
  ASSERT_NE(mode, nullptr);
  mode->setCurrentText("ada-cascade");
  EXPECT_TRUE(window.stale());
  EXPECT_TRUE(stale->isVisibleTo(&window));
  EXPECT_TRUE(stale->text().contains("attention exact")) << stale->text().toStdString();
  QSignalSpy done(window.controller(), &app::Controller::job_finished);
  window.run_now();
  ASSERT_TRUE(wait_until([&] { return done.count() == 1; }));
  EXPECT_FALSE(window.stale());
  EXPECT_FALSE(stale->isVisibleTo(&window));
  EXPECT_EQ(window.view()->snapshot()->record().attention, AttentionMode::AdaCascade);
}

}  // namespace
}  // namespace cascade::widgets

namespace cascade::widgets {
namespace {

// A common projector: the whole window, docks included, fits 1024 × 768.
TEST(NewUsers, TheWindowFitsA1024By768Projector) {
  QTemporaryDir dir;
  app::MainWindow window(on_activations(dir));
  window.resize(1024, 768);
  window.apply_default_layout();
  window.show();
  QSignalSpy done(window.controller(), &app::Controller::job_finished);
  window.start_default();
  ASSERT_TRUE(wait_until([&] { return done.count() == 1; }));
  EXPECT_LE(window.width(), 1024) << "minimum size hint " << window.minimumSizeHint().width();
  EXPECT_LE(window.height(), 768);
}

}  // namespace
}  // namespace cascade::widgets
