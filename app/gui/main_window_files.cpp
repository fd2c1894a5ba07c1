// The main window: opening models, files and sessions, saving sessions, recent files, settings and
// drag and drop.
#include "gui/main_window.h"
#include "gui/cached_model_dialog.h"
#include "gui/main_window_util.h"

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
#include <QVBoxLayout>

#include <imgui.h>

#include <cmath>
#include <cstdio>

#include "core/kernel_dispatch.h"
#include "core/version.h"
#include "data/formats/activation_io.h"
#include "data/hf/hf_model.h"
#include "data/hf/model_source.h"
#include "data/session/session_file.h"
#include "widgets/depth_canvas.h"
#include "widgets/figures/depth_player.h"
#include "widgets/player.h"
#include "widgets/figure_view.h"
#include "widgets/inspector_panel.h"
#include "gui/study_window.h"
#include "widgets/render.h"
#include "widgets/teaching_window.h"

namespace cascade::app {

void MainWindow::open_model_folder(const QString& dir) {
  if (controller_->busy()) {
    statusBar()->showMessage("Another job is still running: wait for it or press Cancel.", 4000);
    return;
  }
  // Tried, not yet remembered: it becomes the model (and a recent entry) once it has loaded.
  if (!trying_model_) previous_model_ = model_;
  trying_model_ = true;
  model_ = dir;
  set_model_label();
  run_now();
}

void MainWindow::open_activation_file(const QString& path) {
  if (data::is_session_file(path.toStdString())) {
    open_session_file(path);
    return;
  }
  add_recent("activations", path);
  controller_->open_activations(path, tau_box_->value(), parse_rule(rule_->currentText().toStdString()));
}

void MainWindow::open_session_file(const QString& path) {
  add_recent("session", path);
  QSettings().setValue("session/dir", QFileInfo(path).absolutePath());
  controller_->open_session(path);
}

bool MainWindow::open_study_file(const QString& path) {
  LoadedStudy study;
  try {
    study = load_study(path);
  } catch (const std::exception& e) {
    warn(QString("Cannot open the study %1: %2").arg(path, e.what()));
    return false;
  }
  // One study window: a new study replaces what it showed (File → Add study compares two).
  delete study_window_;
  study_window_ = new StudyWindow(std::move(study.study), path, this, std::move(study.aggregates));
  study_window_->setWindowFlag(Qt::Window);
  connect(study_window_, &StudyWindow::open_session_requested, this, [this](const QString& session) {
    open_session_file(session);
    raise();
  });
  connect(study_window_, &StudyWindow::rerun_requested, this, &MainWindow::run_document);
  study_window_->show();
  return true;
}

void MainWindow::run_document(const QString& model, const std::vector<int64_t>& ids, double tau, const QString& label) {
  if (controller_->busy()) {
    statusBar()->showMessage("Another job is still running: wait for it or press Cancel.", 4000);
    return;
  }
  // The study names its model by hub id or folder name: the model shown is kept when it is that one.
  const bool same = view_->has_run() && view_->snapshot()->record().model &&
                    q(view_->snapshot()->record().model->name) == model;
  if (!model.isEmpty() && !same && model != model_) {  // the study's model, tried as a picked one is
    if (!trying_model_) previous_model_ = model_;
    trying_model_ = true;
    model_ = model;
    set_model_label();
  }
  if (std::isfinite(tau)) {  // the study's τ on the controls too
    const QSignalBlocker a(tau_box_), b(tau_slider_);
    tau_box_->setValue(tau);
    tau_slider_->setValue(static_cast<int>(std::lround(tau * 1000)));
  }
  RunSettings s = settings_from_ui();
  s.ids = ids;
  statusBar()->showMessage("Running the study's document " + label, 4000);
  model_job_ = true;
  document_job_ = true;
  controller_->run_model(s);
  raise();
}

QString MainWindow::session_dir() const {
  const QString dir = QSettings().value("session/dir").toString();
  return !dir.isEmpty() && QFileInfo(dir).isDir() ? dir : QDir::homePath();
}

QString MainWindow::default_session_name() const {
  if (!view_->has_run()) return "session.h5";
  if (!controller_->session_path().isEmpty()) return QFileInfo(controller_->session_path()).fileName();
  const RunRecord& d = view_->snapshot()->record();
  QString stem;
  if (d.kind == SourceKind::Model) {
    // The model's folder or hub name ("demo-model" for the bundled data/demo/model), then the text's first words.
    const QString name = q(d.model ? d.model->name : d.source);
    const QFileInfo info(name);
    stem = info.fileName() == "model" ? QFileInfo(info.path()).fileName() + "-model" : info.fileName();
    const QStringList words = q(d.text).simplified().split(' ', Qt::SkipEmptyParts).mid(0, 4);
    if (!words.isEmpty()) stem = file_stem(stem, 40) + "-" + file_stem(words.join('-'), 32);
  } else {
    stem = QFileInfo(q(d.source)).completeBaseName() + "-session";
  }
  stem = file_stem(stem, 80);
  return (stem.isEmpty() ? QString("session") : stem) + ".h5";
}

void MainWindow::save_session_dialog(bool with_activations) {
  if (!view_->has_run()) return;
  QFileDialog dialog(this, with_activations ? "Save session" : "Save session without activations");
  dialog.setAcceptMode(QFileDialog::AcceptSave);
  dialog.setNameFilter(kSessionFilter);
  dialog.setDefaultSuffix("h5");
  dialog.setDirectory(session_dir());
  dialog.selectFile(default_session_name());
  if (dialog.exec() != QDialog::Accepted || dialog.selectedFiles().isEmpty()) return;
  const QString path = dialog.selectedFiles().first();
  QSettings().setValue("session/dir", QFileInfo(path).absolutePath());
  controller_->save_session(path, with_activations);
}

void MainWindow::choose_cached_model() {
  bool empty = true;
  try {
    empty = data::list_cached_models().empty();
  } catch (const std::exception& e) {
    warn(e.what());
    return;
  }
  if (empty) {
    QMessageBox::information(this, "Cascade Lens",
                             "The Hugging Face cache (" + q(data::hf_cache_root()) + ") holds no models. Nothing is ever downloaded: "
                             "copy a model folder here or open one with File → Open model folder.");
    return;
  }
  const RunSettings settings = settings_from_ui();
  CachedModelDialog dialog(this, settings.device, settings.dtype);
  if (dialog.exec() == QDialog::Accepted && !dialog.selected_id().isEmpty()) open_model_folder(dialog.selected_id());
}

void MainWindow::load_text_file(const QString& path) {
  try {
    text_->setPlainText(q(data::read_text_file(path.toStdString())));
    add_recent("text", path);
  } catch (const std::exception& e) {  // moved or unreadable: a message, never a crash
    warn(e.what());
  }
}

void MainWindow::add_recent(const QString& kind, const QString& path) {
  const QString entry = kind + ":" + path;
  recent_.removeAll(entry);
  recent_.prepend(entry);
  while (recent_.size() > 10) recent_.removeLast();
  rebuild_recent_menu();
}

void MainWindow::rebuild_recent_menu() {
  recent_menu_->clear();
  for (const QString& entry : recent_) {
    const QString kind = entry.section(':', 0, 0), path = entry.section(':', 1);
    recent_menu_->addAction(kind + ": " + path, this, [this, kind, path] {
      if (kind == "model") open_model_folder(path);
      else if (kind == "activations") open_activation_file(path);
      else if (kind == "session") open_session_file(path);
      else if (kind == "text") load_text_file(path);
    });
  }
  recent_menu_->setEnabled(!recent_.isEmpty());
}

void MainWindow::load_settings() {
  QSettings s;
  if (!restoreGeometry(s.value("window/geometry").toByteArray())) resize(1400, 900);
  restoreState(s.value("window/state").toByteArray());
  recent_ = s.value("recent").toStringList();
  rebuild_recent_menu();
  model_ = s.value("run/model").toString();
  text_->setPlainText(s.value("run/text").toString());
  tau_box_->setValue(s.value("run/tau", kDefaultTau).toDouble());
  tau_slider_->setValue(static_cast<int>(std::lround(tau_box_->value() * 1000)));
  // Absent settings keep what the controls were built with (the defaults of RunSettings).
  rule_->setCurrentText(s.value("run/rule", rule_->currentText()).toString());
  attention_->setCurrentText(s.value("run/attention", attention_->currentText()).toString());
  device_->setCurrentText(s.value("run/device", device_->currentText()).toString());
  dtype_->setCurrentText(s.value("run/dtype", dtype_->currentText()).toString());
  player_->state().layers_per_second = s.value("player/speed", 2.0).toDouble();
  player_->state().loop = s.value("player/loop", true).toBool();
  quality_->setChecked(s.value("run/quality", true).toBool());
  quality_sweep_->setChecked(s.value("run/quality_sweep", false).toBool());
}

void MainWindow::save_settings() const {
  if (!options_.restore) return;
  QSettings s;
  s.setValue("window/geometry", saveGeometry());
  s.setValue("window/state", saveState());
  s.setValue("recent", recent_);
  s.setValue("run/model", trying_model_ ? previous_model_ : model_);  // only a model that loaded
  s.setValue("run/text", text_->toPlainText());
  s.setValue("run/tau", tau_box_->value());
  s.setValue("run/rule", rule_->currentText());
  s.setValue("run/attention", attention_->currentText());
  s.setValue("run/device", device_->currentText());
  s.setValue("run/dtype", dtype_->currentText());
  s.setValue("player/speed", player_->state().layers_per_second);
  s.setValue("player/loop", player_->state().loop);
  s.setValue("run/quality", quality_->isChecked());
  s.setValue("run/quality_sweep", quality_sweep_->isChecked());
}

void MainWindow::dragEnterEvent(QDragEnterEvent* e) {
  if (e->mimeData()->hasUrls()) e->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* e) {
  for (const QUrl& url : e->mimeData()->urls()) {
    const QString path = url.toLocalFile();
    const QFileInfo info(path);
    if (info.isDir()) open_model_folder(path);
    else if (looks_like_activations(path)) open_activation_file(path);
    else if (info.suffix().toLower() == "txt") load_text_file(path);
    else warn("Drop a model folder, a session (.h5), an activation file (.npy, .safetensors, .h5) or a .txt text.");
    break;
  }
}

}  // namespace cascade::app
