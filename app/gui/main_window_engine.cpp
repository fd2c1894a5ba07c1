// The main window's engine: runs execute here (Local) or on `cascadelens-cli serve` (Remote,
// data/REMOTE_PROTOCOL.md) — File → Connect to engine, the Engine console dock, the status bar's
// "remote: …" label and the server's model list. A remote run comes back as a session with
// activations, so everything after it (τ, rule, the views, Save) is the local code path.
#include "gui/main_window.h"
#include "gui/main_window_util.h"

#include <QButtonGroup>
#include <QComboBox>
#include <QDateTime>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QFileInfo>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QCheckBox>
#include <QVBoxLayout>

#include "data/remote/engine_client.h"
#include "data/remote/protocol.h"

namespace cascade::app {

QString engine_token_path() {
  return QDir(QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation)).filePath("engine-token");
}

QString read_engine_token() {
  QFile f(engine_token_path());
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QString::fromUtf8(f.read(4096)).trimmed();
}

void store_engine_token(const QString& token) {
  const QString path = engine_token_path();
  QDir().mkpath(QFileInfo(path).absolutePath());
  remote::write_token_file(path.toStdString(), token.trimmed().toStdString());
}

void forget_engine_token() { QFile::remove(engine_token_path()); }

void MainWindow::build_engine_ui() {
  engine_dock_ = new QDockWidget("Engine", this);
  engine_dock_->setObjectName("dock-engine");
  engine_console_ = new QPlainTextEdit(engine_dock_);
  engine_console_->setObjectName("engine-console");
  engine_console_->setReadOnly(true);
  engine_console_->setMaximumBlockCount(2000);
  engine_console_->setPlaceholderText("Where runs execute, and what the engine said. File → Connect to engine… "
                                      "runs them on `cascadelens-cli serve` on another machine.");
  engine_dock_->setWidget(engine_console_);
  addDockWidget(Qt::BottomDockWidgetArea, engine_dock_);
  engine_dock_->hide();  // View → Engine; shown when a remote engine is connected
  engine_label_ = new QLabel(this);
  engine_label_->setObjectName("engine-label");
  statusBar()->addPermanentWidget(engine_label_);
  connect(controller_, &Controller::engine_log, this, [this](const QString& line) {
    engine_console_->appendPlainText(QDateTime::currentDateTime().toString("HH:mm:ss  ") + line);
  });
  connect(controller_, &Controller::engine_changed, this, &MainWindow::show_engine);
  connect(controller_, &Controller::engine_connected, this, [this](const QString& description, const QStringList& models) {
    set_busy(false);
    const QString previous = remote_models_->currentText();
    {
      const QSignalBlocker block(remote_models_);
      remote_models_->clear();
      remote_models_->addItems(models);
      if (models.contains(previous)) remote_models_->setCurrentText(previous);
    }
    show_engine();
    status_->setText("Connected: runs now execute on " + description.mid(description.indexOf(' ') + 1));
    engine_dock_->show();
    if (options_.restore) QSettings().setValue("engine/url", controller_->engine_url());
    if (run_after_connect_) {
      run_after_connect_ = false;
      starting_ = true;
      run_now();
    }
  });
  connect(remote_models_, &QComboBox::currentTextChanged, this, [this] {
    set_model_label();
    update_stale();
  });
  show_engine();
}

void MainWindow::show_engine() {
  const bool remote = controller_->remote();
  engine_label_->setText(controller_->engine_description());
  engine_label_->setToolTip(remote ? "Runs execute on this engine; τ, the rule and the views stay on this computer"
                                   : "Runs execute on this computer (File → Connect to engine… for a GPU server)");
  remote_models_->setVisible(remote);
  // The server runs on its own device (serve --device): the box is for local runs.
  device_->setEnabled(!remote);
  device_->setToolTip(remote ? "Remote runs use the engine's device (cascadelens-cli serve --device)" : QString());
  set_model_label();
  update_stale();
}

void MainWindow::connect_engine(const QString& url, const QString& token) {
  controller_->connect_engine(url, token);
}

void MainWindow::connect_engine_dialog() {
  QDialog dialog(this);
  dialog.setWindowTitle("Connect to engine");
  auto* layout = new QVBoxLayout(&dialog);
  auto* local = new QRadioButton("Local: run models on this computer", &dialog);
  auto* remote = new QRadioButton("Remote: run models on `cascadelens-cli serve` on another machine", &dialog);
  (controller_->remote() ? remote : local)->setChecked(true);
  layout->addWidget(local);
  layout->addWidget(remote);
  auto* form = new QFormLayout();
  auto* address = new QLineEdit(&dialog);
  address->setObjectName("engine-address");
  address->setPlaceholderText("localhost:7341");
  address->setText(controller_->remote() ? controller_->engine_url()
                                         : QSettings().value("engine/url", "http://localhost:7341").toString());
  auto* token = new QLineEdit(&dialog);
  token->setObjectName("engine-token");
  token->setEchoMode(QLineEdit::Password);
  token->setText(read_engine_token());
  token->setPlaceholderText("the token serve printed, or the contents of its --token-file");
  auto* remember = new QCheckBox("Remember the token (in a file only you can read)", &dialog);
  remember->setChecked(true);
  remember->setToolTip(engine_token_path());
  form->addRow("host:port", address);
  form->addRow("token", token);
  form->addRow("", remember);
  layout->addLayout(form);
  auto* help = new QLabel(
      "On the GPU server: <tt>cascadelens-cli serve --models DIR --token-file ~/.cascadelens-token</tt>. "
      "Through an SSH tunnel: <tt>ssh -L 7341:localhost:7341 gpu-box cascadelens-cli serve --models …</tt>, "
      "then connect to <tt>localhost:7341</tt>.", &dialog);
  help->setWordWrap(true);
  help->setTextFormat(Qt::RichText);
  layout->addWidget(help);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
  buttons->button(QDialogButtonBox::Ok)->setText("Connect");
  layout->addWidget(buttons);
  auto enable = [=] {
    address->setEnabled(remote->isChecked());
    token->setEnabled(remote->isChecked());
    remember->setEnabled(remote->isChecked());
    buttons->button(QDialogButtonBox::Ok)->setText(remote->isChecked() ? "Connect" : "Use local");
  };
  connect(remote, &QRadioButton::toggled, &dialog, enable);
  enable();
  connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
  if (dialog.exec() != QDialog::Accepted) return;
  if (!remote->isChecked()) {
    controller_->use_local_engine();
    return;
  }
  const QString url = address->text().trimmed().isEmpty() ? address->placeholderText() : address->text().trimmed();
  if (token->text().trimmed().isEmpty()) {
    warn("The engine needs its token: the one `cascadelens-cli serve` printed, or its --token-file's contents.");
    return;
  }
  try {
    if (remember->isChecked()) store_engine_token(token->text());
    else forget_engine_token();
  } catch (const std::exception& e) {
    warn(QString("The token was not remembered: ") + e.what());
  }
  connect_engine(url, token->text().trimmed());
}

}  // namespace cascade::app
