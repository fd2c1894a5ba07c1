#include "gui/cached_model_dialog.h"

#include <QDialogButtonBox>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QVBoxLayout>

#include "data/hf/hf_model.h"
#include "data/hf/weight_memory.h"
#include "gui/main_window_util.h"

namespace cascade::app {

namespace {

// "llama · 1.24 B parameters · 4.6 GiB in float32"; the problem instead when it cannot be opened.
struct EntryText {
  QString second_line, tooltip, problem;
};

EntryText describe(const data::CachedModel& m, DeviceKind device, std::optional<DType> dtype,
                   std::optional<uint64_t> available) {
  const QString type = m.model_type.empty() ? QString("no model_type") : q(m.model_type);
  if (!m.problem.empty()) {
    // The line stays inside the list: the reason up to its parenthesis (the "supported: ..." list,
    // which the tooltip carries whole), else its first 70 characters.
    QString brief = q(m.problem).section(" (", 0, 0);
    if (brief.size() > 70) brief = brief.left(69) + "…";
    return {type + " — " + brief + (brief.size() < q(m.problem).size() ? " (see the tooltip)" : ""), q(m.problem), q(m.problem)};
  }
  if (!m.weights) return {type, type, {}};
  try {
    const data::DtypeChoice choice = data::choose_dtype(*m.weights, device, dtype, available);
    return {type + " · " + q(data::format_bytes(choice.weight_bytes)) + " in " + q(to_string(choice.dtype)),
            q(choice.message), {}};
  } catch (const data::WeightsTooLarge& e) {
    const QString why = q(e.what()).section(": ", 1);  // without the folder
    return {type + " — too large for this machine's memory", why, why};
  }
}

}  // namespace

CachedModelDialog::CachedModelDialog(QWidget* parent, DeviceKind device, std::optional<DType> dtype,
                                     std::optional<uint64_t> available_bytes)
    : QDialog(parent) {
  setWindowTitle("Models in the HF cache");
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(new QLabel("Models in " + q(data::hf_cache_root()) + " (nothing is ever downloaded):", this));
  list_ = new QListWidget(this);
  list_->setObjectName("cached-models");
  list_->setSelectionMode(QAbstractItemView::SingleSelection);
  layout->addWidget(list_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Open | QDialogButtonBox::Cancel, this);
  open_ = buttons->button(QDialogButtonBox::Open);
  layout->addWidget(buttons);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

  const std::optional<uint64_t> available =
      device == DeviceKind::Cpu ? (available_bytes ? available_bytes : data::available_memory_bytes()) : std::nullopt;
  for (const data::CachedModel& m : data::cached_models()) {
    const EntryText text = describe(m, device, dtype, available);
    auto* item = new QListWidgetItem(q(m.id) + "\n" + text.second_line, list_);
    item->setData(Qt::UserRole, q(m.id));
    item->setToolTip(text.tooltip);
    if (!text.problem.isEmpty()) item->setFlags(item->flags() & ~(Qt::ItemIsEnabled | Qt::ItemIsSelectable));
  }
  for (int i = 0; i < list_->count(); ++i)
    if (list_->item(i)->flags() & Qt::ItemIsSelectable) {
      list_->setCurrentRow(i);
      break;
    }
  auto update = [this] { open_->setEnabled(!selected_id().isEmpty()); };
  connect(list_, &QListWidget::itemSelectionChanged, this, update);
  connect(list_, &QListWidget::itemDoubleClicked, this, [this](QListWidgetItem* item) {
    if (item->flags() & Qt::ItemIsEnabled) accept();
  });
  update();
  resize(640, 420);
}

int CachedModelDialog::count() const { return list_->count(); }

QString CachedModelDialog::selected_id() const {
  const auto items = list_->selectedItems();
  return items.isEmpty() || !(items.front()->flags() & Qt::ItemIsEnabled) ? QString()
                                                                           : items.front()->data(Qt::UserRole).toString();
}

}  // namespace cascade::app
