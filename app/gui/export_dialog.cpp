#include "gui/export_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QSettings>
#include <QSpinBox>

namespace cascade::app {

ExportDialog::ExportDialog(QWidget* parent, const QString& what, bool png) : QDialog(parent) {
  setWindowTitle("Export " + what);
  QSettings settings;
  auto* form = new QFormLayout(this);
  preset_ = new QComboBox(this);
  preset_->setObjectName("export-preset");
  preset_->addItem("As designed (each figure's own size and type)", QString());
  for (const widgets::ExportPreset& p : widgets::export_presets()) preset_->addItem(p.label, QString(p.id));
  const int remembered = preset_->findData(settings.value("export/preset").toString());
  preset_->setCurrentIndex(std::max(0, remembered));
  form->addRow("Layout:", preset_);
  title_ = new QCheckBox("Title line (leave it out when the caption says it)", this);
  title_->setChecked(settings.value("export/title", true).toBool());
  highlight_ = new QCheckBox("Emphasise the selected layer and token", this);
  highlight_->setChecked(settings.value("export/highlight", true).toBool());
  anonymous_ = new QCheckBox("Anonymous: no model or file name (double-blind review)", this);
  anonymous_->setChecked(settings.value("export/anonymous", false).toBool());
  form->addRow(title_);
  form->addRow(highlight_);
  form->addRow(anonymous_);
  if (png) {
    dpi_ = new QSpinBox(this);
    dpi_->setRange(72, 1200);
    dpi_->setValue(settings.value("export/dpi", 300).toInt());
    dpi_->setSuffix(" dpi");
    form->addRow("PNG resolution:", dpi_);
  }
  auto* note = new QLabel("Widths are in points (1/72 in); the height follows the width and type.", this);
  note->setWordWrap(true);
  form->addRow(note);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  form->addRow(buttons);
}

void ExportDialog::apply(widgets::FigureState& state, widgets::ExportOptions& options) const {
  const QString id = preset_->currentData().toString();
  const widgets::ExportPreset* preset = widgets::find_export_preset(id);
  options.size = preset ? QSizeF(preset->width_pt, 0) : QSizeF();
  state.font_pt = preset ? preset->font_pt : 0;
  state.title = title_->isChecked();
  state.highlight = highlight_->isChecked();
  state.anonymous = anonymous_->isChecked();
  if (dpi_) options.dpi = dpi_->value();
  QSettings settings;
  settings.setValue("export/preset", id);
  settings.setValue("export/title", state.title);
  settings.setValue("export/highlight", state.highlight);
  settings.setValue("export/anonymous", state.anonymous);
  if (dpi_) settings.setValue("export/dpi", dpi_->value());
}

}  // namespace cascade::app
