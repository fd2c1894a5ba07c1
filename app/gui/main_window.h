#pragma once
// The application window: the depth player canvas in the middle, every other figure in a dock, the
// text and run settings on the left, progress and Cancel in the status bar. Settings, recent files
// and window layout persist between runs (QSettings).
#include <QMainWindow>

#include <memory>
#include <vector>

#include "gui/controller.h"
#include "widgets/run_view.h"

class QAction;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QMenu;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSlider;
class QCheckBox;
class QDockWidget;

namespace cascade::widgets {
class DepthCanvas;
class FigureView;
class Player;
class TeachingWindow;
}  // namespace cascade::widgets

namespace cascade::app {

class MethodsPanel;
class StudyWindow;

struct StartOptions {
  QString model;        // --model: folder or cache id (empty: bundled / last used)
  QString text_file;    // --text-file
  QString activations;  // --activations FILE: open this instead of running a model (a session file opens as one)
  QString session;      // --session FILE: open this session instead of running a model
  bool restore = true;  // false: ignore saved settings (tests, --fresh)
  bool batch = false;   // no modal dialogs: errors go to stderr and batch_error (--screenshot)
  QString engine;       // --engine URL: runs go to `cascadelens-cli serve` there (data/REMOTE_PROTOCOL.md)
  QString token_file;   // --token-file F: its token (else $CASCADELENS_TOKEN, else the stored one)
};

// The engine token the app keeps between runs: a file only the user can read (mode 0600) in the
// app's configuration folder, never QSettings.
QString engine_token_path();
QString read_engine_token();                  // "" when none is stored
void store_engine_token(const QString& token);  // atomically, 0600; Error when it cannot
void forget_engine_token();

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(const StartOptions& options = {}, QWidget* parent = nullptr);
  ~MainWindow() override;

  widgets::RunView* view() { return view_; }
  Controller* controller() { return controller_; }
  widgets::DepthCanvas* canvas() { return canvas_; }  // null without OpenGL (then depth_view())
  widgets::FigureView* depth_view() { return depth_view_; }
  widgets::Player* player() { return player_; }
  bool stale() const;  // the settings differ from the run shown: Run would change it
  const std::vector<widgets::FigureView*>& figure_views() const { return figure_views_; }
  MethodsPanel* methods_panel() { return methods_panel_; }
  void show_methods();  // raises the Methods dock (it then compares the shown τ if nothing has)
  RunSettings settings_from_ui() const;
  void start_default();  // the first run: bundled model + text (or what options/settings say)
  void run_now();
  void open_model_folder(const QString& dir);
  void open_activation_file(const QString& path);  // a session file is opened as a session
  void open_session_file(const QString& path);
  // SPEC §8: a study file in its own window (File → Open study); false when it could not be read.
  // The window's documents open here: their session, or a run of their ids with the study's model.
  bool open_study_file(const QString& path);
  StudyWindow* study_window() { return study_window_; }
  // Runs token ids (a study's document) with `model` ("": the current one) at τ (NaN: the shown τ).
  void run_document(const QString& model, const std::vector<int64_t>& ids, double tau, const QString& label);
  void save_session_dialog(bool with_activations);
  QString default_session_name() const;  // from the model (or file) and the first words of the text
  void export_figure_dialog(const QString& id);
  void export_all_dialog();
  void show_teaching();
  void show_glossary();  // Help: the statuses and measures in words (the name tables' own), and every shortcut
  void apply_default_layout() { if (!options_.restore) default_dock_sizes(); }  // after a resize
  QString model() const { return model_; }            // the model runs use ("" = bundled); only one that loaded
  // File → Connect to engine: Local, or Remote at host:port with a token (remembered in
  // engine_token_path() when asked). Connecting runs as a job; its outcome is in the engine console.
  void connect_engine_dialog();
  void connect_engine(const QString& url, const QString& token);  // no dialog (--engine, tests)
  QComboBox* remote_models() { return remote_models_; }  // the server's models (visible when remote)
  QLabel* engine_label() { return engine_label_; }        // the status bar's "remote: …" / "local: …"
  QPlainTextEdit* engine_console() { return engine_console_; }
  const QStringList& recent() const { return recent_; }

 Q_SIGNALS:
  void batch_error(const QString& message);

 protected:
  void closeEvent(QCloseEvent* e) override;
  void dragEnterEvent(QDragEnterEvent* e) override;
  void dropEvent(QDropEvent* e) override;

 private:
  void build_controls();
  void build_docks();
  void build_menus();
  void default_dock_sizes();
  void load_settings();
  void save_settings() const;
  void add_recent(const QString& kind, const QString& path);
  void rebuild_recent_menu();
  void choose_cached_model();
  void show_about();
  void build_engine_ui();  // the Engine console dock, the status bar's engine label, the remote model list
  void show_engine();      // the engine label, the model list and the device box for the engine in use

  void set_busy(bool busy);
  void load_text_file(const QString& path);
  void warn(const QString& message);  // a message box, or stderr + batch_error in batch mode
  void set_model_label();
  void show_run_info();  // the label, window title, τ controls and Save actions for the run shown
  void update_stale();   // marks the view stale when attention, device, dtype or the text changed since the run
  QString session_dir() const;

  StartOptions options_;
  widgets::RunView* view_;
  Controller* controller_;
  widgets::Player* player_ = nullptr;
  widgets::DepthCanvas* canvas_ = nullptr;
  widgets::FigureView* depth_view_ = nullptr;
  std::vector<widgets::FigureView*> figure_views_;
  widgets::TeachingWindow* teaching_ = nullptr;
  MethodsPanel* methods_panel_ = nullptr;
  StudyWindow* study_window_ = nullptr;
  QDockWidget* methods_dock_ = nullptr;
  // A model run's outcome: a model just picked is remembered only once it loaded (else the previous
  // one is restored); a failure at start-up falls back to the bundled model. True when it fell back.
  bool model_run_ended(bool failed);

  QString model_;  // "" = bundled
  QString previous_model_;     // what model_ was before the one being tried
  bool trying_model_ = false;  // model_ was just picked and has not loaded yet
  bool model_job_ = false;     // the running job is a model run started here
  bool starting_ = false;      // ... and it is the first one (start_default)
  bool document_job_ = false;  // ... and it runs a study's document (its text then fills the text box)
  QPlainTextEdit* text_ = nullptr;
  QComboBox* bundled_texts_ = nullptr;
  QDoubleSpinBox* tau_box_ = nullptr;
  QSlider* tau_slider_ = nullptr;
  QComboBox *rule_ = nullptr, *attention_ = nullptr, *device_ = nullptr, *dtype_ = nullptr;
  QCheckBox *quality_ = nullptr, *quality_sweep_ = nullptr;
  QLabel* model_label_ = nullptr;
  QLabel* stale_label_ = nullptr;  // shown when the settings no longer match the run on screen
  QPushButton *run_button_ = nullptr, *cancel_button_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* status_ = nullptr;
  QMenu* recent_menu_ = nullptr;
  QAction *save_action_ = nullptr, *save_without_action_ = nullptr;
  QComboBox* remote_models_ = nullptr;
  QLabel* engine_label_ = nullptr;
  QPlainTextEdit* engine_console_ = nullptr;
  QDockWidget* engine_dock_ = nullptr;
  bool run_after_connect_ = false;  // --engine: the first run waits for the connection
  QString last_job_;    // what the running (or last) job does, for the cancel message
  QStringList recent_;  // "model:PATH" / "activations:PATH" / "session:PATH" / "text:PATH"
};

}  // namespace cascade::app
