#include "gui/methods_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QGridLayout>
#include <QLabel>
#include <QPushButton>
#include <QSignalBlocker>
#include <QTimer>
#include <QVBoxLayout>

#include "gui/controller.h"
#include "widgets/figure_view.h"
#include "widgets/figures/method_view.h"
#include "widgets/run_view.h"

namespace cascade::app {

namespace {

// The budgets the box offers (SPEC §7's names; any other comes from a session and is added).
const char* const kBudgets[] = {"cascade", "independent", "ratio:0.25", "ratio:0.5"};
const char* const kStatuses = "cascade (statuses)";

}  // namespace

MethodsPanel::MethodsPanel(widgets::RunView* view, Controller* controller, QWidget* parent)
    : QWidget(parent), view_(view), controller_(controller) {
  auto* grid = new QGridLayout;
  budget_ = new QComboBox(this);
  for (const char* b : kBudgets) budget_->addItem(QString::fromStdString(to_string(parse_budget(b))));
  budget_->setToolTip("r_l of every method at each layer: the cascade's or the independent set's size, or a fraction of T");
  axis_ = new QComboBox(this);
  axis_->addItems({"attn_err", "coverage"});
  axis_->setToolTip("attn_err: SPEC §5's attention error with the method's set (needs the model); "
                    "coverage: mean over tokens of the best |cos| to the set");
  quality_ = new QCheckBox("quality (ppl, KL)", this);
  quality_->setToolTip("End to end: runs the model once per method with its sets in every block (slow; needs the model)");
  compare_ = new QPushButton("Compare", this);
  compare_->setToolTip("Compare every method at the shown τ and budget (a background job: Cancel stops it)");
  tradeoff_ = new QPushButton("Trade-off over τ", this);
  tradeoff_->setToolTip("Compare every method at up to 8 τ of the sweep, each at the cascade's budget there: the trade-off figure");
  method_a_ = new QComboBox(this);
  method_b_ = new QComboBox(this);
  method_a_->addItem(kStatuses);
  method_b_->addItem("none");
  for (Method m : widgets::pickable_methods()) {
    method_a_->addItem(widgets::method_label(m));
    method_b_->addItem(widgets::method_label(m));
  }
  method_a_->setToolTip("The depth player and the token map colour each token kept / not kept by this method");
  method_b_->setToolTip("A second method: the tokens kept by A only, B only, both or neither");
  grid->addWidget(new QLabel("Budget", this), 0, 0);
  grid->addWidget(budget_, 0, 1);
  grid->addWidget(new QLabel("Axis", this), 0, 2);
  grid->addWidget(axis_, 0, 3);
  grid->addWidget(quality_, 0, 4);
  grid->addWidget(compare_, 0, 5);
  grid->addWidget(tradeoff_, 0, 6);
  grid->addWidget(new QLabel("Colour tokens by", this), 1, 0);
  grid->addWidget(method_a_, 1, 1);
  grid->addWidget(new QLabel("against", this), 1, 2);
  grid->addWidget(method_b_, 1, 3);
  grid->setColumnStretch(7, 1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addLayout(grid);
  figure_ = new widgets::FigureView(widgets::make_figure("methods"), view_, this);
  figure_->setObjectName("figure-methods");
  layout->addWidget(figure_, 1);
  connect(figure_, &widgets::FigureView::export_requested, this, &MethodsPanel::export_requested);

  timer_ = new QTimer(this);
  timer_->setSingleShot(true);
  timer_->setInterval(250);
  connect(timer_, &QTimer::timeout, this, &MethodsPanel::maybe_compare);
  connect(view_, &widgets::RunView::run_changed, this, &MethodsPanel::schedule);
  connect(view_, &widgets::RunView::comparisons_changed, this, &MethodsPanel::sync_from_view);
  // A job that ended (this one or another) may have left the shown τ without a comparison.
  connect(controller_, &Controller::job_finished, this, &MethodsPanel::schedule);
  connect(budget_, &QComboBox::currentTextChanged, this, [this] {
    view_->set_comparison_budget(budget());
    schedule();
  });
  connect(axis_, &QComboBox::currentIndexChanged, this, [this](int i) { view_->set_methods_coverage(i == 1); });
  connect(compare_, &QPushButton::clicked, this, &MethodsPanel::compare_now);
  connect(tradeoff_, &QPushButton::clicked, this, &MethodsPanel::compare_tradeoff);
  auto picked = [this] {
    auto method_of = [](const QComboBox* box) -> std::optional<Method> {
      if (box->currentIndex() <= 0) return std::nullopt;
      return parse_method(box->currentText().toStdString());
    };
    view_->set_methods(method_of(method_a_), method_of(method_b_));
    method_b_->setEnabled(method_a_->currentIndex() > 0);
    if (method_a_->currentIndex() > 0 && !view_->state().comparison) compare_now();
  };
  connect(method_a_, &QComboBox::currentIndexChanged, this, picked);
  connect(method_b_, &QComboBox::currentIndexChanged, this, picked);
  method_b_->setEnabled(false);
}

Budget MethodsPanel::budget() const { return parse_budget(budget_->currentText().toStdString()); }

void MethodsPanel::pick(std::optional<Method> a, std::optional<Method> b) {
  const QSignalBlocker block_b(method_b_);
  method_b_->setCurrentText(b ? widgets::method_label(*b) : QString("none"));
  method_a_->setCurrentText(a ? widgets::method_label(*a) : QString(kStatuses));  // applies both
  if (method_a_->currentText() == (a ? widgets::method_label(*a) : QString(kStatuses)))
    view_->set_methods(a, b);
}

bool MethodsPanel::compare_now() {
  if (!view_->has_run() || controller_->busy()) return false;
  if (!view_->snapshot()->has_activations()) return false;
  controller_->compare(budget(), quality_->isChecked() && controller_->has_model_for_run());
  return controller_->busy();
}

bool MethodsPanel::compare_tradeoff() {
  if (!view_->has_run() || controller_->busy() || !view_->snapshot()->has_activations()) return false;
  const auto taus = controller_->tradeoff_taus();
  if (taus.size() < 2) return false;
  // The trade-off is over the sweep's own budgets (the cascade's r at each τ), whatever the box says.
  controller_->compare(Budget{}, quality_->isChecked() && controller_->has_model_for_run(), taus);
  return controller_->busy();
}

void MethodsPanel::set_auto(bool on) {
  auto_ = on;
  if (on) schedule();
}

void MethodsPanel::schedule() {
  if (auto_) timer_->start();
}

void MethodsPanel::maybe_compare() {
  if (!auto_ || !view_->has_run() || view_->state().comparison || !view_->snapshot()->has_activations()) return;
  if (controller_->busy()) return;  // asked again when that job ends
  const QString key = QString("%1|%2|%3|%4").arg(reinterpret_cast<quintptr>(&view_->snapshot()->record()))
                          .arg(view_->snapshot()->tau(), 0, 'g', 12).arg(budget_->currentText())
                          .arg(quality_->isChecked());
  if (key == attempted_) return;  // failed or cancelled once: the user asks again with Compare
  attempted_ = key;
  compare_now();
}

void MethodsPanel::sync_from_view() {
  const QString shown = QString::fromStdString(to_string(view_->comparison_budget()));
  if (budget_->currentText() == shown) return;
  const QSignalBlocker block(budget_);
  if (budget_->findText(shown) < 0) budget_->addItem(shown);
  budget_->setCurrentText(shown);
}

}  // namespace cascade::app
