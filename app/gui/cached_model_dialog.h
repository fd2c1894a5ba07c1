#pragma once
// "Open model from the HF cache": every cached model, one entry each with its hub id, model_type
// and the weights' size in the dtype a run would load them in (data::choose_dtype against this
// machine's memory). A model that cannot be opened — a model_type outside the architecture table,
// a config.json or weights it cannot read, weights that fit in memory in no dtype — is listed
// greyed and cannot be chosen; its second line and tooltip say why.
#include <QDialog>
#include <QString>

#include <cstdint>
#include <optional>

#include "core/run_record.h"

class QListWidget;
class QPushButton;

namespace cascade::app {

class CachedModelDialog : public QDialog {
 public:
  // The entries are for a run on `device` in `dtype` (none: the automatic choice); `available_bytes`
  // overrides the machine's MemAvailable (tests).
  CachedModelDialog(QWidget* parent, DeviceKind device, std::optional<DType> dtype,
                    std::optional<uint64_t> available_bytes = std::nullopt);
  // Item data: Qt::UserRole the hub id; disabled items are the models that cannot be opened.
  QListWidget* list() const { return list_; }
  int count() const;           // entries listed
  QString selected_id() const;  // the chosen hub id, "" when none

 private:
  QListWidget* list_;
  QPushButton* open_;
};

}  // namespace cascade::app
