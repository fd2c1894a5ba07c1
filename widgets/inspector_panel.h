#pragma once
// The token inspector (Qt panel): the selected token at the selected layer — its text, γ, its
// prior-max partner π, its independent and cascade status, its nearest representative and cosine,
// the tokens it represents, and its status across every layer (a strip; click a layer to go there).
#include <QWidget>

#include "widgets/run_view.h"

class QLabel;

namespace cascade::widgets {

class StatusTimeline;

class InspectorPanel : public QWidget {
  Q_OBJECT
 public:
  explicit InspectorPanel(RunView* view, QWidget* parent = nullptr);
  QString text() const;  // the panel's text (tests)

 private:
  void refresh();
  RunView* view_;
  QLabel* label_;
  StatusTimeline* timeline_;
};

}  // namespace cascade::widgets
