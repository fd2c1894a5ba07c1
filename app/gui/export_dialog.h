#pragma once
// The layout of an export: natural size or a paper/slide preset (widgets::export_presets), the
// title, the emphasis on the selected layer and token, anonymity, and a PNG's resolution. The
// choice is remembered for the next export.
#include <QDialog>

#include "widgets/figure.h"
#include "widgets/render.h"

class QCheckBox;
class QComboBox;
class QSpinBox;

namespace cascade::app {

class ExportDialog : public QDialog {
 public:
  // `what`: the figure's title or "all figures"; `png`: a PNG is among the files (asks its DPI).
  ExportDialog(QWidget* parent, const QString& what, bool png);
  // The chosen layout onto an export's state and options (size, type floor, title, highlight,
  // anonymous, DPI); stores the choice in the settings.
  void apply(widgets::FigureState& state, widgets::ExportOptions& options) const;
  QComboBox* preset_box() const { return preset_; }  // index 0: natural size; then export_presets()

 private:
  QComboBox* preset_;
  QCheckBox *title_, *highlight_, *anonymous_;
  QSpinBox* dpi_ = nullptr;
};

}  // namespace cascade::app
