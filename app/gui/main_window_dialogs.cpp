// The main window: figure export, teaching mode and About.
#include "gui/main_window.h"
#include "gui/export_dialog.h"
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
#include <QTextBrowser>
#include <QVBoxLayout>

#include <imgui.h>

#include <cmath>
#include <cstdio>

#include "core/kernel_dispatch.h"
#include "core/names.h"
#include "core/token_status.h"
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
#include "widgets/palette.h"
#include "widgets/render.h"
#include "widgets/teaching_window.h"

namespace cascade::app {

void MainWindow::export_figure_dialog(const QString& id) {
  if (!view_->has_run()) return;
  auto figure = widgets::make_figure(id);
  if (!figure) return;
  view_->ensure(figure->demand());
  if (!figure->available(*view_->snapshot(), view_->state())) {
    QMessageBox::information(this, "Cascade Lens", "Nothing to export: " + figure->title() + ": " +
                                                       figure->unavailable_reason(*view_->snapshot(), view_->state()) + ".");
    return;
  }
  const QString path = QFileDialog::getSaveFileName(this, "Export " + figure->title(), id + ".pdf",
                                                    "PDF (*.pdf);;SVG (*.svg);;PNG (*.png)");
  if (path.isEmpty()) return;
  try {
    widgets::ExportOptions o;
    o.format = widgets::parse_export_format(QFileInfo(path).suffix().isEmpty() ? "pdf" : QFileInfo(path).suffix());
    ExportDialog layout(this, figure->title(), o.format == widgets::ExportFormat::Png);
    if (layout.exec() != QDialog::Accepted) return;
    widgets::FigureState state = view_->state();
    layout.apply(state, o);
    widgets::export_figure(*figure, *view_->snapshot(), state, path, o);
    status_->setText("Exported " + path);
  } catch (const std::exception& e) {
    warn(e.what());
  }
}

void MainWindow::export_all_dialog() {
  if (!view_->has_run()) return;
  const QString dir = QFileDialog::getExistingDirectory(this, "Export all figures to a folder");
  if (dir.isEmpty()) return;
  try {
    ExportDialog layout(this, "all figures (PDF, SVG and PNG)", true);
    if (layout.exec() != QDialog::Accepted) return;
    for (const auto& figure : widgets::all_figures()) view_->ensure(figure->demand());
    widgets::FigureState state = view_->state();
    widgets::ExportOptions o;
    layout.apply(state, o);
    const QStringList files = widgets::export_all(
        *view_->snapshot(), state, dir, {widgets::ExportFormat::Pdf, widgets::ExportFormat::Svg, widgets::ExportFormat::Png},
        o.dpi, o.size);
    status_->setText(QString("Exported %1 files to %2").arg(files.size()).arg(dir));
  } catch (const std::exception& e) {
    warn(e.what());
  }
}

void MainWindow::show_teaching() {
  if (!view_->has_run() || view_->snapshot()->L() < 2) {
    QMessageBox::information(this, "Cascade Lens", "Teaching mode needs a run with at least two layers.");
    return;
  }
  if (!view_->snapshot()->has_activations()) {
    QMessageBox::information(this, "Cascade Lens",
                             "Teaching mode draws the cascade step's cosines, which need the activations: this session "
                             "was saved without them. Open one saved with activations, or run the model.");
    return;
  }
  if (!teaching_) teaching_ = new widgets::TeachingWindow(view_, this);
  view_->set_teach_step(0);
  if (view_->state().layer < 1) view_->set_layer(1);
  view_->ensure_explanation();
  teaching_->showFullScreen();
  teaching_->activateWindow();
  teaching_->setFocus();
}

void MainWindow::show_glossary() {
  QString html = "<h3>Token statuses</h3><table cellpadding=3>";
  for (int i = 0; i < kNumStatuses; ++i) {
    const auto status = static_cast<TokenStatus>(i);
    html += QString("<tr><td bgcolor='%1' width=18></td><td><b>%2</b></td><td>%3</td></tr>")
                .arg(widgets::status_color(status).name(), status_name(status), status_meaning(status));
  }
  html += "</table><p>A token can be in several at once: a removed token the independent rule keeps is also "
          "<i>missed</i>, an added one is also <i>extra</i> or a representative.</p><h3>Measures</h3><table cellpadding=2>";
  auto rows = [&html](const auto& fields) {
    for (const auto* f : fields) html += QString("<tr><td><tt>%1</tt></td><td>%2</td></tr>").arg(f->name, f->meaning);
  };
  rows(names::layer_fields());
  rows(names::summary_fields());
  html += "</table><p>θ = 1 − τ²: two tokens whose hidden states have |cos| ≥ θ say the same thing.</p>"
          "<h3>Keyboard shortcuts</h3><table cellpadding=2>";
  for (QAction* menu : menuBar()->actions())
    if (menu->menu())
      for (QAction* a : menu->menu()->actions())
        if (!a->shortcut().isEmpty())
          html += QString("<tr><td><tt>%1</tt></td><td>%2</td></tr>")
                      .arg(a->shortcut().toString(QKeySequence::NativeText), a->text().remove('&'));
  html += "<tr><td><tt>Space, ←, →</tt></td><td>play / pause, previous / next layer (depth player)</td></tr></table>";
  auto* dialog = new QDialog(this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->setWindowTitle("Cascade Lens — glossary and shortcuts");
  auto* layout = new QVBoxLayout(dialog);
  auto* text = new QTextBrowser(dialog);
  text->setObjectName("glossary");
  text->setHtml(html);
  layout->addWidget(text);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
  connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::close);
  layout->addWidget(buttons);
  dialog->resize(720, 640);
  dialog->show();
}

void MainWindow::show_about() {
  const BlasInfo blas = detect_blas();
  QString device = "CPU";
  QMessageBox::about(
      this, "About Cascade Lens",
      QString("<b>Cascade Lens %1</b><br>Representative tokens across the depth of a transformer, independent and by cascade.<br><br>"
              "Qt %2 · LibTorch %3 · Dear ImGui %4<br>Compiler: %5<br>BLAS: %6 (%7 GFLOP/s sgemm, %8 threads)%9<br>Device in use: %10<br>%11")
          .arg(q(version()), qVersion(), q(torch_version()), ImGui::GetVersion(), q(compiler()), q(blas.name))
          .arg(blas.sgemm_gflops, 0, 'f', 1)
          .arg(blas.threads)
          .arg(blas.reference ? "<br><b>Warning:</b> the reference BLAS is ~60× slower; install libopenblas0-pthread." : "")
          .arg(view_->has_run() ? q(to_string(view_->snapshot()->record().device)) : device)
          .arg(q(kernels_summary())));
}

}  // namespace cascade::app
