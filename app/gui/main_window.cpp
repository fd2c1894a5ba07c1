#include "gui/main_window.h"
#include "gui/main_window_util.h"
#include "gui/methods_panel.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QCloseEvent>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QDir>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QInputDialog>
#include <QRegularExpression>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSlider>
#include <QStatusBar>
#include <QTimer>
#include <QVBoxLayout>

#include <imgui.h>

#include <cmath>
#include <cstdio>

#include "core/kernel_dispatch.h"
#include "core/version.h"
#include "data/formats/activation_io.h"
#include "data/hf/hf_model.h"
#include "data/hf/model_source.h"
#include "data/remote/engine_client.h"
#include "data/session/session_file.h"
#include "widgets/depth_canvas.h"
#include "widgets/figures/depth_player.h"
#include "widgets/player.h"
#include "widgets/figure_view.h"
#include "widgets/inspector_panel.h"
#include "widgets/render.h"
#include "widgets/teaching_window.h"

namespace cascade::app {

namespace {

// τ's spin box: when τ is limited to stored values (a session saved without activations) its
// arrows step to the next stored τ, which ±0.01 would never reach (it snaps back to the nearest).
class TauSpinBox : public QDoubleSpinBox {
 public:
  TauSpinBox(Controller* controller, QWidget* parent) : QDoubleSpinBox(parent), controller_(controller) {}
  void stepBy(int steps) override {
    if (controller_->tau_limited()) controller_->step_tau(steps);
    else QDoubleSpinBox::stepBy(steps);
  }

 private:
  Controller* controller_;
};

}  // namespace

MainWindow::MainWindow(const StartOptions& options, QWidget* parent)
    : QMainWindow(parent), options_(options), view_(new widgets::RunView(this)), controller_(new Controller(view_, this)) {
  setWindowTitle("Cascade Lens");
  setAcceptDrops(true);
  setDockNestingEnabled(true);
  player_ = new widgets::Player(view_, this);
  if (widgets::DepthCanvas::opengl_available()) {
    canvas_ = new widgets::DepthCanvas(view_, player_, this);
    canvas_->set_tau_handler([this](double tau) { controller_->set_tau(tau); });
    connect(canvas_, &widgets::DepthCanvas::export_requested, this, &MainWindow::export_figure_dialog);
    setCentralWidget(canvas_);
  } else {  // no OpenGL here (e.g. the offscreen platform): the same figure without the ImGui layer
    depth_view_ = new widgets::FigureView(std::make_unique<widgets::DepthPlayerFigure>(), view_, this);
    connect(depth_view_, &widgets::FigureView::export_requested, this, &MainWindow::export_figure_dialog);
    setCentralWidget(depth_view_);
  }
  build_controls();
  build_docks();
  build_engine_ui();
  build_menus();

  progress_ = new QProgressBar(this);
  progress_->setMaximumWidth(260);
  progress_->setVisible(false);
  status_ = new QLabel(this);
  cancel_button_ = new QPushButton("Cancel", this);
  cancel_button_->setVisible(false);
  statusBar()->addWidget(status_, 1);
  statusBar()->addPermanentWidget(progress_);
  statusBar()->addPermanentWidget(cancel_button_);
  connect(cancel_button_, &QPushButton::clicked, controller_, &Controller::cancel);

  connect(controller_, &Controller::job_started, this, [this](const QString& what) {
    last_job_ = what;
    status_->setText(what + "…");
    set_busy(true);
  });
  connect(controller_, &Controller::progress, this, [this](const QString& stage, qint64 done, qint64 total) {
    progress_->setRange(0, static_cast<int>(std::max<qint64>(total, 1)));
    progress_->setValue(static_cast<int>(done));
    progress_->setFormat(stage + " %v/%m");
  });
  connect(controller_, &Controller::job_finished, this, [this](const QString& summary) {
    set_busy(false);
    status_->setText(summary);
    if (canvas_) canvas_->set_engine_note(controller_->shown_run_engine().toStdString());
    if (model_job_) {  // the model loaded: only now is it remembered
      model_job_ = starting_ = false;
      if (trying_model_) add_recent("model", model_);
      trying_model_ = false;
    }
    show_run_info();
  });
  connect(view_, &widgets::RunView::run_changed, this, &MainWindow::show_run_info);
  connect(controller_, &Controller::job_cancelled, this, [this] {
    set_busy(false);
    model_run_ended(false);
    document_job_ = false;
    status_->setText("Cancelled (" + last_job_ + "): nothing changed; the previous run is still shown.");
  });
  connect(controller_, &Controller::job_failed, this, [this](const QString& message) {
    if (!controller_->busy()) set_busy(false);  // a refused τ/rule change while a job runs leaves it running
    const bool fell_back = !controller_->busy() && model_run_ended(true);
    if (!controller_->busy()) document_job_ = false;
    status_->setText("Failed: " + message.left(160));
    warn(fell_back ? message + "\n\nShowing the bundled demo model instead." : message);
  });
  connect(controller_, &Controller::job_rejected, this, [this](const QString& why) { statusBar()->showMessage(why, 4000); });
  connect(controller_, &Controller::tau_changed, this, [this](double tau) {
    const QSignalBlocker a(tau_box_), b(tau_slider_);
    tau_box_->setValue(tau);
    tau_slider_->setValue(static_cast<int>(std::lround(tau * 1000)));
  });
  connect(controller_, &Controller::rule_changed, this, [this](const QString& rule) {
    const QSignalBlocker block(rule_);
    rule_->setCurrentText(rule);
  });
  connect(controller_, &Controller::session_saved, this, [this](const QString& path) { add_recent("session", path); });
  // The depth player keeps room however the docks are dragged, and the window still fits a 1024 × 768
  // projector with the side docks beside it.
  centralWidget()->setMinimumSize(340, 240);
  if (options_.restore) load_settings();
  else resize(1400, 900);
  if (!options_.restore || !QSettings().contains("window/state")) default_dock_sizes();
  show_run_info();
}

void MainWindow::show_methods() {
  methods_dock_->show();
  methods_dock_->raise();
  methods_panel_->set_auto(true);
}

MainWindow::~MainWindow() {
  controller_->cancel();
  controller_->wait();
}

void MainWindow::build_controls() {
  auto* dock = new QDockWidget("Text and run", this);
  dock->setObjectName("dock-controls");
  auto* panel = new QWidget(dock);
  auto* layout = new QVBoxLayout(panel);
  model_label_ = new QLabel(panel);
  model_label_->setObjectName("model-label");
  model_label_->setWordWrap(true);
  layout->addWidget(model_label_);
  remote_models_ = new QComboBox(panel);  // the engine's models (File → Connect to engine)
  remote_models_->setObjectName("remote-models");
  remote_models_->setToolTip("The models the engine exposes (cascadelens-cli serve --models)");
  remote_models_->setVisible(false);
  layout->addWidget(remote_models_);
  bundled_texts_ = new QComboBox(panel);
  bundled_texts_->addItem("Bundled texts…", QString());
  try {
    for (const auto& path : data::bundled_text_paths()) bundled_texts_->addItem(QFileInfo(q(path)).baseName(), q(path));
  } catch (const std::exception&) {
  }
  layout->addWidget(bundled_texts_);
  text_ = new QPlainTextEdit(panel);
  text_->setObjectName("text");
  text_->setPlaceholderText("Type or paste a text, then Run (Ctrl+R)");
  layout->addWidget(text_, 1);
  connect(bundled_texts_, &QComboBox::activated, this, [this](int index) {
    const QString path = bundled_texts_->itemData(index).toString();
    if (path.isEmpty()) return;
    try {
      text_->setPlainText(q(data::read_text_file(path.toStdString())));
    } catch (const std::exception& e) {
      warn(e.what());
    }
  });

  auto* form = new QFormLayout();
  tau_box_ = new TauSpinBox(controller_, panel);
  tau_box_->setObjectName("tau");
  tau_box_->setRange(0.0, 1.0);
  tau_box_->setDecimals(3);
  tau_box_->setSingleStep(0.01);
  tau_box_->setValue(kDefaultTau);
  // A typed value is applied on Enter, focus out or the arrows, never keystroke by keystroke: the
  // controller writes the τ in use back into the box, which would overwrite a half-typed "0.2".
  tau_box_->setKeyboardTracking(false);
  tau_slider_ = new QSlider(Qt::Horizontal, panel);
  tau_slider_->setRange(0, 1000);
  tau_slider_->setValue(static_cast<int>(std::lround(kDefaultTau * 1000)));
  auto* tau_row = new QHBoxLayout();
  tau_row->addWidget(tau_slider_, 1);
  tau_row->addWidget(tau_box_);
  form->addRow("τ", tau_row);
  connect(tau_slider_, &QSlider::valueChanged, this, [this](int v) { controller_->set_tau(v / 1000.0); });
  connect(tau_box_, &QDoubleSpinBox::valueChanged, this, [this](double v) { controller_->set_tau(v); });
  rule_ = new QComboBox(panel);
  // The combo boxes show the enums' own names, the ones files and the CLI use.
  auto names = [](auto... values) { return QStringList{QString::fromStdString(to_string(values))...}; };
  rule_->addItems(names(Rule::PriorMax, Rule::GreedyCover));
  form->addRow("rule", rule_);
  connect(rule_, &QComboBox::currentTextChanged, this, [this](const QString& r) { controller_->set_rule(r); });
  attention_ = new QComboBox(panel);
  attention_->addItems(names(AttentionMode::Exact, AttentionMode::AdaCascade, AttentionMode::AdaIndependent));
  form->addRow("attention", attention_);
  device_ = new QComboBox(panel);
  device_->addItems(names(DeviceKind::Cpu, DeviceKind::Cuda));
  form->addRow("device", device_);
  dtype_ = new QComboBox(panel);
  dtype_->setObjectName("dtype");
  dtype_->addItem(kAutoDtype);
  dtype_->addItems(names(DType::Float32, DType::BFloat16, DType::Float16));
  dtype_->setToolTip("auto: on the CPU float32 when the weights fit in memory, else bfloat16; on a GPU the "
                     "checkpoint's own dtype. The status line says what was chosen and how much memory the weights take.");
  form->addRow("dtype", dtype_);
  quality_ = new QCheckBox("ppl and ADA error at τ", panel);
  quality_->setToolTip("Perplexity and KL of ADA vs exact attention, and ADA's attention error, at this τ (one more pass)");
  quality_->setChecked(true);
  form->addRow("quality", quality_);
  quality_sweep_ = new QCheckBox("… at every τ of the sweep", panel);
  quality_sweep_->setToolTip("ADA error and ΔPPL at every τ of the sweep (one more pass per τ)");
  form->addRow("", quality_sweep_);
  layout->addLayout(form);
  stale_label_ = new QLabel(panel);
  stale_label_->setObjectName("stale");
  stale_label_->setWordWrap(true);
  stale_label_->setStyleSheet("QLabel { background: #fff3cd; color: #664d03; padding: 4px; }");
  stale_label_->setVisible(false);
  layout->addWidget(stale_label_);
  run_button_ = new QPushButton("Run", panel);
  run_button_->setObjectName("run");
  run_button_->setToolTip("Run the model on the text (Ctrl+R)");
  layout->addWidget(run_button_);
  connect(run_button_, &QPushButton::clicked, this, &MainWindow::run_now);
  for (QComboBox* box : {attention_, device_, dtype_}) connect(box, &QComboBox::currentTextChanged, this, &MainWindow::update_stale);
  connect(text_, &QPlainTextEdit::textChanged, this, &MainWindow::update_stale);
  dock->setWidget(panel);
  addDockWidget(Qt::LeftDockWidgetArea, dock);
}

void MainWindow::default_dock_sizes() {
  // Side docks narrow, bottom docks a third of the height: the depth player gets the middle.
  QList<QDockWidget*> left, right, bottom;
  for (QDockWidget* d : findChildren<QDockWidget*>()) {
    const auto area = dockWidgetArea(d);
    (area == Qt::LeftDockWidgetArea ? left : area == Qt::RightDockWidgetArea ? right : bottom) << d;
  }
  if (!left.isEmpty()) resizeDocks({left.first()}, {std::max(260, width() / 5)}, Qt::Horizontal);
  if (!right.isEmpty()) resizeDocks({right.first()}, {std::max(260, width() / 4)}, Qt::Horizontal);
  if (!bottom.isEmpty()) resizeDocks({bottom.first()}, {std::max(220, height() / 3)}, Qt::Vertical);
}

void MainWindow::build_docks() {
  QDockWidget* first_bottom = nullptr;
  QDockWidget* first_right = nullptr;
  for (auto& figure : widgets::all_figures()) {
    const QString id = figure->id();
    const widgets::Placement where = figure->placement();
    // The canvas, teaching mode, and the Methods dock (below: the figure beside its controls).
    if (where == widgets::Placement::Centre || where == widgets::Placement::Teaching || where == widgets::Placement::Methods)
      continue;
    auto* dock = new QDockWidget(figure->title(), this);
    dock->setObjectName("dock-" + id);
    auto* fv = new widgets::FigureView(std::move(figure), view_, dock);
    connect(fv, &widgets::FigureView::tau_dragged, controller_, &Controller::set_tau);
    connect(fv, &widgets::FigureView::export_requested, this, &MainWindow::export_figure_dialog);
    figure_views_.push_back(fv);
    dock->setWidget(fv);
    const bool right = where == widgets::Placement::RightDock;
    addDockWidget(right ? Qt::RightDockWidgetArea : Qt::BottomDockWidgetArea, dock);
    QDockWidget*& first = right ? first_right : first_bottom;
    if (first) tabifyDockWidget(first, dock);
    else first = dock;
  }
  methods_dock_ = new QDockWidget("Methods", this);
  methods_dock_->setObjectName("dock-methods");
  methods_panel_ = new MethodsPanel(view_, controller_, methods_dock_);
  connect(methods_panel_, &MethodsPanel::export_requested, this, &MainWindow::export_figure_dialog);
  figure_views_.push_back(methods_panel_->figure_view());
  methods_dock_->setWidget(methods_panel_);
  addDockWidget(Qt::BottomDockWidgetArea, methods_dock_);
  if (first_bottom) tabifyDockWidget(first_bottom, methods_dock_);
  // Shown (raised, or undocked) it compares the shown τ when nothing has: hidden it costs nothing.
  connect(methods_dock_, &QDockWidget::visibilityChanged, methods_panel_, &MethodsPanel::set_auto);
  auto* inspector = new QDockWidget("Token inspector", this);
  inspector->setObjectName("dock-inspector");
  inspector->setWidget(new widgets::InspectorPanel(view_, inspector));
  addDockWidget(Qt::RightDockWidgetArea, inspector);
  if (first_bottom) first_bottom->raise();
  if (first_right) first_right->raise();
}

void MainWindow::build_menus() {
  QMenu* file = menuBar()->addMenu("&File");
  file->addAction("Open &model folder…", QKeySequence::Open, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, "Open a Hugging Face model folder");
    if (!dir.isEmpty()) open_model_folder(dir);
  });
  file->addAction("Open model from the HF &cache…", this, &MainWindow::choose_cached_model);
  file->addAction("Use the &bundled demo model", this, [this] {
    model_.clear();
    set_model_label();
    run_now();
  });
  file->addAction("Connect to &engine…", this, &MainWindow::connect_engine_dialog);
  file->addSeparator();
  file->addAction("Open &activations…", QKeySequence("Ctrl+Shift+O"), this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, "Open activations", QString(),
                                                      activation_filter() + ";;All files (*)");
    if (!path.isEmpty()) open_activation_file(path);
  });
  // Ctrl+O opens a model folder (above), so a session has no shortcut of its own.
  file->addAction("Open &session…", this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, "Open a session", session_dir(),
                                                      QString(kSessionFilter) + ";;All files (*)");
    if (!path.isEmpty()) open_session_file(path);
  });
  file->addAction("Open &study…", this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, "Open a study", session_dir(), "Study (*.h5);;All files (*)");
    if (!path.isEmpty()) open_study_file(path);
  });
  file->addAction("Open &text…", this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, "Open a text", QString(), "Text (*.txt);;All files (*)");
    if (!path.isEmpty()) load_text_file(path);
  });
  recent_menu_ = file->addMenu("&Recent");
  file->addSeparator();
  save_action_ = file->addAction("&Save session…", QKeySequence::Save, this, [this] { save_session_dialog(true); });
  save_action_->setToolTip("Everything the run produced, with the activations: τ and the rule stay changeable when it is reopened");
  save_without_action_ = file->addAction("Save session &without activations…", this, [this] { save_session_dialog(false); });
  save_without_action_->setToolTip("A smaller file: reopened, τ is limited to the values it stores (the shown τ and the sweep)");
  file->addSeparator();
  QMenu* exp = file->addMenu("&Export figure");
  for (const auto& figure : widgets::all_figures()) {
    const QString id = figure->id();
    exp->addAction(figure->title() + "…", this, [this, id] { export_figure_dialog(id); });
  }
  file->addAction("Export &all figures…", QKeySequence("Ctrl+E"), this, &MainWindow::export_all_dialog);
  file->addSeparator();
  file->addAction("&Quit", QKeySequence::Quit, this, &QWidget::close);

  QMenu* run = menuBar()->addMenu("&Run");
  run->addAction("&Run", QKeySequence("Ctrl+R"), this, &MainWindow::run_now);
  run->addAction("&Cancel", QKeySequence("Ctrl+."), controller_, &Controller::cancel);
  run->addSeparator();
  run->addAction("&Play / pause", QKeySequence("Ctrl+P"), this, [this] { player_->toggle(); });
  run->addAction("&Next layer", QKeySequence("Ctrl+Right"), this, [this] { view_->step_layer(1); });
  run->addAction("&Previous layer", QKeySequence("Ctrl+Left"), this, [this] { view_->step_layer(-1); });
  run->addAction("τ &up", QKeySequence("Ctrl+Up"), this, [this] { controller_->step_tau(1); });
  run->addAction("τ &down", QKeySequence("Ctrl+Down"), this, [this] { controller_->step_tau(-1); });

  QMenu* view = menuBar()->addMenu("&View");
  for (QDockWidget* dock : findChildren<QDockWidget*>()) view->addAction(dock->toggleViewAction());
  view->addSeparator();
  view->addAction("&Teaching mode", QKeySequence("F5"), this, &MainWindow::show_teaching);
  view->addAction("&Full screen", QKeySequence::FullScreen, this, [this] {
    isFullScreen() ? showNormal() : showFullScreen();
  });

  QMenu* help = menuBar()->addMenu("&Help");
  help->addAction("&Glossary and shortcuts", QKeySequence::HelpContents, this, &MainWindow::show_glossary);
  help->addAction("&About Cascade Lens", this, &MainWindow::show_about);
}

RunSettings MainWindow::settings_from_ui() const {
  RunSettings s;
  s.model = controller_->remote() ? remote_models_->currentText() : model_;
  s.text = text_->toPlainText();
  s.tau = tau_box_->value();
  s.rule = parse_rule(rule_->currentText().toStdString());
  s.attention = parse_attention_mode(attention_->currentText().toStdString());
  s.device = parse_device(device_->currentText().toStdString());
  if (dtype_->currentText() != kAutoDtype) s.dtype = parse_dtype(dtype_->currentText().toStdString());
  s.quality = quality_->isChecked();
  s.quality_sweep = quality_sweep_->isChecked();
  return s;
}

void MainWindow::run_now() {
  if (text_->toPlainText().trimmed().isEmpty()) {
    QMessageBox::information(this, "Cascade Lens", "Type or paste a text first (or pick a bundled one).");
    return;
  }
  if (!controller_->busy()) model_job_ = true;  // else the controller refuses the run (job_rejected)
  controller_->run_model(settings_from_ui());
}

bool MainWindow::model_run_ended(bool failed) {
  if (!model_job_) return false;
  model_job_ = false;
  const bool at_start = starting_;
  starting_ = false;
  if (controller_->remote()) return false;  // the server's model: nothing here to fall back to
  if (trying_model_) {  // a model the user just picked did not load: the previous one stays
    trying_model_ = false;
    model_ = previous_model_;
    set_model_label();
    return false;
  }
  if (!failed || !at_start || model_.isEmpty()) return false;
  // The model remembered from the last session (or given with --model) does not load any more: run
  // the bundled default instead, so the app starts with something to show.
  model_.clear();
  set_model_label();
  QTimer::singleShot(0, this, [this] { run_now(); });
  return true;
}

void MainWindow::start_default() {
  if (!options_.model.isEmpty()) model_ = options_.model;
  if (!options_.text_file.isEmpty()) {
    try {
      text_->setPlainText(q(data::read_text_file(options_.text_file.toStdString())));
    } catch (const std::exception& e) {
      warn(e.what());
    }
  }
  if (!options_.session.isEmpty()) {
    open_session_file(options_.session);
    return;
  }
  if (!options_.activations.isEmpty()) {
    open_activation_file(options_.activations);
    return;
  }
  if (text_->toPlainText().trimmed().isEmpty()) {
    try {
      text_->setPlainText(q(data::read_text_file(data::bundled_default_text_path())));
    } catch (const std::exception&) {
    }
  }
  if (!options_.engine.isEmpty()) {  // --engine: the first run goes there, once connected
    QString token;
    try {
      token = !options_.token_file.isEmpty() || qEnvironmentVariableIsSet("CASCADELENS_TOKEN")
                  ? q(remote::client_token(options_.token_file.toStdString()))
                  : read_engine_token();
    } catch (const std::exception& e) {
      warn(e.what());
      return;
    }
    if (token.isEmpty()) {
      warn("--engine needs the engine's token: give --token-file F (the file serve wrote) or set CASCADELENS_TOKEN.");
      return;
    }
    run_after_connect_ = true;
    connect_engine(options_.engine, token);
    return;
  }
  starting_ = true;
  if (model_.isEmpty()) {
    try {
      data::bundled_model_dir();
    } catch (const std::exception&) {  // no bundled model: show the synthetic activations instead
      status_->setText("The bundled demo model is missing (cascadelens-cli train-demo); showing synthetic activations.");
      try {
        open_activation_file(q(data::bundled_synthetic_file()));
      } catch (const std::exception& e) {
        warn(e.what());
      }
      return;
    }
  }
  run_now();
}

void MainWindow::warn(const QString& message) {
  if (options_.batch) {  // --screenshot and friends: no modal box nobody can close
    std::fprintf(stderr, "cascadelens: %s\n", message.toLocal8Bit().constData());
    Q_EMIT batch_error(message);
    return;
  }
  QMessageBox::warning(this, "Cascade Lens", message);
}

void MainWindow::set_busy(bool busy) {
  progress_->setVisible(busy);
  cancel_button_->setVisible(busy);
  run_button_->setEnabled(!busy);
  if (busy) progress_->setRange(0, 0);
  save_action_->setEnabled(!busy && view_->has_run());
  save_without_action_->setEnabled(!busy && view_->has_run());
}

void MainWindow::set_model_label() {
  QString name = model_;
  if (controller_->remote()) {
    name = remote_models_->currentText() + " on the engine at " + controller_->engine_url();
  } else if (name.isEmpty()) {
    try {
      name = "bundled demo model (" + q(data::bundled_model_dir()) + ")";
    } catch (const std::exception&) {
      name = "bundled demo model (missing: train it with cascadelens-cli train-demo)";
    }
  }
  QString html = "<b>Model:</b> " + name.toHtmlEscaped();
  const QString session = controller_->session_path();
  if (view_->has_run() && !session.isEmpty()) {  // a session file is shown
    const RunSnapshot& run = *view_->snapshot();
    const RunRecord& d = run.record();
    QString shown = "<b>Session:</b> " + QFileInfo(session).fileName().toHtmlEscaped() +
                    (run.has_activations() ? " (with activations)" : " (without activations)") + "<br>" +
                    (d.kind == SourceKind::Model ? "model " : "activations ") + q(d.source).toHtmlEscaped();
    if (!d.text.empty()) {
      const QString text = q(d.text).simplified();
      shown += ", text “" + (text.size() > 48 ? text.left(48) + "…" : text).toHtmlEscaped() + "”";
    }
    if (!run.has_activations()) {
      const auto taus = d.stored_taus(run.rule());
      shown += QString("<br><b>τ limited</b> to the %1 stored value%2").arg(taus.size()).arg(taus.size() == 1 ? "" : "s");
      if (taus.size() > 1) shown += QString(" (%1 … %2)").arg(taus.front(), 0, 'g', 4).arg(taus.back(), 0, 'g', 4);
      shown += "; no Gram matrix, nearest representative or teaching mode";
    }
    html = shown + "<br><i>Run runs the model below on the text.</i><br>" + html;
  } else if (view_->has_run() && view_->snapshot()->record().kind != SourceKind::Model) {  // an activation file is shown
    html = "<b>Showing:</b> " + q(view_->snapshot()->record().source).toHtmlEscaped() +
           " (activations; Run runs the model below on the text)<br>" + html;
  }
  model_label_->setText(html);
}

bool MainWindow::stale() const {
  if (!view_->has_run()) return false;
  const RunRecord& r = view_->snapshot()->record();
  if (r.kind != SourceKind::Model) return false;  // an activation file or session: Run starts something new
  // "auto" matches whatever it chose for the run.
  const bool dtype_changed = dtype_->currentText() != kAutoDtype && dtype_->currentText() != q(to_string(r.dtype));
  // A remote run used the engine's device, whatever the (disabled) device box says.
  const bool device_changed = !controller_->remote() && device_->currentText() != q(to_string(r.device));
  return attention_->currentText() != q(to_string(r.attention)) || device_changed ||
         dtype_changed || (!r.text.empty() && text_->toPlainText() != q(r.text));
}

void MainWindow::update_stale() {
  const bool is_stale = stale() && controller_->session_path().isEmpty();
  stale_label_->setVisible(is_stale);
  if (!is_stale) {
    run_button_->setText("Run");
    return;
  }
  const RunRecord& r = view_->snapshot()->record();
  stale_label_->setText(QString("The views show the run with attention %1 on %2, %3%4. Press Run to update them.")
                            .arg(q(to_string(r.attention)), q(to_string(r.device)), q(to_string(r.dtype)),
                                 text_->toPlainText() != q(r.text) ? " and the previous text" : ""));
  run_button_->setText("Run (settings changed)");
}

void MainWindow::show_run_info() {
  set_model_label();
  // A study's document: its text (the ids decoded) replaces the box's, so Run runs it again and
  // the run is not marked stale against a text it never had.
  if (document_job_ && view_->has_run() && !controller_->busy()) {
    document_job_ = false;
    if (!view_->snapshot()->record().text.empty()) text_->setPlainText(q(view_->snapshot()->record().text));
  }
  update_stale();
  const QString session = controller_->session_path();
  // A session's text goes into an empty text box, so Run can run it again.
  if (view_->has_run() && !session.isEmpty() && text_->toPlainText().trimmed().isEmpty())
    text_->setPlainText(q(view_->snapshot()->record().text));
  setWindowTitle(view_->has_run() && !session.isEmpty() ? QFileInfo(session).fileName() + " — Cascade Lens" : "Cascade Lens");
  // Limited τ: the spin box applies a typed value on Enter (each keystroke would snap) and steps
  // through the stored values; the slider snaps to the nearest.
  const bool limited = controller_->tau_limited();
  const QString tip = limited ? "This session was saved without activations: τ snaps to the values it stores" : QString();
  tau_box_->setToolTip(tip);
  tau_slider_->setToolTip(tip);
  const bool can_save = view_->has_run() && !controller_->busy();
  save_action_->setEnabled(can_save);
  save_without_action_->setEnabled(can_save);
}

void MainWindow::closeEvent(QCloseEvent* e) {
  save_settings();
  controller_->cancel();
  QMainWindow::closeEvent(e);
}

}  // namespace cascade::app
