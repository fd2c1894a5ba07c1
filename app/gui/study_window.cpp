#include "gui/study_window.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QPaintEvent>
#include <QPainter>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

#include <cmath>
#include <limits>

#include "data/study/study_file.h"

namespace cascade::app {

namespace {

using widgets::StudyFigureKind;

// The table sorts on this role: numbers as doubles (so 10 comes after 9), text as text.
constexpr int kSortRole = Qt::UserRole + 1;
constexpr int kDocumentRole = Qt::UserRole + 2;  // column 0: the document's row in the study
enum Column { kId, kSource, kOffset, kT, kMeasure };

// One column the table can show: a per-document array at a position that depends on the τ, the
// layer, a quality mode or a method.
struct Measure {
  enum Kind { PerTau, LayerTau, ModeTau, Item, ItemLayer } kind;
  QString label;
  std::string array;
  int64_t sub = 0;  // the mode or method
};

std::vector<Measure> measures_of(const study::Study& s) {
  std::vector<Measure> out;
  const auto taus = static_cast<int64_t>(s.taus.size()), L = static_cast<int64_t>(s.layers.size());
  for (const study::Array& a : s.arrays) {
    const QString name = QString::fromStdString(a.name);
    const auto& sh = a.shape;
    if (name.startsWith("summary/") && sh.size() == 1 && sh[0] == taus) {
      out.push_back({Measure::PerTau, name, a.name});
    } else if (name.startsWith("layers/") && sh.size() == 2 && sh[0] == L && sh[1] == taus) {
      out.push_back({Measure::LayerTau, name, a.name});
    } else if (name.startsWith("quality/") && sh.size() == 2 && sh[1] == taus) {
      for (int64_t m = 0; m < sh[0] && m < static_cast<int64_t>(s.quality_modes.size()); ++m)
        out.push_back({Measure::ModeTau, name + " · " + QString::fromStdString(s.quality_modes[static_cast<size_t>(m)]), a.name, m});
    } else if (name.startsWith("methods/") && !sh.empty()) {
      for (int64_t m = 0; m < sh[0] && m < static_cast<int64_t>(s.methods.size()); ++m)
        out.push_back({sh.size() == 2 ? Measure::ItemLayer : Measure::Item,
                       name + " · " + QString::fromStdString(s.methods[static_cast<size_t>(m)]), a.name, m});
    } else if (a.per_document() == 1) {
      out.push_back({Measure::Item, name, a.name, 0});
    }
  }
  return out;
}

// The flat per-document position of a measure at τ index t and layer index l.
int64_t flat_of(const Measure& m, const study::Study& s, int64_t t, int64_t l) {
  const auto taus = static_cast<int64_t>(s.taus.size()), L = static_cast<int64_t>(s.layers.size());
  switch (m.kind) {
    case Measure::PerTau: return t;
    case Measure::LayerTau: return l * taus + t;
    case Measure::ModeTau: return m.sub * taus + t;
    case Measure::Item: return m.sub;
    case Measure::ItemLayer: return m.sub * L + l;
  }
  return 0;
}

QStandardItem* number_item(double v, int decimals) {
  auto* item = new QStandardItem(std::isfinite(v) ? QString::number(v, 'f', decimals) : QString("—"));
  // A missing value sorts below every number, in either order it stays together.
  item->setData(std::isfinite(v) ? v : std::numeric_limits<double>::lowest(), kSortRole);
  item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
  return item;
}

QStandardItem* text_item(const QString& text) {
  auto* item = new QStandardItem(text);
  item->setData(text, kSortRole);
  return item;
}

// One study figure on screen: painted by the same code as its exports, at the widget's size.
class StudyFigureWidget : public QWidget {
 public:
  StudyFigureWidget(StudyFigureKind kind, StudyWindow* window) : QWidget(window), kind_(kind), window_(window) {
    setMinimumSize(360, 240);
  }

 protected:
  void paintEvent(QPaintEvent*) override {
    QPainter p(this);
    const QImage img = widgets::render_study_figure(kind_, window_->studies(), window_->figure_state(), size(), devicePixelRatioF());
    p.drawImage(QPointF(0, 0), img);
  }

 private:
  StudyFigureKind kind_;
  StudyWindow* window_;
};

}  // namespace

LoadedStudy load_study(const QString& path) {
  study::Aggregates stored;
  auto s = std::make_shared<const study::Study>(data::read_study(path.toStdString(), &stored));
  return {std::move(s), std::move(stored)};
}

StudyWindow::StudyWindow(std::shared_ptr<const study::Study> study, const QString& path, QWidget* parent,
                         std::optional<study::Aggregates> aggregates)
    : QMainWindow(parent) {
  setObjectName("study");
  const QString name = widgets::study_name(*study, path);
  data_.push_back(std::make_unique<widgets::StudyData>(widgets::make_study_data(std::move(study), name, std::move(aggregates))));
  paths_ << path;
  setWindowTitle("Study — " + name);

  auto* central = new QWidget(this);
  auto* layout = new QVBoxLayout(central);
  auto* bar = new QHBoxLayout;
  tau_ = new QComboBox(central);
  tau_->setObjectName("study-tau");
  for (double t : data_[0]->study->taus) tau_->addItem(QString("τ = %1").arg(t, 0, 'f', 2));
  measure_ = new QComboBox(central);
  measure_->setObjectName("study-measure");
  layer_ = new QComboBox(central);
  layer_->setObjectName("study-layer");
  summary_ = new QLabel(central);
  table_study_ = new QComboBox(central);
  table_study_->setObjectName("study-table-study");
  table_study_->addItem(name);
  table_study_label_ = new QLabel("Documents of:", central);
  table_study_->setVisible(false);  // shown once a second study is added
  table_study_label_->setVisible(false);
  bar->addWidget(new QLabel("τ:", central));
  bar->addWidget(tau_);
  bar->addSpacing(16);
  bar->addWidget(table_study_label_);
  bar->addWidget(table_study_);
  bar->addWidget(new QLabel("Table column:", central));
  bar->addWidget(measure_, 1);
  bar->addWidget(layer_);
  bar->addSpacing(16);
  bar->addWidget(summary_);
  layout->addLayout(bar);

  auto* split = new QSplitter(Qt::Horizontal, central);
  tabs_ = new QTabWidget(split);
  for (StudyFigureKind k : widgets::study_figure_kinds()) {
    auto* w = new StudyFigureWidget(k, this);
    w->setObjectName(widgets::study_figure_id(k));
    tabs_->addTab(w, widgets::study_figure_title(k));
  }
  model_ = new QStandardItemModel(this);
  proxy_ = new QSortFilterProxyModel(this);
  proxy_->setSourceModel(model_);
  proxy_->setSortRole(kSortRole);
  table_ = new QTableView(split);
  table_->setObjectName("study-documents");
  table_->setModel(proxy_);
  // Unsorted at first: the study's canonical order (Document::index); a header click sorts.
  table_->horizontalHeader()->setSortIndicator(-1, Qt::AscendingOrder);
  table_->setSortingEnabled(true);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setToolTip("Double-click a document: its session when the study saved one, else run it in the main window");
  split->addWidget(tabs_);
  split->addWidget(table_);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  layout->addWidget(split, 1);
  setCentralWidget(central);

  rebuild_measures();
  connect(tau_, &QComboBox::currentIndexChanged, this, [this](int t) { set_tau_index(t); });
  connect(measure_, &QComboBox::currentIndexChanged, this, [this] { rebuild_table(); });
  connect(layer_, &QComboBox::currentIndexChanged, this, [this] { rebuild_table(); });
  connect(table_study_, &QComboBox::currentIndexChanged, this, [this] {
    rebuild_measures();
    rebuild_table();
  });
  connect(table_, &QTableView::doubleClicked, this, [this](const QModelIndex& i) { activate_row(i.row()); });
  build_menus();
  refresh();
  resize(1400, 820);
}

StudyWindow::~StudyWindow() = default;

void StudyWindow::build_menus() {
  QMenu* file = menuBar()->addMenu("&File");
  file->addAction("&Add study to compare…", this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, "Add a study to compare", QFileInfo(paths_.front()).path(),
                                                      "Study (*.h5);;All files (*)");
    if (!path.isEmpty()) add_study_file(path);
  });
  file->addSeparator();
  file->addAction("&Close", QKeySequence::Close, this, &QWidget::close);
  QMenu* exp = menuBar()->addMenu("&Export");
  for (StudyFigureKind k : widgets::study_figure_kinds()) {
    QMenu* sub = exp->addMenu(widgets::study_figure_title(k));
    for (widgets::ExportFormat f : {widgets::ExportFormat::Png, widgets::ExportFormat::Svg, widgets::ExportFormat::Pdf})
      sub->addAction(widgets::extension(f).toUpper() + "…", this, [this, k, f] { export_dialog(k, f); });
  }
}

std::vector<const widgets::StudyData*> StudyWindow::studies() const {
  std::vector<const widgets::StudyData*> out;
  for (const auto& d : data_) out.push_back(d.get());
  return out;
}

void StudyWindow::add_study(std::shared_ptr<const study::Study> study, const QString& path,
                            std::optional<study::Aggregates> aggregates) {
  const QString name = widgets::study_name(*study, path);
  auto d = std::make_unique<widgets::StudyData>(widgets::make_study_data(std::move(study), name, std::move(aggregates)));
  if (data_.size() > 1) data_.resize(1), paths_.resize(1);  // two side by side: a third replaces the second
  data_.push_back(std::move(d));
  paths_ << path;
  setWindowTitle("Study — " + data_[0]->name + " vs " + data_[1]->name);
  {
    const QSignalBlocker block(table_study_);
    while (table_study_->count() > 1) table_study_->removeItem(1);
    table_study_->addItem(data_[1]->name);
    table_study_->setCurrentIndex(0);
  }
  table_study_->setVisible(true);
  table_study_label_->setVisible(true);
  rebuild_measures();
  refresh();
}

void StudyWindow::add_study_file(const QString& path) {
  try {
    LoadedStudy loaded = load_study(path);
    add_study(std::move(loaded.study), path, std::move(loaded.aggregates));
  } catch (const std::exception& e) {
    QMessageBox::warning(this, "Cascade Lens", QString("Cannot open the study %1: %2").arg(path, e.what()));
  }
}

void StudyWindow::set_tau_index(int64_t t) {
  const auto n = static_cast<int64_t>(data_[0]->study->taus.size());
  state_.tau = std::clamp<int64_t>(t, 0, std::max<int64_t>(0, n - 1));
  if (tau_->currentIndex() != state_.tau) tau_->setCurrentIndex(static_cast<int>(state_.tau));
  refresh();
}

QStringList StudyWindow::measures() const {
  QStringList out;
  for (int i = 0; i < measure_->count(); ++i) out << measure_->itemText(i);
  return out;
}

void StudyWindow::set_measure(const QString& label) { measure_->setCurrentIndex(measure_->findText(label)); }
void StudyWindow::set_layer_index(int64_t l) { layer_->setCurrentIndex(static_cast<int>(l)); }
void StudyWindow::set_table_study(int index) { table_study_->setCurrentIndex(index); }
int StudyWindow::table_study() const { return std::clamp(table_study_->currentIndex(), 0, static_cast<int>(data_.size()) - 1); }

void StudyWindow::rebuild_measures() {
  const QSignalBlocker block(measure_), block_layer(layer_);
  const QString kept = measure_->currentText();
  const int kept_layer = layer_->currentIndex();
  const study::Study& s = *data_[static_cast<size_t>(table_study())]->study;
  measure_->clear();
  for (const Measure& m : measures_of(s)) measure_->addItem(m.label);
  layer_->clear();
  for (int64_t l : s.layers) layer_->addItem(QString("layer %1").arg(l));
  layer_->setCurrentIndex(std::clamp(kept_layer, 0, std::max(0, layer_->count() - 1)));
  // The same column for the other study when it has it, else the headline: what a study is for
  // (SPEC §8) — the Gram work the cascade saves per document.
  const int k = measure_->findText(kept), g = measure_->findText("summary/gram_savings");
  measure_->setCurrentIndex(k >= 0 ? k : g >= 0 ? g : 0);
}

void StudyWindow::rebuild_table() {
  const study::Study& s = *data_[static_cast<size_t>(table_study())]->study;
  const int64_t tau = s.taus.empty() || data_[0]->study->taus.empty() ? 0 : [&] {  // the shown τ's value in this study's grid
    const double want = data_[0]->study->taus[static_cast<size_t>(state_.tau)];
    int64_t best = 0;
    for (size_t i = 1; i < s.taus.size(); ++i)
      if (std::abs(s.taus[i] - want) < std::abs(s.taus[static_cast<size_t>(best)] - want)) best = static_cast<int64_t>(i);
    return best;
  }();
  const auto ms = measures_of(s);
  const int mi = measure_->currentIndex();
  const Measure* m = mi >= 0 && mi < static_cast<int>(ms.size()) ? &ms[static_cast<size_t>(mi)] : nullptr;
  layer_->setEnabled(m && (m->kind == Measure::LayerTau || m->kind == Measure::ItemLayer));
  const study::Array* a = m ? s.find(m->array) : nullptr;
  const int64_t flat = m ? flat_of(*m, s, tau, std::max(0, layer_->currentIndex())) : 0;
  const int sort_column = table_->horizontalHeader()->sortIndicatorSection();
  const Qt::SortOrder order = table_->horizontalHeader()->sortIndicatorOrder();
  model_->clear();
  QString header = m ? m->label : QString("measure");
  if (m && (m->kind == Measure::LayerTau || m->kind == Measure::ItemLayer)) header += " @ " + layer_->currentText();
  if (m && !s.taus.empty() && (m->kind == Measure::PerTau || m->kind == Measure::LayerTau || m->kind == Measure::ModeTau))
    header += QString(" @ τ = %1").arg(s.taus[static_cast<size_t>(tau)], 0, 'f', 2);
  model_->setHorizontalHeaderLabels({"id", "source", "offset", "T", header});
  for (size_t d = 0; d < s.documents.size(); ++d) {
    const study::Document& doc = s.documents[d];
    QList<QStandardItem*> row;
    row << text_item(QString::fromStdString(doc.id)) << text_item(QString::fromStdString(doc.source))
        << number_item(static_cast<double>(doc.offset), 0) << number_item(static_cast<double>(doc.T), 0)
        << number_item(a && flat < a->per_document() ? a->at(static_cast<int64_t>(d), flat) : std::nan(""), 4);
    row[0]->setData(static_cast<qlonglong>(d), kDocumentRole);
    model_->appendRow(row);
  }
  if (sort_column >= 0 && sort_column <= kMeasure) proxy_->sort(sort_column, order);
  table_->resizeColumnsToContents();
}

void StudyWindow::refresh() {
  const auto* g = data_[0]->aggregates.find("summary/gram_savings");
  if (g && state_.tau < static_cast<int64_t>(g->cells.size())) {
    const stats::Describe& d = g->cells[static_cast<size_t>(state_.tau)];
    summary_->setText(QString("%1 documents · gram_savings %2 [%3, %4]").arg(data_[0]->study->documents.size())
                          .arg(d.mean, 0, 'f', 3).arg(d.ci95[0], 0, 'f', 3).arg(d.ci95[1], 0, 'f', 3));
  } else {
    summary_->setText(QString("%1 documents").arg(data_[0]->study->documents.size()));
  }
  rebuild_table();
  for (int i = 0; i < tabs_->count(); ++i) tabs_->widget(i)->update();
}

QString StudyWindow::session_of(int64_t index) const {
  const auto which = static_cast<size_t>(table_study());
  const study::Study& s = *data_[which]->study;
  const auto folder = s.params.get("sessions");
  if (!folder || folder->empty() || index < 0 || index >= static_cast<int64_t>(s.documents.size())) return {};
  QString dir = QString::fromStdString(*folder);
  // A relative folder is beside the study file (the file moves with its sessions).
  if (QDir::isRelativePath(dir) && !paths_[static_cast<qsizetype>(which)].isEmpty())
    dir = QFileInfo(paths_[static_cast<qsizetype>(which)]).dir().filePath(dir);
  const QString path = QDir(dir).filePath(QString::fromStdString(s.documents[static_cast<size_t>(index)].id) + ".h5");
  return QFileInfo::exists(path) ? path : QString();
}

void StudyWindow::activate_row(int proxy_row) {
  const QModelIndex i = proxy_->mapToSource(proxy_->index(proxy_row, kId));
  if (!i.isValid()) return;
  const int64_t d = model_->data(i, kDocumentRole).toLongLong();
  if (const QString session = session_of(d); !session.isEmpty()) {
    Q_EMIT open_session_requested(session);
    return;
  }
  const study::Study& s = *data_[static_cast<size_t>(table_study())]->study;
  const study::Document& doc = s.documents[static_cast<size_t>(d)];
  const auto& taus = data_[0]->study->taus;  // the τ shown
  const double tau = taus.empty() ? std::nan("") : taus[static_cast<size_t>(state_.tau)];
  Q_EMIT rerun_requested(widgets::study_model(s), doc.ids, tau,
                         QString("%1 @ %2").arg(QString::fromStdString(doc.source)).arg(doc.offset));
}

void StudyWindow::export_figure(StudyFigureKind kind, const QString& path, widgets::ExportFormat format) {
  widgets::export_study_figure(kind, studies(), state_, path, widgets::ExportOptions{format, {}, 300});
}

void StudyWindow::export_dialog(StudyFigureKind kind, widgets::ExportFormat format) {
  const QString ext = widgets::extension(format);
  const QString suggested = QFileInfo(paths_.front()).dir().filePath(widgets::study_figure_id(kind) + "." + ext);
  const QString path = QFileDialog::getSaveFileName(this, "Export " + widgets::study_figure_title(kind), suggested,
                                                    ext.toUpper() + " (*." + ext + ")");
  if (path.isEmpty()) return;
  try {
    export_figure(kind, path, format);
  } catch (const std::exception& e) {
    QMessageBox::warning(this, "Cascade Lens", QString("Export failed: %1").arg(e.what()));
  }
}

}  // namespace cascade::app
