#include "widgets/teaching_window.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>

#include <algorithm>
#include <cmath>

#include "widgets/figures/teaching_draw.h"
#include "widgets/palette.h"
#include "widgets/render.h"

namespace cascade::widgets {

TeachingWindow::TeachingWindow(RunView* view, QWidget* parent) : QWidget(parent, Qt::Window), view_(view) {
  setWindowTitle("Cascade Lens — teaching");
  setObjectName("teaching");
  setFocusPolicy(Qt::StrongFocus);
  connect(view_, &RunView::changed, this, qOverload<>(&QWidget::update));
  // A τ change or a layer step elsewhere drops the explanation: fetch the new one while shown.
  auto refetch = [this] {
    if (isVisible()) view_->ensure_explanation();
  };
  connect(view_, &RunView::run_changed, this, refetch);
  connect(view_, &RunView::layer_changed, this, refetch);
  connect(view_, &RunView::run_changed, this, [this] {  // another run: its answer is another set
    if (exercise_) leave_exercise();
  });
  if (view_->has_run() && view_->state().layer < 1) view_->set_layer(1);
  view_->ensure_explanation();
}

void TeachingWindow::showEvent(QShowEvent* e) {
  QWidget::showEvent(e);
  if (!e->spontaneous()) restart();  // F5 opens on the opening sequence
}

// ---- where the lesson is -------------------------------------------------------------------

void TeachingWindow::restart() {
  exercise_ = revealed_ = false;
  guesses_.clear();
  intro_stage_ = 0;
  update();
}

void TeachingWindow::show_algorithm() {
  exercise_ = false;
  intro_stage_ = -1;
  if (view_->has_run() && view_->state().layer < 1) view_->set_layer(1);
  view_->ensure_explanation();
  update();
}

int TeachingWindow::first_step() const { return 0; }  // "inherit" always has something to show

void TeachingWindow::go_to_step(int step) {
  const CascadeExplanation* ex = view_->state().explanation;
  while (ex && step < CascadeStepFigure::kSteps - 1 && !CascadeStepFigure::stage_compares(*ex, view_->snapshot()->T(), step))
    ++step;
  view_->set_teach_step(step);
}

void TeachingWindow::next() {
  if (!view_->has_run()) return;
  if (exercise_) {
    if (!revealed_) reveal();
    else leave_exercise();
    return;
  }
  if (intro_stage_ >= 0) {
    if (intro_stage_ + 1 < TeachingIntroFigure::kStages) {
      ++intro_stage_;
    } else {
      intro_stage_ = -1;
      if (view_->state().layer < 1) view_->set_layer(1);
      view_->ensure_explanation();
      view_->set_teach_step(first_step());
    }
    update();
    return;
  }
  view_->ensure_explanation();
  const CascadeExplanation* ex = view_->state().explanation;
  const int64_t T = view_->snapshot()->T();
  int step = view_->state().teach_step + 1;
  while (ex && step < CascadeStepFigure::kSteps && !CascadeStepFigure::stage_compares(*ex, T, step)) ++step;
  if (step < CascadeStepFigure::kSteps) {
    view_->set_teach_step(step);
  } else if (view_->state().layer + 1 < view_->snapshot()->L()) {
    view_->set_layer(view_->state().layer + 1);
    view_->ensure_explanation();
    view_->set_teach_step(first_step());
  }
  view_->ensure_explanation();
}

void TeachingWindow::previous() {
  if (!view_->has_run()) return;
  if (exercise_) {
    leave_exercise();
    return;
  }
  if (intro_stage_ >= 0) {
    intro_stage_ = std::max(0, intro_stage_ - 1);
    update();
    return;
  }
  view_->ensure_explanation();
  const int64_t T = view_->snapshot()->T();
  auto compares = [&](int step) {
    const CascadeExplanation* ex = view_->state().explanation;
    return !ex || CascadeStepFigure::stage_compares(*ex, T, step);
  };
  if (view_->state().teach_step > 0) {
    int step = view_->state().teach_step - 1;
    while (step > 0 && !compares(step)) --step;
    view_->set_teach_step(step);
  } else if (view_->state().layer > 1) {
    view_->set_layer(view_->state().layer - 1);
    view_->ensure_explanation();
    int step = CascadeStepFigure::kSteps - 1;
    while (step > 0 && !compares(step)) --step;
    view_->set_teach_step(step);
  } else {
    intro_stage_ = TeachingIntroFigure::kStages - 1;  // back into the opening sequence
    update();
  }
  view_->ensure_explanation();
}

// ---- the exercise --------------------------------------------------------------------------

void TeachingWindow::start_exercise() {
  if (!view_->has_run() || view_->snapshot()->L() < 2) return;
  exercise_ = true;
  revealed_ = false;
  guesses_.clear();
  // "The next layer" of the one being taught (the step shown is into view layer l, so from l).
  exercise_layer_ = std::clamp<int64_t>(view_->state().layer, 0, view_->snapshot()->L() - 2);
  update();
}

void TeachingWindow::leave_exercise() {
  exercise_ = revealed_ = false;
  guesses_.clear();
  update();
}

void TeachingWindow::toggle_guess(int64_t token) {
  if (!exercise_ || revealed_ || !view_->has_run() || token < 0 || token >= view_->snapshot()->T()) return;
  const auto at = std::lower_bound(guesses_.begin(), guesses_.end(), token);
  if (at != guesses_.end() && *at == token) guesses_.erase(at);
  else guesses_.insert(at, token);
  update();
}

void TeachingWindow::reveal() {
  if (!exercise_) return;
  revealed_ = true;
  update();
}

ExerciseScore TeachingWindow::exercise_score() const {
  if (!view_->has_run() || !exercise_) return {};
  return TeachingExerciseFigure::score(*view_->snapshot(), exercise_layer_, guesses_);
}

// ---- projector sizing ----------------------------------------------------------------------

void TeachingWindow::set_size_step(int step) {
  size_step_ = std::clamp(step, kMinStep, kMaxStep);
  update();
}

double TeachingWindow::body_pt() const {
  return std::max(9.0, kBodyShare * height() * std::pow(kStepFactor, size_step_));
}

const Figure& TeachingWindow::current_figure() const {
  if (exercise_) return exercise_figure_;
  if (intro_stage_ >= 0) return intro_figure_;
  return step_figure_;
}

FigureState TeachingWindow::shown_state() const {
  FigureState s = view_->state();
  s.scale = body_pt() / 11.0;  // the figures' body type is 11 pt × scale
  s.hover_token = s.link_to = -1;
  s.hints = true;
  s.intro_stage = std::max(0, intro_stage_);
  if (exercise_) {
    s.layer = exercise_layer_;
    s.guesses = &guesses_;
    s.reveal = revealed_;
  }
  return s;
}

QString TeachingWindow::presenter_note() const {
  if (exercise_) return TeachingExerciseFigure::presenter_note(revealed_);
  if (intro_stage_ >= 0) return TeachingIntroFigure::presenter_note(intro_stage_);
  return CascadeStepFigure::presenter_note(view_->state().teach_step);
}

namespace {

QString key_help(bool exercise) {
  return exercise ? "click: guess · Enter: reveal · E: leave" : "→ next · ← back · E exercise · Ctrl +/− size · Esc";
}

double notes_pt(double body) { return std::max(9.0, body * 0.52); }

}  // namespace

double TeachingWindow::notes_height() const {
  const QFont font = figure_font(notes_pt(body_pt()));
  const double pad = notes_pt(body_pt()) * 0.5;
  const double keys_w = teach::metrics(font).horizontalAdvance(key_help(exercise_));
  const double notes_w = std::max(width() * 0.3, width() - keys_w - 4 * pad);
  return teach::wrapped_height(presenter_note(), font, notes_w) + 2 * pad;
}

QRectF TeachingWindow::figure_rect() const { return QRectF(0, 0, width(), std::max(1.0, height() - notes_height())); }

void TeachingWindow::paint_notes(QPainter& p) const {
  const double pt = notes_pt(body_pt()), pad = pt * 0.5;
  const QFont font = figure_font(pt);
  const QRectF band(0, figure_rect().bottom(), width(), height() - figure_rect().bottom());
  p.fillRect(band, QColor(246, 246, 246));
  p.setPen(QPen(kGrid, 1));
  p.drawLine(band.topLeft(), band.topRight());
  const double keys_w = teach::metrics(font).horizontalAdvance(key_help(exercise_));
  const double notes_w = std::max(width() * 0.3, width() - keys_w - 4 * pad);
  teach::draw_wrapped(p, QRectF(pad * 2, band.top() + pad, notes_w, band.height() - 2 * pad), presenter_note(), font,
                      QColor(70, 70, 70));
  p.setFont(font);
  p.setPen(kMuted);
  teach::draw_line(p, QRectF(band.right() - keys_w - pad * 2, band.top() + pad, keys_w + pad, teach::metrics(font).height()),
                   Qt::AlignRight | Qt::AlignTop, key_help(exercise_));
}

QImage TeachingWindow::render_current() const {
  const double dpr = devicePixelRatioF();
  QImage img((QSizeF(size()) * dpr).toSize(), QImage::Format_ARGB32_Premultiplied);
  img.setDevicePixelRatio(dpr);
  img.setDotsPerMeterX(static_cast<int>(std::lround(72.0 / 0.0254)));  // 1 pt = 1 logical pixel, as in render_figure
  img.setDotsPerMeterY(static_cast<int>(std::lround(72.0 / 0.0254)));
  img.fill(Qt::white);
  if (!view_->has_run()) return img;
  QPainter p(&img);
  p.setRenderHint(QPainter::Antialiasing);
  p.setRenderHint(QPainter::TextAntialiasing);
  p.drawImage(QPointF(0, 0), render_figure(current_figure(), *view_->snapshot(), shown_state(), figure_rect().size(), dpr));
  paint_notes(p);
  return img;
}

void TeachingWindow::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.drawImage(QPointF(0, 0), render_current());
}

// ---- input ---------------------------------------------------------------------------------

void TeachingWindow::mousePressEvent(QMouseEvent* e) {
  if (!exercise_ || !view_->has_run() || e->button() != Qt::LeftButton) return QWidget::mousePressEvent(e);
  const Hit h = exercise_figure_.hit(QRectF(QPointF(0, 0), figure_rect().size()), *view_->snapshot(), shown_state(),
                                     e->position());
  if (h.token >= 0) toggle_guess(h.token);
}

void TeachingWindow::keyPressEvent(QKeyEvent* e) {
  if (e->modifiers() & Qt::ControlModifier) {
    switch (e->key()) {
      case Qt::Key_Plus: case Qt::Key_Equal: set_size_step(size_step_ + 1); return;
      case Qt::Key_Minus: case Qt::Key_Underscore: set_size_step(size_step_ - 1); return;
      case Qt::Key_0: set_size_step(0); return;
      default: break;
    }
  }
  switch (e->key()) {
    case Qt::Key_Right: case Qt::Key_Space: case Qt::Key_PageDown: next(); break;
    case Qt::Key_Left: case Qt::Key_Backspace: case Qt::Key_PageUp: previous(); break;
    case Qt::Key_Home: restart(); break;
    case Qt::Key_E: exercise_ ? leave_exercise() : start_exercise(); break;
    case Qt::Key_Return: case Qt::Key_Enter: case Qt::Key_R: reveal(); break;
    case Qt::Key_Up:
      if (intro_stage_ >= 0 || exercise_) break;
      view_->set_layer(std::max<int64_t>(1, view_->state().layer - 1));
      view_->ensure_explanation();
      go_to_step(0);
      break;
    case Qt::Key_Down:
      if (intro_stage_ >= 0 || exercise_) break;
      view_->step_layer(1);
      view_->ensure_explanation();
      go_to_step(0);
      break;
    case Qt::Key_Escape: exercise_ ? leave_exercise() : (void)close(); break;
    default: QWidget::keyPressEvent(e);
  }
}

}  // namespace cascade::widgets
