// The desktop app on a remote engine: an EngineServer in this process on loopback (port 0), the
// main window connected to it offscreen. A remote run shows what a local run of the same settings
// shows; τ changes stay local (no request reaches the server); Save Session works; Cancel cancels
// the server's run; a wrong token or a lost connection is a message and the previous run stays.
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <memory>

#include "core/snapshot.h"
#include "data/remote/engine_client.h"
#include "data/remote/engine_server.h"
#include "data/session/session_file.h"
#include "gui/controller.h"
#include "gui/main_window.h"
#include "widgets/fixtures.h"

namespace cascade::widgets {
namespace {

using testing::expect_same_sets;
using testing::wait_until;

struct LoopbackEngine {
  LoopbackEngine() {
    remote::ServerConfig c;
    c.host = "127.0.0.1";
    c.port = 0;  // any free port
    c.token = remote::new_token();
    token = QString::fromStdString(c.token);
    server = std::make_unique<remote::EngineServer>(std::move(c));
    server->start();
    url = QString::fromStdString(server->url());
  }
  std::unique_ptr<remote::EngineServer> server;
  QString url, token;
};

// A main window whose first run goes to the engine at `url` (as `cascadelens --engine URL
// --token-file F`); true once that run is shown.
bool start_remote_window(app::MainWindow& window) {
  window.resize(1400, 900);
  window.show();
  QSignalSpy done(window.controller(), &app::Controller::job_finished);
  QSignalSpy failed(window.controller(), &app::Controller::job_failed);
  window.start_default();
  return wait_until([&] { return done.count() == 1 || failed.count() > 0; }) && done.count() == 1;
}

app::StartOptions remote_options(const LoopbackEngine& engine, const QTemporaryDir& dir) {
  const QString token_file = dir.filePath("token");
  remote::write_token_file(token_file.toStdString(), engine.token.toStdString());
  app::StartOptions o;
  o.restore = false;
  o.batch = true;  // a failure is on stderr and batch_error, not a modal box
  o.engine = engine.url;
  o.token_file = token_file;
  return o;
}

TEST(RemoteEngine, ARemoteRunShowsWhatTheSameLocalRunShows) {
  LoopbackEngine engine;
  QTemporaryDir dir;
  app::MainWindow remote_window(remote_options(engine, dir));
  ASSERT_TRUE(start_remote_window(remote_window));
  ASSERT_TRUE(remote_window.controller()->remote());
  EXPECT_EQ(engine.server->runs_started(), 1);
  // The status bar and the console say where it ran; the model list is the server's.
  EXPECT_TRUE(remote_window.engine_label()->text().startsWith("remote: ")) << remote_window.engine_label()->text().toStdString();
  EXPECT_TRUE(remote_window.engine_label()->text().contains(engine.url));
  EXPECT_TRUE(remote_window.remote_models()->isVisibleTo(&remote_window));
  ASSERT_EQ(remote_window.remote_models()->count(), 1);
  EXPECT_EQ(remote_window.remote_models()->itemText(0), "demo-model");
  const QString console = remote_window.engine_console()->toPlainText();
  EXPECT_TRUE(console.contains("connected to " + engine.url)) << console.toStdString();
  EXPECT_TRUE(console.contains("done:")) << console.toStdString();
  EXPECT_FALSE(remote_window.stale());

  app::StartOptions local_options;
  local_options.restore = false;
  app::MainWindow local_window(local_options);
  ASSERT_TRUE(testing::start_main_window(local_window));
  ASSERT_FALSE(local_window.controller()->remote());
  EXPECT_TRUE(local_window.engine_label()->text().startsWith("local: "));
  const RunSnapshot& r = *remote_window.view()->snapshot();
  const RunSnapshot& l = *local_window.view()->snapshot();
  EXPECT_EQ(r.record().ids, l.record().ids);
  EXPECT_EQ(r.record().text, l.record().text);
  ASSERT_TRUE(r.record().model && l.record().model);
  EXPECT_EQ(r.record().model->model_type, l.record().model->model_type);
  EXPECT_EQ(r.record().model->config_sha256, l.record().model->config_sha256);
  expect_same_sets(r.analysis(), l.analysis());
  ASSERT_TRUE(r.has_activations());  // τ stays changeable here

  // τ moves locally and at once: no request reaches the server, and the sets equal the local run's.
  const int64_t submitted = engine.server->runs_submitted();
  remote_window.controller()->set_tau(0.5);
  local_window.controller()->set_tau(0.5);
  ASSERT_TRUE(wait_until([&] { return !remote_window.controller()->busy() && !local_window.controller()->busy() &&
                                      remote_window.view()->snapshot()->tau() == 0.5 &&
                                      local_window.view()->snapshot()->tau() == 0.5; }));
  EXPECT_EQ(engine.server->runs_submitted(), submitted);
  expect_same_sets(remote_window.view()->snapshot()->analysis(), local_window.view()->snapshot()->analysis());

  // Save Session writes the remote run, read back at the τ shown.
  const QString path = dir.filePath("remote-run.h5");
  QSignalSpy saved(remote_window.controller(), &app::Controller::session_saved);
  remote_window.controller()->save_session(path, true);
  ASSERT_TRUE(wait_until([&] { return saved.count() == 1; }));
  remote_window.controller()->wait();
  const RunRecord back = data::read_session(path.toStdString());
  EXPECT_DOUBLE_EQ(back.analysis.tau, 0.5);
  expect_same_sets(back.analysis, remote_window.view()->snapshot()->analysis());
}

TEST(RemoteEngine, ALostConnectionIsAMessageAndThePreviousRunStays) {
  LoopbackEngine engine;
  QTemporaryDir dir;
  app::MainWindow window(remote_options(engine, dir));
  ASSERT_TRUE(start_remote_window(window));
  const RunSnapshot* shown = window.view()->snapshot();
  engine.server->stop();
  QSignalSpy failed(window.controller(), &app::Controller::job_failed);
  window.run_now();
  ASSERT_TRUE(wait_until([&] { return failed.count() == 1; }));
  const QString message = failed.at(0).at(0).toString();
  EXPECT_TRUE(message.contains("Lost the connection to the engine")) << message.toStdString();
  EXPECT_TRUE(message.contains("previous run is still shown")) << message.toStdString();
  EXPECT_EQ(window.view()->snapshot(), shown);
  EXPECT_TRUE(window.engine_console()->toPlainText().contains("failed")) << window.engine_console()->toPlainText().toStdString();
}

TEST(RemoteEngine, AWrongTokenIsRefusedAndRunsStayLocal) {
  LoopbackEngine engine;
  app::StartOptions o;
  o.restore = false;
  o.batch = true;  // the refusal goes to stderr, not to a modal box
  app::MainWindow window(o);
  window.show();
  QSignalSpy failed(window.controller(), &app::Controller::job_failed);
  window.connect_engine(engine.url, "not-the-token");
  ASSERT_TRUE(wait_until([&] { return failed.count() == 1; }));
  EXPECT_TRUE(failed.at(0).at(0).toString().contains("401")) << failed.at(0).at(0).toString().toStdString();
  EXPECT_FALSE(window.controller()->remote());
  EXPECT_TRUE(window.engine_label()->text().startsWith("local: "));
  EXPECT_EQ(engine.server->runs_submitted(), 0);
}

TEST(RemoteEngine, CancelStopsTheServersRun) {
  LoopbackEngine engine;
  QTemporaryDir dir;
  app::MainWindow window(remote_options(engine, dir));
  ASSERT_TRUE(start_remote_window(window));
  const RunSnapshot* shown = window.view()->snapshot();
  // A run long enough to cancel: 500 ids, ADA error and ΔPPL at 200 τ (one ADA pass each).
  app::RunSettings slow = window.settings_from_ui();
  slow.ids.clear();
  for (int i = 0; i < 500; ++i) slow.ids.push_back(1 + (i * 37) % 4000);
  slow.sweep = "0.001:0.7:0.004";
  slow.quality_sweep = true;
  QSignalSpy progress(window.controller(), &app::Controller::progress);
  QSignalSpy cancelled(window.controller(), &app::Controller::job_cancelled);
  window.controller()->run_model(slow);
  ASSERT_TRUE(wait_until([&] { return engine.server->runs_started() == 2; }));
  window.controller()->cancel();
  ASSERT_TRUE(wait_until([&] { return cancelled.count() == 1; }, 30000));
  EXPECT_GT(progress.count(), 0);
  EXPECT_EQ(window.view()->snapshot(), shown);
  // The server is free again: the next run is served.
  QSignalSpy done(window.controller(), &app::Controller::job_finished);
  window.run_now();
  ASSERT_TRUE(wait_until([&] { return done.count() == 1; }));
  EXPECT_EQ(engine.server->runs_started(), 3);
}

TEST(RemoteEngine, TheRememberedTokenIsAFileOnlyTheUserCanRead) {
  QStandardPaths::setTestModeEnabled(true);  // the test configuration folder, not the user's
  app::store_engine_token("  0123abcd\n");
  const QString path = app::engine_token_path();
  struct stat st{};
  ASSERT_EQ(::stat(path.toLocal8Bit().constData(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(app::read_engine_token(), "0123abcd");
  app::store_engine_token("fedc");  // replaced, still 0600
  ASSERT_EQ(::stat(path.toLocal8Bit().constData(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(app::read_engine_token(), "fedc");
  app::forget_engine_token();
  EXPECT_FALSE(QFile::exists(path));
  EXPECT_EQ(app::read_engine_token(), "");
  QStandardPaths::setTestModeEnabled(false);
}

}  // namespace
}  // namespace cascade::widgets
