// The interactive layer: linked selection through views, the screen equals the export, the ImGui
// overlay runs frames, the controller's run / error / cancel paths, and the main window end to end.
#include <QApplication>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <gtest/gtest.h>

#include "common/shared_dir.h"
#include "core/analyzer.h"
#include "core/baselines.h"
#include "core/synthetic.h"
#include "data/formats/activation_io.h"
#include "gui/controller.h"
#include "gui/main_window.h"
#include "widgets/figure_view.h"
#include "widgets/figures/token_map.h"
#include "widgets/fixtures.h"
#include "widgets/imgui_overlay.h"
#include "widgets/inspector_panel.h"
#include "widgets/player.h"
#include "widgets/render.h"
#include "widgets/teaching_window.h"

#include <imgui.h>
#include <imgui_internal.h>

namespace cascade::widgets {
namespace {

using testing::wait_until;

// Synthetic activations written as an .npy in `dir`; returns the path and (optionally) the set.
QString write_synthetic(const QTemporaryDir& dir, const QString& name, int64_t layers, int64_t tokens, int64_t dim,
                        ActivationSet* acts_out = nullptr) {
  SyntheticSpec spec;
  spec.layers = layers;
  spec.tokens = tokens;
  spec.dim = dim;
  const ActivationSet acts = make_synthetic(spec);
  const QString path = dir.filePath(name);
  data::write_npy(path.toStdString(), acts.hidden);
  if (acts_out) *acts_out = acts;
  return path;
}

TEST(Views, ScreenEqualsExportAtTheSameSize) {
  RunView view;
  view.set_snapshot(testing::synthetic_snapshot());
  view.set_layer(1);
  ASSERT_TRUE(view.ensure_gram());
  ASSERT_TRUE(view.ensure_explanation());
  // Past the teaching's first stage: its "→ next" hint is on screen only (exports leave hints out).
  view.set_teach_step(1);
  std::vector<Comparison> comparisons;  // the Methods and trade-off figures' data, as the dock adds it
  for (double tau : {0.2, 0.3, 0.4}) {
    const auto at = RunSnapshot::derive(view.snapshot()->record_ptr(), tau, Rule::PriorMax);
    comparisons.push_back(compare_methods(at->record(), at->analysis(), nullptr, {}));
  }
  view.add_comparisons(comparisons);
  int compared = 0;
  for (const auto& proto : all_figures()) {
    FigureView fv(make_figure(proto->id()), &view);
    fv.resize(420, 280);
    ASSERT_TRUE(fv.figure().available(*view.snapshot(), view.state())) << proto->id().toStdString();
    ++compared;
    const QImage screen = fv.grab().toImage().convertToFormat(QImage::Format_RGB32);
    QTemporaryDir dir;
    const QString path = dir.filePath("f.png");
    export_figure(fv.figure(), *view.snapshot(), view.state(), path,
                  ExportOptions{ExportFormat::Png, QSizeF(420, 280), 72.0 * fv.devicePixelRatioF()});
    const QImage exported = QImage(path).convertToFormat(QImage::Format_RGB32);
    ASSERT_EQ(screen.size(), exported.size()) << proto->id().toStdString();
    EXPECT_TRUE(screen == exported) << proto->id().toStdString();
  }
  EXPECT_EQ(compared, 10);
}

TEST(Views, ClickingTheTokenMapSelectsEverywhere) {
  RunView view;
  view.set_snapshot(testing::synthetic_snapshot(0.3, 6, 40));
  FigureView map(std::make_unique<TokenMapFigure>(), &view);
  InspectorPanel inspector(&view);
  map.resize(500, 300);
  map.show();
  QSignalSpy layer_spy(&view, &RunView::layer_changed), token_spy(&view, &RunView::token_changed);
  // Find a point that hits layer 4, token 17 with the figure's own hit test, then click it.
  TokenMapFigure fig;
  QPoint target(-1, -1);
  for (int y = 0; y < 300 && target.x() < 0; ++y)
    for (int x = 0; x < 500; ++x) {
      const Hit h = fig.hit(QRectF(0, 0, 500, 300), *view.snapshot(), view.state(), QPointF(x, y));
      if (h.layer == 4 && h.token == 17) {
        target = QPoint(x, y);
        break;
      }
    }
  ASSERT_GE(target.x(), 0);
  QTest::mouseClick(&map, Qt::LeftButton, {}, target);
  EXPECT_EQ(view.state().layer, 4);
  EXPECT_EQ(view.state().token, 17);
  EXPECT_EQ(layer_spy.count(), 1);
  EXPECT_EQ(token_spy.count(), 1);
  const QString text = inspector.text();
  EXPECT_TRUE(text.contains("token 17")) << text.toStdString();
  EXPECT_TRUE(text.contains(status_name(view.snapshot()->status(4, 17)))) << text.toStdString();
}

TEST(Views, InspectorShowsTheTokenIdWhenTheRunHasIds) {
  RunView view;
  InspectorPanel inspector(&view);
  auto record = std::make_shared<RunRecord>(*testing::synthetic_data(6, 40));
  view.set_snapshot(RunSnapshot::derive(record, 0.3, Rule::PriorMax));
  view.set_token(5);
  EXPECT_FALSE(inspector.text().contains(" id ")) << inspector.text().toStdString();  // activations: no ids
  record = std::make_shared<RunRecord>(*record);
  for (int64_t t = 0; t < 40; ++t) record->ids.push_back(1000 + t);
  view.set_snapshot(RunSnapshot::derive(record, 0.3, Rule::PriorMax));
  view.set_token(5);
  EXPECT_TRUE(inspector.text().contains("id 1005")) << inspector.text().toStdString();
}

TEST(Views, HoverLinksARedundantTokenToItsRepresentative) {
  RunView view;
  view.set_snapshot(testing::synthetic_snapshot(0.3, 6, 40));
  view.set_layer(3);
  int64_t redundant = -1;
  for (int64_t t = 0; t < view.snapshot()->T() && redundant < 0; ++t)
    if (view.snapshot()->status(3, t) == TokenStatus::Redundant) redundant = t;
  ASSERT_GE(redundant, 0);
  view.set_hover(redundant);
  EXPECT_EQ(view.state().link_to, view.snapshot()->nearest_representative(3, redundant).token);
  EXPECT_GE(view.state().link_to, 0);
  view.set_hover(-1);
  EXPECT_EQ(view.state().link_to, -1);
}

TEST(Views, GramIsComputedOnDemandAndKeptAcrossTau) {
  RunView view;
  const auto data = testing::synthetic_data();
  view.set_snapshot(RunSnapshot::derive(data, 0.3, Rule::PriorMax));
  view.set_layer(2);
  EXPECT_EQ(view.state().gram, nullptr);
  ASSERT_TRUE(view.ensure_gram());
  ASSERT_NE(view.state().gram, nullptr);
  const auto& g = *view.state().gram;
  EXPECT_NEAR(g[5 * 40 + 7], std::abs(view.snapshot()->cosine(2, 5, 7)), 1e-5);
  view.set_snapshot(RunSnapshot::derive(data, 0.4, Rule::PriorMax));  // same run, new τ
  EXPECT_TRUE(view.gram_ready());
}

TEST(Overlay, ImGuiRunsFramesWithoutGl) {
  RunView view;
  view.set_snapshot(testing::synthetic_snapshot());
  ImGuiOverlay overlay;
  PlayerState player;
  double asked_tau = -1;
  OverlayActions actions{[&](double t) { asked_tau = t; }, true, {}};
  int plain = 0;
  for (int frame = 0; frame < 5; ++frame) {
    overlay.begin_frame(QSize(900, 500), 1.0, 1.0 / 60);
    build_player_overlay(view, player, actions);
    overlay.end_frame();
    plain = overlay.last_vertex_count();
  }
  EXPECT_GT(plain, 100);  // the player and console windows
  view.set_hover(7);
  for (int frame = 0; frame < 2; ++frame) {  // an auto-sized window appears on its second frame
    overlay.begin_frame(QSize(900, 500), 1.0, 1.0 / 60);
    build_player_overlay(view, player, actions);
    overlay.end_frame();
  }
  EXPECT_GT(overlay.last_vertex_count(), plain);  // + the hover inspector
  EXPECT_EQ(asked_tau, -1);  // nothing clicked
  // A click through the Qt → ImGui bridge on the "|<" button (the player window's first item,
  // bottom-left): pressing and releasing over it selects layer 0.
  view.set_hover(-1);
  view.set_layer(3);
  const ImVec2 first_button = [&] {
    ImGui::SetCurrentContext(overlay.context());
    ImGuiWindow* w = ImGui::FindWindowByName("Player");
    return w ? ImVec2(w->Pos.x + w->WindowPadding.x + 6, w->Pos.y + w->WindowPadding.y + 6) : ImVec2(-1, -1);
  }();
  ASSERT_GE(first_button.x, 0);
  const QPointF at(first_button.x, first_button.y);
  QMouseEvent move(QEvent::MouseMove, at, at, Qt::NoButton, Qt::NoButton, Qt::NoModifier);
  QMouseEvent press(QEvent::MouseButtonPress, at, at, Qt::LeftButton, Qt::LeftButton, Qt::NoModifier);
  QMouseEvent release(QEvent::MouseButtonRelease, at, at, Qt::LeftButton, Qt::NoButton, Qt::NoModifier);
  auto frame = [&] {
    overlay.begin_frame(QSize(900, 500), 1.0, 1.0 / 60);
    build_player_overlay(view, player, actions);
    overlay.end_frame();
  };
  overlay.handle_event(&move);
  frame();
  overlay.handle_event(&press);
  frame();
  overlay.handle_event(&release);
  frame();
  EXPECT_TRUE(overlay.wants_mouse());
  EXPECT_EQ(view.state().layer, 0);
  // A tap — press and release between two frames (ImGui 1.86 has no input queue) — still clicks "|<".
  view.set_layer(2);
  overlay.handle_event(&press);
  overlay.handle_event(&release);
  frame();
  frame();
  EXPECT_EQ(view.state().layer, 0);
}

TEST(Controller, OpensActivationsAndReDerivesOnTau) {
  RunView view;
  app::Controller controller(&view);
  QTemporaryDir dir;
  ActivationSet acts;
  const QString path = write_synthetic(dir, "acts.npy", 5, 30, 16, &acts);
  QSignalSpy done(&controller, &app::Controller::job_finished);
  controller.open_activations(path, 0.3, Rule::PriorMax, "0.1:0.5:0.1");
  ASSERT_TRUE(wait_until([&] { return done.count() == 1; }));
  ASSERT_TRUE(view.has_run());
  EXPECT_EQ(view.snapshot()->L(), 5);
  EXPECT_EQ(view.snapshot()->record().sweep.size(), 5u);
  controller.set_tau(0.45);
  EXPECT_DOUBLE_EQ(view.snapshot()->tau(), 0.45);
  ASSERT_TRUE(view.snapshot()->record().analyzer->has_gram_cache());  // the fast τ path is in use
  const Analysis direct = Analyzer(acts, kDefaultTile).analyze(0.45, Rule::PriorMax);  // GEMM path
  for (int64_t l = 0; l < 5; ++l) EXPECT_EQ(view.snapshot()->analysis().layers[l].reps_casc, direct.layers[l].reps_casc);
}

TEST(Controller, BadInputIsAMessageNotACrash) {
  RunView view;
  app::Controller controller(&view);
  QSignalSpy failed(&controller, &app::Controller::job_failed);
  controller.open_activations("/nonexistent/acts.npy", 0.3, Rule::PriorMax, "0.1:0.5:0.1");
  ASSERT_TRUE(wait_until([&] { return failed.count() == 1; }));
  EXPECT_TRUE(failed.at(0).at(0).toString().contains("/nonexistent/acts.npy"));
  EXPECT_FALSE(view.has_run());
  EXPECT_FALSE(controller.busy());
  // A bad model folder, too.
  app::RunSettings settings;
  settings.model = "/nonexistent/model";
  settings.text = "hello";
  controller.run_model(settings);
  ASSERT_TRUE(wait_until([&] { return failed.count() == 2; }));
  EXPECT_TRUE(failed.at(1).at(0).toString().contains("/nonexistent/model"));
}

TEST(Controller, CancelStopsALongJobAndKeepsThePreviousRun) {
  RunView view;
  view.set_snapshot(testing::synthetic_snapshot());
  const RunSnapshot* before = view.snapshot();
  app::Controller controller(&view);
  QTemporaryDir dir;
  const QString path = write_synthetic(dir, "big.npy", 48, 3000, 64);
  QSignalSpy cancelled(&controller, &app::Controller::job_cancelled), progress(&controller, &app::Controller::progress);
  controller.open_activations(path, 0.3, Rule::PriorMax, "0.05:0.6:0.05");
  ASSERT_TRUE(wait_until([&] { return progress.count() > 0; }, 30000));
  controller.cancel();
  ASSERT_TRUE(wait_until([&] { return cancelled.count() == 1; }, 30000));
  EXPECT_EQ(view.snapshot(), before);
  EXPECT_FALSE(controller.busy());
}

TEST(Controller, RunsARealModelFolder) {
  const std::string shared = testshared::shared_dir();
  if (shared.empty())
    GTEST_SKIP() << "shared/ with fixtures not found at " << testshared::configured_shared_dir()
                 << " (set CASCADE_SHARED); skipping the real-model run";
  RunView view;
  app::Controller controller(&view);
  app::RunSettings settings;
  settings.model = QString::fromStdString(shared + "/models/stories260K-hf");  // a real Llama with its tokenizer
  settings.text = "Once upon a time, there was a little girl. She liked to play with her ball.";
  QSignalSpy done(&controller, &app::Controller::job_finished), failed(&controller, &app::Controller::job_failed);
  controller.run_model(settings);
  ASSERT_TRUE(wait_until([&] { return done.count() + failed.count() > 0; }));
  ASSERT_EQ(failed.count(), 0) << failed.at(0).at(0).toString().toStdString();
  EXPECT_EQ(view.snapshot()->record().kind, SourceKind::Model);
  EXPECT_GT(view.snapshot()->T(), 5);
  ASSERT_TRUE(view.snapshot()->record().quality.has_value());
  EXPECT_GT(view.snapshot()->record().quality->ppl_exact, 1.0);
}

TEST(MainWindow, OpensAFileShowsEveryViewAndTeaches) {
  QTemporaryDir dir;
  const QString path = write_synthetic(dir, "acts.npy", 6, 48, 16);
  app::StartOptions options;
  options.activations = path;
  options.restore = false;
  app::MainWindow window(options);
  ASSERT_TRUE(testing::start_main_window(window));
  ASSERT_GE(window.figure_views().size(), 6u);
  for (auto* fv : window.figure_views()) {
    const QImage img = fv->render_current();
    EXPECT_FALSE(img.isNull()) << fv->objectName().toStdString();
  }
  EXPECT_EQ(window.canvas(), nullptr);  // offscreen has no OpenGL: the plain depth view stands in
  ASSERT_NE(window.depth_view(), nullptr);
  EXPECT_FALSE(window.depth_view()->render_current().isNull());
  // The player advances phase, then layer, and loops.
  window.view()->set_layer(0);
  window.player()->set_playing(true);
  window.player()->advance(0.25);
  EXPECT_GT(window.view()->state().phase, 0.0);
  window.player()->advance(1.0);
  EXPECT_EQ(window.view()->state().layer, 1);
  window.player()->set_playing(false);
  // τ from the sweep view: a drag emits a τ the controller applies.
  window.controller()->set_tau(0.42);
  EXPECT_DOUBLE_EQ(window.view()->snapshot()->tau(), 0.42);
  // Teaching mode walks the five stages, then on to the next layer.
  TeachingWindow teach(window.view());
  teach.resize(1280, 720);
  window.view()->set_layer(1);
  window.view()->set_teach_step(0);
  teach.show_algorithm();  // past the opening sequence
  ASSERT_TRUE(window.view()->ensure_explanation());
  for (int i = 0; i < 5; ++i) teach.next();
  EXPECT_EQ(window.view()->state().layer, 2);
  EXPECT_EQ(window.view()->state().teach_step, 0);
  EXPECT_FALSE(teach.render_current().isNull());
  teach.previous();
  EXPECT_EQ(window.view()->state().layer, 1);
  EXPECT_EQ(window.view()->state().teach_step, 4);
}

}  // namespace
}  // namespace cascade::widgets
