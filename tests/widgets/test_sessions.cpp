// Session files in the desktop app: opening one with and without activations (τ re-derives, or
// snaps to the stored values; the views that need X̂ say so instead of crashing), saving what the
// view shows (read back with the same τ, sets and model identity), and a cancelled save.
#include <QAction>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <gtest/gtest.h>

#include <cmath>

#include "common/session_builders.h"
#include "core/errors.h"
#include "core/synthetic.h"
#include "data/formats/activation_io.h"
#include "data/hf/model_source.h"
#include "data/session/session_file.h"
#include "gui/controller.h"
#include "gui/main_window.h"
#include "widgets/figure_view.h"
#include "widgets/fixtures.h"
#include "widgets/imgui_overlay.h"
#include "widgets/inspector_panel.h"
#include "widgets/render.h"
#include "widgets/teaching_window.h"

namespace cascade::widgets {
namespace {

using testing::expect_same_sets;
using testing::wait_until;

// testsession::analysed_session (5 layers, 40 tokens; τ = 0.3 and a sweep at 0.1, 0.3, 0.5) as a file.
QString write_test_session(const QTemporaryDir& dir, const QString& name, bool activations, RunRecord* out = nullptr) {
  RunRecord s = testsession::analysed_session(5, 40, 16, activations);
  const QString path = dir.filePath(name);
  data::write_session(path.toStdString(), s, {activations});
  if (out) *out = std::move(s);
  return path;
}

int64_t first_with_status(const RunSnapshot& run, int64_t layer, TokenStatus status) {
  for (int64_t t = 0; t < run.T(); ++t)
    if (run.status(layer, t) == status) return t;
  return -1;
}

TEST(Sessions, OpenWithActivationsReDerivesLikeAnAnalyzer) {
  QTemporaryDir dir;
  RunRecord saved;
  const QString path = write_test_session(dir, "with.h5", true, &saved);
  RunView view;
  app::Controller controller(&view);
  QSignalSpy done(&controller, &app::Controller::job_finished), taus(&controller, &app::Controller::tau_changed),
      rules(&controller, &app::Controller::rule_changed);
  controller.open_session(path);
  ASSERT_TRUE(wait_until([&] { return done.count() == 1; }));
  ASSERT_TRUE(view.has_run());
  EXPECT_TRUE(view.snapshot()->has_activations());
  EXPECT_FALSE(controller.tau_limited());
  EXPECT_EQ(controller.session_path(), path);
  EXPECT_DOUBLE_EQ(controller.tau(), 0.3);
  EXPECT_EQ(controller.rule_name(), "prior-max");
  ASSERT_EQ(taus.count(), 1);
  EXPECT_DOUBLE_EQ(taus.at(0).at(0).toDouble(), 0.3);
  ASSERT_EQ(rules.count(), 1);
  EXPECT_EQ(rules.at(0).at(0).toString(), "prior-max");
  expect_same_sets(view.snapshot()->analysis(), saved.analysis);
  const RunRecord& data = view.snapshot()->record();
  EXPECT_EQ(data.text, saved.text);
  EXPECT_EQ(data.model->model_type, "gpt2");
  EXPECT_EQ(data.tokens, saved.tokens);
  EXPECT_EQ(data.sweep.size(), 3u);
  // τ and the rule change freely: the same sets as an Analyzer made from the same activations.
  const auto& analyzer = saved.analyzer;
  controller.set_tau(0.42);
  EXPECT_DOUBLE_EQ(view.snapshot()->tau(), 0.42);
  expect_same_sets(view.snapshot()->analysis(), analyzer->analyze(0.42, Rule::PriorMax));
  controller.set_rule("greedy-cover");
  expect_same_sets(view.snapshot()->analysis(), analyzer->analyze(0.42, Rule::GreedyCover));
  view.set_layer(2);
  EXPECT_TRUE(view.ensure_gram());
  EXPECT_TRUE(view.ensure_explanation());
}

TEST(Sessions, WithoutActivationsTauSnapsToTheStoredValues) {
  QTemporaryDir dir;
  RunRecord saved;
  const QString path = write_test_session(dir, "without.h5", false, &saved);
  RunView view;
  app::Controller controller(&view);
  QSignalSpy done(&controller, &app::Controller::job_finished);
  // Given as an activation file, a session opens as a session (its own τ and rule, not these).
  controller.open_activations(path, 0.2, Rule::GreedyCover, "0.1:0.5:0.1");
  ASSERT_TRUE(wait_until([&] { return done.count() == 1; }));
  ASSERT_TRUE(view.has_run());
  EXPECT_TRUE(done.at(0).at(0).toString().contains("τ limited")) << done.at(0).at(0).toString().toStdString();
  EXPECT_EQ(controller.session_path(), path);
  EXPECT_TRUE(controller.tau_limited());
  EXPECT_DOUBLE_EQ(view.snapshot()->tau(), 0.3);
  EXPECT_EQ(view.snapshot()->rule(), Rule::PriorMax);
  EXPECT_EQ(view.snapshot()->record().stored_taus(Rule::PriorMax), (std::vector<double>{0.1, 0.3, 0.5}));

  QSignalSpy taus(&controller, &app::Controller::tau_changed);
  controller.set_tau(0.36);  // nearest stored: 0.3, the τ in use — the controls are told to go back
  EXPECT_DOUBLE_EQ(view.snapshot()->tau(), 0.3);
  ASSERT_EQ(taus.count(), 1);
  EXPECT_DOUBLE_EQ(taus.last().at(0).toDouble(), 0.3);
  controller.set_tau(0.44);
  EXPECT_DOUBLE_EQ(view.snapshot()->tau(), 0.5);
  EXPECT_DOUBLE_EQ(controller.tau(), 0.5);
  EXPECT_DOUBLE_EQ(taus.last().at(0).toDouble(), 0.5);
  expect_same_sets(view.snapshot()->analysis(), saved.sweep[2].analysis);
  controller.step_tau(-1);  // the spin box arrows and Ctrl+Up/Down walk the stored values
  EXPECT_DOUBLE_EQ(view.snapshot()->tau(), 0.3);
  controller.step_tau(-5);
  EXPECT_DOUBLE_EQ(view.snapshot()->tau(), 0.1);
  controller.step_tau(1);
  EXPECT_DOUBLE_EQ(view.snapshot()->tau(), 0.3);
  expect_same_sets(view.snapshot()->analysis(), saved.analysis);

  // A rule with no stored analysis: a clear message, and the rule in use stays.
  QSignalSpy failed(&controller, &app::Controller::job_failed), rules(&controller, &app::Controller::rule_changed);
  controller.set_rule("greedy-cover");
  ASSERT_EQ(failed.count(), 1);
  const QString message = failed.at(0).at(0).toString();
  EXPECT_TRUE(message.contains("greedy-cover") && message.contains("without activations")) << message.toStdString();
  ASSERT_EQ(rules.count(), 1);
  EXPECT_EQ(rules.at(0).at(0).toString(), "prior-max");
  EXPECT_EQ(controller.rule_name(), "prior-max");
  EXPECT_EQ(view.snapshot()->rule(), Rule::PriorMax);

  // What needs X̂ is unavailable, never a crash.
  view.set_layer(2);
  EXPECT_FALSE(view.ensure_gram());
  EXPECT_EQ(view.state().gram, nullptr);
  EXPECT_FALSE(view.ensure_explanation());
  EXPECT_EQ(view.state().explanation, nullptr);
  EXPECT_THROW(view.snapshot()->explain(2), UsageError);
  EXPECT_TRUE(std::isnan(view.snapshot()->cosine(2, 0, 1)));
  const int64_t redundant = first_with_status(*view.snapshot(), 2, TokenStatus::Redundant);
  ASSERT_GE(redundant, 0);
  EXPECT_EQ(view.snapshot()->nearest_representative(2, redundant).token, -1);
  view.set_hover(redundant);
  EXPECT_EQ(view.state().link_to, -1);
  // γ and π are stored, so the inspector still has them.
  EXPECT_EQ(view.snapshot()->gamma(2), saved.prior_max[2].gamma);
}

TEST(Sessions, MainWindowShowsASessionWithoutActivationsSafely) {
  QTemporaryDir dir;
  const QString path = write_test_session(dir, "without.h5", false);
  app::StartOptions options;
  options.session = path;
  options.restore = false;
  app::MainWindow window(options);
  ASSERT_TRUE(testing::start_main_window(window));
  EXPECT_TRUE(window.windowTitle().contains("without.h5")) << window.windowTitle().toStdString();
  const auto* label = window.findChild<QLabel*>("model-label");
  ASSERT_NE(label, nullptr);
  EXPECT_TRUE(label->text().contains("Session:")) << label->text().toStdString();
  EXPECT_TRUE(label->text().contains("τ limited")) << label->text().toStdString();
  int save_actions = 0;
  for (QAction* a : window.findChildren<QAction*>())
    if (a->text().startsWith("&Save session") || a->text().startsWith("Save session &without")) {
      EXPECT_TRUE(a->isEnabled()) << a->text().toStdString();
      ++save_actions;
    }
  EXPECT_EQ(save_actions, 2);

  RunView& view = *window.view();
  view.set_layer(2);
  const int64_t redundant = first_with_status(*view.snapshot(), 2, TokenStatus::Redundant);
  ASSERT_GE(redundant, 0);
  view.set_token(redundant);
  view.set_hover(redundant);
  for (auto* fv : window.figure_views()) {  // paint, and click (the Gram view would compute on a click)
    EXPECT_FALSE(fv->render_current().isNull()) << fv->objectName().toStdString();
    QTest::mouseClick(fv, Qt::LeftButton, {}, QPoint(fv->width() / 2, fv->height() / 2));
    EXPECT_FALSE(fv->render_current().isNull()) << fv->objectName().toStdString();
  }
  EXPECT_EQ(view.state().gram, nullptr);
  ASSERT_NE(window.depth_view(), nullptr);
  EXPECT_FALSE(window.depth_view()->render_current().isNull());
  const auto* inspector = window.findChild<InspectorPanel*>();
  ASSERT_NE(inspector, nullptr);
  view.set_token(redundant);
  EXPECT_TRUE(inspector->text().contains("needs the activations")) << inspector->text().toStdString();
  // The ImGui band with the hover inspector on a redundant token.
  ImGuiOverlay overlay;
  PlayerState player;
  for (int frame = 0; frame < 3; ++frame) {
    overlay.begin_frame(QSize(1000, 500), 1.0, 1.0 / 60);
    build_player_overlay(view, player, OverlayActions{[&](double t) { window.controller()->set_tau(t); }, true, {}});
    overlay.end_frame();
  }
  EXPECT_GT(overlay.last_vertex_count(), 100);
  // Teaching mode and the cascade-step figure have nothing to explain; nothing throws.
  TeachingWindow teach(&view);
  teach.resize(800, 500);
  teach.next();
  EXPECT_FALSE(teach.render_current().isNull());
  // Export all skips the two figures that need X̂ and the two of the methods (which need it too).
  QTemporaryDir out;
  const QStringList files = export_all(*view.snapshot(), view.state(), out.path(), {ExportFormat::Png});
  EXPECT_EQ(files.size(), static_cast<int>(figure_ids().size()) - 4);
  EXPECT_TRUE(make_figure("methods")->unavailable_reason(*view.snapshot(), view.state()).contains("activations"));
  for (const QString& f : files) EXPECT_FALSE(f.contains("gram.png") || f.contains("cascade-step")) << f.toStdString();
}

TEST(Sessions, SavedFromTheControllerReadsBackAtTheShownTau) {
  QTemporaryDir dir;
  SyntheticSpec spec;
  spec.layers = 5, spec.tokens = 30, spec.dim = 16;
  const QString acts = dir.filePath("acts.npy");
  data::write_npy(acts.toStdString(), make_synthetic(spec).hidden);
  RunView view;
  app::Controller controller(&view);
  QSignalSpy done(&controller, &app::Controller::job_finished), failed(&controller, &app::Controller::job_failed),
      saved(&controller, &app::Controller::session_saved);
  controller.open_activations(acts, 0.3, Rule::PriorMax, "0.1:0.5:0.1");
  ASSERT_TRUE(wait_until([&] { return done.count() == 1; }));
  controller.set_tau(0.42);
  const QString with = dir.filePath("with.h5");
  controller.save_session(with, true);
  ASSERT_TRUE(wait_until([&] { return done.count() + failed.count() == 2; }));
  ASSERT_EQ(failed.count(), 0) << failed.at(0).at(0).toString().toStdString();
  ASSERT_EQ(saved.count(), 1);
  EXPECT_EQ(saved.at(0).at(0).toString(), with);
  const QString summary = done.last().at(0).toString();
  EXPECT_TRUE(summary.contains(with) && summary.contains("with activations")) << summary.toStdString();
  const RunRecord back = data::read_session(with.toStdString());
  EXPECT_DOUBLE_EQ(back.analysis.tau, 0.42);
  expect_same_sets(back.analysis, view.snapshot()->analysis());
  EXPECT_TRUE(back.has_activations());
  EXPECT_EQ(back.kind, SourceKind::Activations);
  EXPECT_EQ(back.source, acts.toStdString());
  EXPECT_EQ(back.sweep.size(), 5u);
  EXPECT_EQ(back.tokens, view.snapshot()->record().tokens);

  const QString without = dir.filePath("without.h5");
  controller.save_session(without, false);
  ASSERT_TRUE(wait_until([&] { return done.count() + failed.count() == 3; }));
  ASSERT_EQ(failed.count(), 0) << failed.at(0).at(0).toString().toStdString();
  EXPECT_FALSE(data::read_session(without.toStdString()).has_activations());
  EXPECT_LT(QFileInfo(without).size(), QFileInfo(with).size());
  // Reopened, τ is limited to the saved one and the sweep.
  controller.open_session(without);
  ASSERT_TRUE(wait_until([&] { return done.count() == 4; }));
  EXPECT_TRUE(controller.tau_limited());
  EXPECT_DOUBLE_EQ(controller.tau(), 0.42);
  EXPECT_EQ(view.snapshot()->record().stored_taus(Rule::PriorMax), (std::vector<double>{0.1, 0.2, 0.3, 0.4, 0.42, 0.5}));

  // An unwritable place is a message naming it.
  controller.save_session("/nonexistent/folder/s.h5", true);
  ASSERT_TRUE(wait_until([&] { return failed.count() == 1; }));
  EXPECT_TRUE(failed.at(0).at(0).toString().contains("/nonexistent/folder/s.h5")) << failed.at(0).at(0).toString().toStdString();
  EXPECT_FALSE(controller.busy());
}

TEST(Sessions, AModelRunSavesItsModelIdentityAndText) {
  std::string model_dir;
  try {
    model_dir = data::bundled_model_dir();
  } catch (const std::exception& e) {
    GTEST_SKIP() << e.what();
  }
  app::StartOptions options;
  options.restore = false;
  app::MainWindow window(options);
  app::Controller& controller = *window.controller();
  app::RunSettings settings;
  settings.text = "The cat sat on the mat. The cat sat on the mat.";
  settings.sweep = "0.2,0.4";
  settings.quality_sweep = true;
  QSignalSpy done(&controller, &app::Controller::job_finished), failed(&controller, &app::Controller::job_failed);
  controller.run_model(settings);
  ASSERT_TRUE(wait_until([&] { return done.count() + failed.count() == 1; }));
  ASSERT_EQ(failed.count(), 0) << failed.at(0).at(0).toString().toStdString();
  EXPECT_TRUE(controller.session_path().isEmpty());
  const RunSnapshot& run = *window.view()->snapshot();
  EXPECT_EQ(run.record().device, DeviceKind::Cpu);
  EXPECT_EQ(run.record().text, settings.text.toStdString());
  EXPECT_TRUE(window.default_session_name().startsWith("demo-model-the-cat-sat")) << window.default_session_name().toStdString();

  QTemporaryDir dir;
  const QString path = dir.filePath("run.h5");
  controller.save_session(path, false);
  ASSERT_TRUE(wait_until([&] { return done.count() + failed.count() == 2; }));
  ASSERT_EQ(failed.count(), 0) << failed.at(0).at(0).toString().toStdString();
  const RunRecord back = data::read_session(path.toStdString());
  ASSERT_TRUE(back.model.has_value());
  EXPECT_EQ(back.kind, SourceKind::Model);
  EXPECT_EQ(back.model->model_type, "gpt2");
  EXPECT_EQ(back.model->name, model_dir);
  EXPECT_EQ(back.model->config_sha256.size(), 64u);
  EXPECT_EQ(back.model->revision, "local");
  EXPECT_EQ(back.model->num_layers, run.L());
  EXPECT_EQ(back.device, DeviceKind::Cpu);
  EXPECT_EQ(back.dtype, DType::Float32);
  EXPECT_EQ(back.text, settings.text.toStdString());
  EXPECT_EQ(static_cast<int64_t>(back.ids.size()), run.T());
  expect_same_sets(back.analysis, run.analysis());
  ASSERT_EQ(back.sweep.size(), 2u);
  for (const SweepEntry& e : back.sweep) {  // the quality sweep's numbers travel with the sweep
    EXPECT_TRUE(e.ada_error.has_value());
    EXPECT_TRUE(e.delta_ppl.has_value());
  }
  EXPECT_TRUE(back.quality.has_value());
}

TEST(Sessions, ACancelledSaveLeavesNoFile) {
  RunView view;
  view.set_snapshot(testing::synthetic_snapshot());
  const RunSnapshot* before = view.snapshot();
  app::Controller controller(&view);
  QTemporaryDir dir;
  const QString path = dir.filePath("cancelled.h5");
  QSignalSpy cancelled(&controller, &app::Controller::job_cancelled), done(&controller, &app::Controller::job_finished);
  // Cancel pressed as the job starts (job_started is emitted before the worker runs): deterministic.
  const auto press_cancel = QObject::connect(&controller, &app::Controller::job_started, &controller, [&] { controller.cancel(); });
  controller.save_session(path, true);
  ASSERT_TRUE(wait_until([&] { return cancelled.count() + done.count() > 0; }));
  EXPECT_EQ(cancelled.count(), 1);
  EXPECT_EQ(done.count(), 0);
  EXPECT_FALSE(QFile::exists(path));
  EXPECT_TRUE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden | QDir::System).isEmpty());  // no temporary left
  EXPECT_EQ(view.snapshot(), before);
  EXPECT_FALSE(controller.busy());
  // Not cancelled, the same save writes the file.
  QObject::disconnect(press_cancel);
  controller.save_session(path, true);
  ASSERT_TRUE(wait_until([&] { return done.count() == 1; }));
  EXPECT_TRUE(data::is_session_file(path.toStdString()));
}

}  // namespace
}  // namespace cascade::widgets
