#pragma once
// Teaching mode: full screen, large type, one cascade transition stepped through Algorithm 1.
// → / Space next stage (then the next layer), ← previous, ↑/↓ change layer, Esc leaves.
#include <QWidget>

#include "widgets/figures/cascade_step.h"
#include "widgets/run_view.h"

namespace cascade::widgets {

class TeachingWindow : public QWidget {
  Q_OBJECT
 public:
  explicit TeachingWindow(RunView* view, QWidget* parent = nullptr);
  void next();
  void previous();
  QImage render_current() const;

 protected:
  void paintEvent(QPaintEvent*) override;
  void keyPressEvent(QKeyEvent* e) override;

 private:
  FigureState shown_state() const;
  RunView* view_;
  CascadeStepFigure figure_;
};

}  // namespace cascade::widgets
