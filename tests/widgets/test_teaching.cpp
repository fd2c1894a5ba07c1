// Teaching mode as a student and a presenter meet it: the opening sequence before the algorithm,
// type large enough for a projector, the lecture-hall size keys, no text outside the window, no
// step that compares nothing, and the exercise's score against the cascade's set recomputed here.
#include <QRegularExpression>
#include <QTest>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "data/hf/model_source.h"
#include "fixtures.h"
#include "widgets/figures/teaching_draw.h"
#include "widgets/figures/token_flow.h"
#include "widgets/palette.h"
#include "widgets/teaching_window.h"

namespace cascade::widgets {
namespace {

using testing::wait_until;

bool in(const std::vector<int64_t>& s, int64_t t) { return std::binary_search(s.begin(), s.end(), t); }

using testing::ink;

// Every text the window draws lies inside it, and "|cos|" is never split across lines.
void expect_text_inside(const TeachingWindow& teach, const std::string& what) {
  teach::TextBoxes boxes;
  const QImage img = teach.render_current();
  ASSERT_FALSE(boxes.boxes().empty()) << what;
  const QRectF window = QRectF(0, 0, teach.width(), teach.height()).adjusted(-0.5, -0.5, 0.5, 0.5);
  for (size_t i = 0; i < boxes.boxes().size(); ++i) {
    const QString& text = boxes.texts()[static_cast<int>(i)];
    EXPECT_TRUE(window.contains(boxes.boxes()[i])) << what << ": \"" << text.toStdString() << "\" at "
                                                   << boxes.boxes()[i].x() << "," << boxes.boxes()[i].y() << " size "
                                                   << boxes.boxes()[i].width() << "x" << boxes.boxes()[i].height();
    if (text.contains(QRegularExpression("cos\\b"))) {
      EXPECT_TRUE(text.contains("|cos|")) << what << ": " << text.toStdString();
    }
    EXPECT_FALSE(text.contains(QRegularExpression("\\b0 other tokens"))) << what;
  }
}

// The cascade's set at layer + 1 from R_casc at layer, by Algorithm 1 on the snapshot's cosines.
std::vector<int64_t> cascade_set_by_hand(const RunSnapshot& run, int64_t layer) {
  const std::vector<int64_t>& inherited = run.analysis().layers[layer].reps_casc;
  const double theta = run.analysis().theta;
  std::vector<int64_t> valid, out;
  for (size_t i = 0; i < inherited.size(); ++i) {
    double best = -1;
    for (size_t j = 0; j < i; ++j) best = std::max(best, std::abs(run.cosine(layer + 1, inherited[i], inherited[j])));
    if (best < theta) valid.push_back(inherited[i]);
  }
  out = valid;
  for (int64_t t = 0; t < run.T(); ++t) {
    if (in(inherited, t)) continue;
    double best = -1;
    for (int64_t s : valid) best = std::max(best, std::abs(run.cosine(layer + 1, t, s)));
    if (best < theta) out.push_back(t);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Teaching, TheOpeningSequenceComesBeforeTheAlgorithm) {
  RunView view;
  view.set_snapshot(testing::synthetic_snapshot(0.3, 6, 40));
  TeachingWindow teach(&view);
  teach.resize(1920, 1080);
  teach.restart();
  for (int stage = 0; stage < TeachingIntroFigure::kStages; ++stage) {
    ASSERT_EQ(teach.intro_stage(), stage);
    EXPECT_EQ(teach.current_figure().id(), "teaching-intro");
    EXPECT_GT(ink(teach.render_current()), 1920 * 1080 / 100) << "stage " << stage << " drew almost nothing";
    EXPECT_FALSE(TeachingIntroFigure::narration(*view.snapshot(), TeachingIntroFigure::story(*view.snapshot()), stage).isEmpty());
    EXPECT_FALSE(teach.presenter_note().isEmpty());
    teach.next();
  }
  // → past the last stage: the algorithm, from the step into layer 1.
  EXPECT_EQ(teach.intro_stage(), -1);
  EXPECT_EQ(teach.current_figure().id(), "cascade-step");
  EXPECT_EQ(view.state().layer, 1);
  EXPECT_EQ(view.state().teach_step, 0);
  ASSERT_NE(view.state().explanation, nullptr);
  // ← from there goes back into the opening sequence; Home restarts it.
  teach.previous();
  EXPECT_EQ(teach.intro_stage(), TeachingIntroFigure::kStages - 1);
  QTest::keyClick(&teach, Qt::Key_Home);
  EXPECT_EQ(teach.intro_stage(), 0);
}

TEST(Teaching, TheStoryIsTheRunsOwn) {
  const auto run = testing::synthetic_snapshot(0.3, 6, 40);
  const TeachingIntroFigure::Story s = TeachingIntroFigure::story(*run);
  ASSERT_GE(s.tokens, 6);
  const std::vector<float>& gamma = run->gamma(s.layer);
  for (int64_t t = 1; t < s.tokens; ++t) {
    EXPECT_NEAR(s.gamma[t], gamma[t], 1e-6) << t;  // γ over the earlier tokens: the first ones are a prefix
    EXPECT_EQ(s.representative(t), gamma[t] < run->analysis().theta) << t;
  }
  EXPECT_TRUE(s.representative(0));
  EXPECT_NEAR(s.similar_cos, std::abs(run->cosine(s.layer, s.similar_a, s.similar_b)), 1e-6);
  EXPECT_LE(s.different_cos, s.similar_cos);
}

TEST(Teaching, BodyTextIsAtLeastFourPercentOfTheHeight) {
  RunView view;
  view.set_snapshot(testing::synthetic_snapshot(0.3, 6, 40));
  TeachingWindow teach(&view);
  for (const QSize size : {QSize(1920, 1080), QSize(1024, 768), QSize(3840, 2160)}) {
    teach.resize(size);
    EXPECT_GE(teach.body_pt(), 0.04 * size.height()) << size.width() << "x" << size.height();
  }
  // Measured where it is drawn: the narration's lines at 1920 × 1080.
  teach.resize(1920, 1080);
  teach.restart();
  const QString first_words = TeachingIntroFigure::narration(*view.snapshot(), TeachingIntroFigure::story(*view.snapshot()), 0).left(12);
  teach::TextBoxes boxes;
  teach.render_current();
  bool found = false;
  for (size_t i = 0; i < boxes.boxes().size(); ++i)
    if (boxes.texts()[static_cast<int>(i)].startsWith(first_words)) {
      found = true;
      EXPECT_GE(boxes.boxes()[i].height(), 0.04 * 1080) << boxes.texts()[static_cast<int>(i)].toStdString();
    }
  EXPECT_TRUE(found) << "the narration was not drawn";
  // The screen is used: the figure fills the window above the notes line.
  EXPECT_GE(teach.figure_rect().height(), 0.85 * 1080);
}

TEST(Teaching, CtrlPlusAndMinusChangeTheLectureHallSize) {
  RunView view;
  view.set_snapshot(testing::synthetic_snapshot(0.3, 6, 40));
  TeachingWindow teach(&view);
  teach.resize(1920, 1080);
  const double base = teach.body_pt();
  QTest::keyClick(&teach, Qt::Key_Plus, Qt::ControlModifier);
  EXPECT_GT(teach.body_pt(), base);
  const double bigger = teach.body_pt();
  QTest::keyClick(&teach, Qt::Key_Equal, Qt::ControlModifier);  // Ctrl+= (the + key unshifted)
  EXPECT_GT(teach.body_pt(), bigger);
  QTest::keyClick(&teach, Qt::Key_0, Qt::ControlModifier);
  EXPECT_DOUBLE_EQ(teach.body_pt(), base);
  QTest::keyClick(&teach, Qt::Key_Minus, Qt::ControlModifier);
  EXPECT_LT(teach.body_pt(), base);
  for (int i = 0; i < 20; ++i) QTest::keyClick(&teach, Qt::Key_Plus, Qt::ControlModifier);
  EXPECT_EQ(teach.size_step(), TeachingWindow::kMaxStep);
}

TEST(Teaching, TheExerciseScoresClickedGuessesAgainstTheNextLayer) {
  RunView view;
  view.set_snapshot(testing::synthetic_snapshot(0.3, 6, 40));
  const RunSnapshot& run = *view.snapshot();
  TeachingWindow teach(&view);
  teach.resize(1920, 1080);
  teach.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&teach));
  view.set_layer(2);
  QTest::keyClick(&teach, Qt::Key_E);
  ASSERT_TRUE(teach.in_exercise());
  ASSERT_EQ(teach.exercise_layer(), 2);
  const std::vector<int64_t> truth = cascade_set_by_hand(run, 2);
  ASSERT_FALSE(truth.empty());
  // Guess every other true representative and the first three tokens that are not.
  std::vector<int64_t> picked;
  for (size_t i = 0; i < truth.size(); i += 2) picked.push_back(truth[i]);
  for (int64_t t = 0, wrong = 0; t < run.T() && wrong < 3; ++t)
    if (!in(truth, t)) picked.push_back(t), ++wrong;
  std::sort(picked.begin(), picked.end());
  const std::vector<QRectF> chips = TeachingExerciseFigure::chips(QRectF(QPointF(0, 0), teach.figure_rect().size()), run,
                                                                  teach.shown_state());
  ASSERT_EQ(static_cast<int64_t>(chips.size()), run.T());
  for (int64_t t : picked) QTest::mouseClick(&teach, Qt::LeftButton, {}, chips[t].center().toPoint());
  QTest::mouseClick(&teach, Qt::LeftButton, {}, chips[picked[0]].center().toPoint());  // a second click takes it back
  QTest::mouseClick(&teach, Qt::LeftButton, {}, chips[picked[0]].center().toPoint());
  EXPECT_EQ(teach.guesses(), picked);
  QTest::keyClick(&teach, Qt::Key_Return);
  EXPECT_TRUE(teach.revealed());
  int64_t right = 0, wrong = 0;
  for (int64_t t : picked) (in(truth, t) ? right : wrong)++;
  const ExerciseScore score = teach.exercise_score();
  EXPECT_EQ(score.total, static_cast<int64_t>(truth.size()));
  EXPECT_EQ(score.right, right);
  EXPECT_EQ(score.wrong, wrong);
  EXPECT_EQ(score.missed, score.total - right);
  EXPECT_TRUE(TeachingExerciseFigure::score_line(score).startsWith(QString("%1 of %2 representatives found").arg(right).arg(truth.size())));
  // After the reveal clicks change nothing; E leaves the exercise.
  QTest::mouseClick(&teach, Qt::LeftButton, {}, chips[truth.back()].center().toPoint());
  EXPECT_EQ(teach.guesses(), picked);
  QTest::keyClick(&teach, Qt::Key_E);
  EXPECT_FALSE(teach.in_exercise());
}

TEST(Teaching, WrappingNeverBreaksInsideAbsCos) {
  const QString text = "Validate: compare the 34 inherited tokens with each other; one whose |cos| with an earlier one "
                       "reaches θ = 0.91 is no longer distinct, and its |cos| bar is red.";
  for (double width = 60; width < 2000; width += 23)
    for (const QString& line : teach::wrap_words(text, figure_font(40), width))
      if (line.contains(QRegularExpression("cos\\b"))) {
        EXPECT_TRUE(line.contains("|cos|")) << width << ": " << line.toStdString();
      }
}

TEST(Teaching, ThetaLabelSitsBesideTheBars) {
  std::vector<teach::TokenBar> bars;
  for (int i = 0; i < 30; ++i) bars.push_back({QString("word%1").arg(i), 0.5 + 0.015 * i, Qt::blue});
  for (const QRectF rect : {QRectF(0, 0, 1800, 400), QRectF(10, 10, 900, 250)}) {
    const teach::BarLayout lay = teach::bar_layout(rect, bars, 0.91, 40);
    EXPECT_GT(lay.theta_label.left(), lay.plot.right());
    EXPECT_LE(lay.theta_label.right(), rect.right() + 0.5);
    EXPECT_GE(lay.plot.left(), rect.left());
  }
}

// The bundled demo model: learned positions make every token a representative at layer 0, so the
// step into layer 1 inherits them all and its cross-Gram compares nothing.
TEST(Teaching, OnTheDemoModelNoStepComparesNothingAndNoTextLeavesTheWindow) {
  try {
    data::bundled_model_dir();
  } catch (const std::exception& e) {
    GTEST_SKIP() << e.what();
  }
  app::StartOptions options;
  options.restore = false;
  options.batch = true;
  app::MainWindow window(options);
  ASSERT_TRUE(testing::start_main_window(window));
  RunView* view = window.view();
  const RunSnapshot& run = *view->snapshot();
  ASSERT_EQ(static_cast<int64_t>(run.analysis().layers[0].reps_ind.size()), run.T()) << "the demo's layer 0 changed";
  TeachingWindow teach(view);
  teach.resize(1920, 1080);
  view->set_layer(1);
  view->set_teach_step(0);
  teach.show_algorithm();
  std::vector<int> visited;
  while (view->state().layer == 1) {
    visited.push_back(view->state().teach_step);
    EXPECT_FALSE(CascadeStepFigure::narration(run, teach.shown_state()).contains(QRegularExpression("\\b0 other tokens")));
    teach.next();
  }
  EXPECT_EQ(visited, (std::vector<int>{0, 1, 3})) << "the cross-Gram and add stages of layer 0 → 1 compare nothing";
  // Shown anyway (an export), the empty stage says so in words.
  view->set_layer(1);
  view->ensure_explanation();
  view->set_teach_step(2);
  EXPECT_TRUE(CascadeStepFigure::narration(run, teach.shown_state()).contains("no other token is left"));
  // Every screen of the lesson, at three projector sizes, keeps its text inside the window.
  for (const QSize size : {QSize(1024, 768), QSize(1920, 1080), QSize(3840, 2160)}) {
    teach.resize(size);
    const std::string at = std::to_string(size.width()) + "x" + std::to_string(size.height());
    teach.restart();
    for (int stage = 0; stage < TeachingIntroFigure::kStages; ++stage, teach.next())
      expect_text_inside(teach, at + " intro " + std::to_string(stage));
    for (int64_t layer : {1, 2}) {
      view->set_layer(layer);
      view->ensure_explanation();
      for (int step = 0; step < CascadeStepFigure::kSteps; ++step) {
        view->set_teach_step(step);
        expect_text_inside(teach, at + " layer " + std::to_string(layer) + " step " + std::to_string(step));
      }
    }
    teach.start_exercise();
    for (int64_t t = 0; t < run.T(); t += 3) teach.toggle_guess(t);
    expect_text_inside(teach, at + " exercise");
    teach.reveal();
    expect_text_inside(teach, at + " exercise revealed");
    teach.leave_exercise();
    if (size.width() > 2000) continue;
    for (int step = TeachingWindow::kMinStep; step <= TeachingWindow::kMaxStep; ++step) {  // every lecture-hall size
      teach.set_size_step(step);
      teach.restart();
      for (int stage = 0; stage < TeachingIntroFigure::kStages; ++stage, teach.next())
        expect_text_inside(teach, at + " size " + std::to_string(step) + " intro " + std::to_string(stage));
    }
    teach.set_size_step(0);
  }
}

}  // namespace
}  // namespace cascade::widgets
