#pragma once
// SPEC §8 in the desktop app: a study file's window. The study figures (per-layer bands, the
// gram_savings histogram, the methods' trade-off) in tabs, a τ picker, and the documents in a
// sortable table with any measure as a column; a second study overlaid for comparison; every
// figure exportable. Double-clicking a document opens its session (the study's "sessions" folder)
// or asks for it to be re-run with the study's model: the main window does either.
#include <QMainWindow>

#include <memory>
#include <optional>
#include <vector>

#include "core/study.h"
#include "widgets/render.h"
#include "widgets/study_figures.h"

class QComboBox;
class QLabel;
class QSortFilterProxyModel;
class QStandardItemModel;
class QTableView;
class QTabWidget;

namespace cascade::app {

// A study file as data::read_study reads it: the study and the aggregates stored with it (so the
// window draws the file's numbers, not a recomputation). InputError / UsageError as it throws them.
struct LoadedStudy {
  std::shared_ptr<const study::Study> study;
  std::optional<study::Aggregates> aggregates;
};
LoadedStudy load_study(const QString& path);

class StudyWindow : public QMainWindow {
  Q_OBJECT
 public:
  // `path` names the study in the legend and finds its sessions folder when relative ("" in tests).
  // `aggregates`: the file's (else aggregate(study) is computed).
  StudyWindow(std::shared_ptr<const study::Study> study, const QString& path, QWidget* parent = nullptr,
              std::optional<study::Aggregates> aggregates = std::nullopt);
  ~StudyWindow() override;

  // The study to compare (drawn over the first in another colour); replaces an earlier second one.
  void add_study(std::shared_ptr<const study::Study> study, const QString& path,
                 std::optional<study::Aggregates> aggregates = std::nullopt);
  void add_study_file(const QString& path);  // load_study, with a message box on failure

  std::vector<const widgets::StudyData*> studies() const;
  const widgets::StudyFigureState& figure_state() const { return state_; }
  void set_tau_index(int64_t t);
  // The table's measure: the combo's entries ("summary/gram_savings", "layers/r_ind_over_T", …).
  QStringList measures() const;
  void set_measure(const QString& label);
  void set_layer_index(int64_t l);  // the layer of a layers/* (or methods/* per-layer) measure
  // Whose documents the table lists (0: the first study, 1: the one compared).
  void set_table_study(int index);
  int table_study() const;
  QSortFilterProxyModel* table_model() const { return proxy_; }
  QTableView* table() const { return table_; }
  // What a double-click on the proxy row does (open_session_requested or rerun_requested).
  void activate_row(int proxy_row);
  void export_figure(widgets::StudyFigureKind kind, const QString& path, widgets::ExportFormat format);
  // The session of document `index` of the table's study when the study names a sessions folder and the file is there, else "".
  QString session_of(int64_t index) const;

 Q_SIGNALS:
  void open_session_requested(const QString& path);
  // Re-run one document's token ids with the study's model (widgets::study_model) at τ.
  void rerun_requested(const QString& model, const std::vector<int64_t>& ids, double tau, const QString& label);

 private:
  void build_menus();
  void rebuild_measures();
  void rebuild_table();
  void refresh();  // figures and table after a τ, measure or study change
  void export_dialog(widgets::StudyFigureKind kind, widgets::ExportFormat format);

  std::vector<std::unique_ptr<widgets::StudyData>> data_;
  QStringList paths_;
  widgets::StudyFigureState state_;
  QTabWidget* tabs_ = nullptr;
  QComboBox *tau_ = nullptr, *measure_ = nullptr, *layer_ = nullptr, *table_study_ = nullptr;
  QLabel* summary_ = nullptr;
  QLabel* table_study_label_ = nullptr;  // "Documents of:", with table_study_ once there are two
  QStandardItemModel* model_ = nullptr;
  QSortFilterProxyModel* proxy_ = nullptr;
  QTableView* table_ = nullptr;
};

}  // namespace cascade::app
