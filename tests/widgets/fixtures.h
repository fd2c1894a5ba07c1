#pragma once
// Small runs for the GUI tests: synthetic clustered activations (deterministic), as a RunRecord; and
// waiting for the controller, which delivers its results on the UI thread.
#include <QElapsedTimer>
#include <QImage>
#include <QSignalSpy>
#include <QTest>

#include <gtest/gtest.h>

#include <memory>

#include "core/synthetic.h"
#include "gui/controller.h"
#include "gui/main_window.h"
#include "core/snapshot.h"

namespace cascade::widgets::testing {

// Pixels that differ from white: a drawn figure has many.
inline int64_t ink(const QImage& img) {
  int64_t n = 0;
  const QImage rgb = img.convertToFormat(QImage::Format_RGB32);
  for (int y = 0; y < rgb.height(); ++y) {
    const auto* line = reinterpret_cast<const QRgb*>(rgb.constScanLine(y));
    for (int x = 0; x < rgb.width(); ++x) n += (line[x] & 0xFFFFFF) != 0xFFFFFF;
  }
  return n;
}

inline std::shared_ptr<const RunRecord> synthetic_data(int64_t layers = 6, int64_t tokens = 40, int64_t dim = 32,
                                               uint64_t seed = 3) {
  SyntheticSpec spec;
  spec.layers = layers;
  spec.tokens = tokens;
  spec.dim = dim;
  spec.clusters = std::max<int64_t>(2, tokens / 4);
  spec.seed = seed;
  const ActivationSet acts = make_synthetic(spec);
  auto record = std::make_shared<RunRecord>(
      analyze_activations(acts, {0.1, 0.2, 0.3, 0.4, 0.5}, Rule::PriorMax, {}, kInteractiveGramCacheBytes));
  record->source = "synthetic test run";
  return record;
}

inline std::shared_ptr<const RunSnapshot> synthetic_snapshot(double tau = 0.3, int64_t layers = 6, int64_t tokens = 40) {
  return RunSnapshot::derive(synthetic_data(layers, tokens), tau, Rule::PriorMax);
}

// The sets of every layer, and τ and the rule, are the same.
inline void expect_same_sets(const Analysis& a, const Analysis& b) {
  EXPECT_DOUBLE_EQ(a.tau, b.tau);
  EXPECT_EQ(a.rule, b.rule);
  ASSERT_EQ(a.L(), b.L());
  for (int64_t l = 0; l < a.L(); ++l) {
    SCOPED_TRACE("layer " + std::to_string(l));
    EXPECT_EQ(a.layers[l].layer, b.layers[l].layer);
    EXPECT_EQ(a.layers[l].reps_ind, b.layers[l].reps_ind);
    EXPECT_EQ(a.layers[l].reps_casc, b.layers[l].reps_casc);
    EXPECT_EQ(a.layers[l].added, b.layers[l].added);
    EXPECT_EQ(a.layers[l].removed, b.layers[l].removed);
    EXPECT_EQ(a.layers[l].missed, b.layers[l].missed);
    EXPECT_EQ(a.layers[l].extra, b.layers[l].extra);
  }
}


// Waits (processing events) until `done` or the timeout.
template <class F>
bool wait_until(F done, int ms = 60000) {
  QElapsedTimer t;
  t.start();
  while (!done() && t.elapsed() < ms) QTest::qWait(20);
  return done();
}

// Shows a main window at the tests' size and starts what its options name (a file, a session, the
// bundled model); true once that first job has finished.
inline bool start_main_window(app::MainWindow& window) {
  window.resize(1400, 900);
  window.show();
  QSignalSpy done(window.controller(), &app::Controller::job_finished);
  window.start_default();
  return wait_until([&] { return done.count() == 1; });
}

}  // namespace cascade::widgets::testing
