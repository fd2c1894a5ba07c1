// cascadelens: the desktop app. Opens on the bundled demo model and text and runs it at once.
//   cascadelens [--model DIR|ID] [--text-file F] [--activations FILE | --session FILE.h5] [--fresh]
//               [--screenshot OUT.png [--size WxH] [--teaching STAGE]]   (run, save a window screenshot, quit)
//               [--methods A[,B]]   (the Methods dock raised, tokens coloured by A's set or A against B)
//               [--study S.h5 [--study S2.h5]]   (the study window; with --screenshot, its screenshot)
//               [--engine http://host:port [--token-file F]]   (runs on `cascadelens-cli serve` there)
#include <QApplication>
#include <QCommandLineParser>
#include <QScreen>
#include <QSurfaceFormat>
#include <QTimer>

#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "core/errors.h"
#include "core/version.h"
#include "gui/main_window.h"
#include "gui/methods_panel.h"
#include "gui/study_window.h"
#include "widgets/teaching_window.h"

int main(int argc, char** argv) {
  // QGuiApplication takes "-session ID" / "--session ID" for X11 session management and removes them
  // from the arguments before the parser sees them: our --session FILE travels as --session-file.
  static char session_file_flag[] = "--session-file";
  std::vector<char*> args(argv, argv + argc);
  for (int i = 1; i < argc && std::strcmp(args[i], "--") != 0; ++i)
    if (std::strcmp(args[i], "--session") == 0 || std::strcmp(args[i], "-session") == 0) args[i] = session_file_flag;
  args.push_back(nullptr);
  int app_argc = argc;
  // --help and --version print and quit: they need no display (a QApplication without one aborts).
  bool text_only = false;
  for (int i = 1; i < argc && std::strcmp(args[i], "--") != 0; ++i)
    for (const char* flag : {"--help", "-h", "-?", "--help-all", "--version", "-v"})
      text_only = text_only || std::strcmp(args[i], flag) == 0;
  std::unique_ptr<QCoreApplication> app_holder;
  if (text_only) {
    app_holder = std::make_unique<QCoreApplication>(app_argc, args.data());
  } else {
    QApplication::setHighDpiScaleFactorRoundingPolicy(Qt::HighDpiScaleFactorRoundingPolicy::PassThrough);
    app_holder = std::make_unique<QApplication>(app_argc, args.data());
  }
  QCoreApplication& app = *app_holder;
  QCoreApplication::setApplicationName("cascadelens");
  QCoreApplication::setOrganizationName("CascadeLens");
  QCoreApplication::setApplicationVersion(QString::fromStdString(cascade::version()));

  QCommandLineParser cli;
  cli.setApplicationDescription("Cascade Lens: representative tokens across the depth of a transformer.");
  cli.addHelpOption();
  cli.addVersionOption();
  QCommandLineOption model({"m", "model"}, "HF model folder or cache id (default: the bundled demo model).", "DIR|ID");
  QCommandLineOption text_file({"t", "text-file"}, "Run this text (default: the bundled teaching text).", "FILE");
  QCommandLineOption activations({"a", "activations"},
                                 "Open an activation file instead of running a model (.npy, .safetensors, .h5; a "
                                 "session file is opened as a session).", "FILE");
  QCommandLineOption session({"s", "session"},
                             "Open a session file (.h5, saved by File → Save session or cascadelens-cli run --save) "
                             "instead of running a model: the run as saved, at its tau and rule.", "FILE");
  QCommandLineOption session_file("session-file", "Same as --session.", "FILE");  // what --session arrives as
  session_file.setFlags(QCommandLineOption::HiddenFromHelp);
  QCommandLineOption fresh("fresh", "Ignore the saved settings and layout.");
  QCommandLineOption screenshot("screenshot",
                                "Run (or open the --session / --activations file), save a screenshot of the window to "
                                "FILE, and quit; an error goes to stderr with exit status 1.", "FILE");
  QCommandLineOption size("size", "Window size for --screenshot (default 1600x1000).", "WxH", "1600x1000");
  QCommandLineOption layer("layer", "Select this layer once the run is shown.", "N");
  QCommandLineOption teaching("teaching",
                              "With --screenshot: the teaching window (F5) at --size instead of the main window, at STAGE: "
                              "intro1 … intro5 (the opening sequence), step1 … step5 (the cascade into --layer), "
                              "exercise (guesses: this layer's representatives) or exercise-reveal.", "STAGE");
  QCommandLineOption methods("methods",
                             "Raise the Methods dock, compare the methods at the shown τ, and colour the depth player and "
                             "the token map by method A's set (kept / not kept), or A against B (A only / B only / both / "
                             "neither). Names as in cascadelens-cli compare (not top-k or top-theta).", "A[,B]");
  QCommandLineOption study("study",
                           "Open a study file (cascadelens-cli study) in the study window; a second --study is drawn "
                           "over the first for comparison. With --screenshot: that window's screenshot.", "FILE");
  QCommandLineOption engine("engine",
                            "Run models on `cascadelens-cli serve` at URL (http://host:port; through an SSH tunnel "
                            "http://localhost:7341) instead of here: the views, τ and Save stay local.", "URL");
  QCommandLineOption token_file("token-file",
                                "With --engine: the file holding the engine's token (serve's --token-file); default "
                                "$CASCADELENS_TOKEN, else the token File → Connect to engine remembered.", "FILE");
  cli.addOptions({engine, token_file});
  cli.addOptions({model, text_file, activations, session, session_file, fresh, screenshot, size, layer, teaching, methods, study});
  cli.process(app);
  const QString session_path = cli.isSet(session) ? cli.value(session) : cli.value(session_file);
  if (cli.isSet(activations) && !session_path.isEmpty()) {
    std::fprintf(stderr, "cascadelens: give --activations or --session, not both\n");
    return 2;
  }

  cascade::app::StartOptions options;
  options.model = cli.value(model);
  options.text_file = cli.value(text_file);
  options.activations = cli.value(activations);
  options.session = session_path;
  options.restore = !cli.isSet(fresh) && !cli.isSet(screenshot);
  options.batch = cli.isSet(screenshot);
  options.engine = cli.value(engine);
  options.token_file = cli.value(token_file);
  cascade::app::MainWindow window(options);
  if (cli.isSet(screenshot)) {
    const QStringList wh = cli.value(size).split('x');
    if (wh.size() == 2) window.resize(wh[0].toInt(), wh[1].toInt());
  }
  window.apply_default_layout();
  window.show();
  if (const QStringList studies = cli.values(study); !studies.isEmpty()) {
    if (studies.size() > 2) {
      std::fprintf(stderr, "cascadelens: --study takes one study, or two to compare\n");
      return 2;
    }
    if (!window.open_study_file(studies[0])) return 1;
    cascade::app::StudyWindow* sw = window.study_window();
    if (studies.size() == 2) {
      try {
        cascade::app::LoadedStudy second = cascade::app::load_study(studies[1]);
        sw->add_study(std::move(second.study), studies[1], std::move(second.aggregates));
      } catch (const std::exception& e) {
        std::fprintf(stderr, "cascadelens: %s: %s\n", studies[1].toLocal8Bit().constData(), e.what());
        return 1;
      }
    }
    if (cli.isSet(screenshot)) {  // the study window alone: no model run to wait for
      const QStringList wh = cli.value(size).split('x');
      if (wh.size() == 2) sw->resize(wh[0].toInt(), wh[1].toInt());
      sw->raise();
      int rc = 0;
      const QString out = cli.value(screenshot);
      QTimer::singleShot(400, sw, [sw, out, &rc] {
        if (!sw->grab().save(out)) {
          std::fprintf(stderr, "cascadelens: cannot write %s\n", out.toLocal8Bit().constData());
          rc = 1;
        }
        QApplication::quit();
      });
      app.exec();
      return rc;
    }
  }
  int exit_code = 0;
  if (cli.isSet(screenshot) || cli.isSet(layer)) {
    const QString out = cli.value(screenshot);
    const int chosen_layer = cli.value(layer).toInt();
    const bool has_layer = cli.isSet(layer);
    const QString stage = cli.value(teaching);
    const QStringList wh = cli.value(size).split('x');
    const QSize teach_size = wh.size() == 2 ? QSize(wh[0].toInt(), wh[1].toInt()) : QSize(1600, 1000);
    std::optional<cascade::Method> method_a, method_b;
    if (cli.isSet(methods)) {
      try {
        const auto picked = cascade::parse_methods(cli.value(methods).toStdString());
        for (cascade::Method m : picked)
          if (cascade::is_element_method(m))
            throw cascade::UsageError("--methods: " + cascade::to_string(m) + " keeps keys per query, not a token set");
        if (picked.empty() || picked.size() > 2) throw cascade::UsageError("--methods takes one or two methods");
        method_a = picked[0];
        if (picked.size() == 2) method_b = picked[1];
      } catch (const std::exception& e) {
        std::fprintf(stderr, "cascadelens: %s\n", e.what());
        return 2;
      }
    }
    auto shown = [&window, out, chosen_layer, has_layer, stage, teach_size, method_a, &exit_code](bool ok) {
      if (has_layer) window.view()->set_layer(chosen_layer);
      if (method_a) {  // the Methods dock and its comparison first: the screenshot waits for that job
        window.show_methods();
        if (window.controller()->busy()) {
          QObject::connect(window.controller(), &cascade::app::Controller::job_finished, &window,
                           [&window, out, &exit_code] { QTimer::singleShot(400, &window, [&window, out, &exit_code] {
                             if (!out.isEmpty() && !window.grab().save(out)) exit_code = 1;
                             if (!out.isEmpty()) QApplication::quit();
                           }); }, Qt::SingleShotConnection);
          return;
        }
      }
      if (out.isEmpty()) return;
      window.view()->set_token(-1);
      QWidget* target = &window;
      if (!stage.isEmpty()) {
        window.show_teaching();
        auto* teach = window.findChild<cascade::widgets::TeachingWindow*>("teaching");
        if (!teach) {
          std::fprintf(stderr, "cascadelens: teaching mode is not available for this run\n");
          exit_code = 1;
          QTimer::singleShot(0, [] { QApplication::quit(); });
          return;
        }
        teach->setWindowState(Qt::WindowNoState);
        teach->resize(teach_size);
        if (stage.startsWith("intro")) {
          for (int i = 1; i < stage.mid(5).toInt(); ++i) teach->next();
        } else if (stage.startsWith("step")) {
          if (has_layer) window.view()->set_layer(chosen_layer);
          teach->show_algorithm();
          window.view()->set_teach_step(stage.mid(4).toInt() - 1);
        } else if (stage.startsWith("exercise")) {
          teach->start_exercise();
          for (int64_t t : window.view()->snapshot()->analysis().layers[teach->exercise_layer()].reps_casc) teach->toggle_guess(t);
          if (stage == "exercise-reveal") teach->reveal();
        }
        target = teach;
      }
      QTimer::singleShot(400, &window, [&window, target, out, ok, &exit_code] {  // a few canvas frames first
        if (!target->grab().save(out)) {
          std::fprintf(stderr, "cascadelens: cannot write %s\n", out.toLocal8Bit().constData());
          exit_code = 1;
        }
        if (!ok) exit_code = 1;
        QApplication::quit();
      });
    };
    QObject::connect(window.controller(), &cascade::app::Controller::job_finished, &window, [shown, &window, method_a, method_b] {
      if (method_a) window.methods_panel()->pick(method_a, method_b);  // before the Methods dock compares
      shown(true);
    }, Qt::SingleShotConnection);
    QObject::connect(&window, &cascade::app::MainWindow::batch_error, &window, [&exit_code] {
      exit_code = 1;  // already on stderr; a screenshot of a failed start is not what was asked for
      QTimer::singleShot(0, [] { QApplication::quit(); });
    });
  }
  QTimer::singleShot(0, &window, [&window] { window.start_default(); });
  const int rc = app.exec();
  return exit_code ? exit_code : rc;
}
