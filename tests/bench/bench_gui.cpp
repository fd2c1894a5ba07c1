// bench_gui: the desktop app's interactivity targets on this machine (run by hand, never by CTest).
//
//   bench_gui [--reps N]
//
// 1. A τ change updates every view: RunSnapshot::derive at the new τ (sets, cascade, measures from
//    the cached X̂ and γ) plus a repaint of every docked figure and the depth player at typical
//    sizes — for L = 12, T = 1024, d = 768 (synthetic activations). Target ≤ 30 ms.
// 2. The depth player animates: one frame (render_figure of the depth player mid-blend) at
//    L = 32, T = 8192 on a 1200 × 700 canvas. Target ≥ 30 fps. The token map at the same size is
//    timed too (it repaints on every layer change).
// Medians over the repetitions; Qt's offscreen platform (no display needed).
#include <QGuiApplication>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/synthetic.h"
#include "core/version.h"
#include "widgets/render.h"
#include "core/snapshot.h"

using namespace cascade;
using namespace cascade::widgets;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::shared_ptr<const RunRecord> synthetic(int64_t L, int64_t T, int64_t d, int64_t gram_cache = kInteractiveGramCacheBytes) {
  SyntheticSpec spec;
  spec.layers = L;
  spec.tokens = T;
  spec.dim = d;
  spec.clusters = T / 4;
  const ActivationSet acts = make_synthetic(spec);
  return std::make_shared<const RunRecord>(analyze_activations(acts, {0.1, 0.2, 0.3, 0.4, 0.5}, Rule::PriorMax, {}, gram_cache));
}

}  // namespace

int main(int argc, char** argv) {
  if (!std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1);
  QGuiApplication app(argc, argv);
  int reps = 9;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--reps") reps = std::max(1, std::atoi(argv[i + 1]));
  const BlasInfo blas = detect_blas();
  std::printf("# bench_gui — %s, %d LibTorch threads\n\n", blas.name.c_str(), blas.threads);

  {  // 1. τ change
    const auto data = synthetic(12, 1024, 768), uncached = synthetic(12, 1024, 768, 0);
    const auto figures = all_figures();
    std::vector<double> derive_ms, paint_ms, total_ms, uncached_ms;
    for (int r = 0; r < reps; ++r) {
      const double tau = 0.2 + 0.02 * (r % 10);
      const auto t0 = Clock::now();
      const auto snap = RunSnapshot::derive(data, tau, Rule::PriorMax);
      const double d_ms = ms_since(t0);
      FigureState state;
      state.layer = 5;
      const auto t1 = Clock::now();
      for (const auto& f : figures) {
        if (!f->available(*snap, state)) continue;  // the Gram and teaching views are on demand
        const QSizeF size = f->id() == "depth" ? QSizeF(900, 420) : QSizeF(520, 340);
        (void)render_figure(*f, *snap, state, size, 1.0);
      }
      derive_ms.push_back(d_ms);
      paint_ms.push_back(ms_since(t1));
      total_ms.push_back(d_ms + paint_ms.back());
      const auto t2 = Clock::now();
      (void)RunSnapshot::derive(uncached, tau, Rule::PriorMax);  // the GEMM path, same τ, same run
      uncached_ms.push_back(ms_since(t2));
    }
    std::printf("## τ change, L = 12, T = 1024, d = 768 (target ≤ 30 ms)\n\n");
    std::printf("| step | median ms |\n| --- | ---: |\n");
    std::printf("| derive snapshot (sets + cascade + measures) | %.1f |\n", median(derive_ms));
    std::printf("| repaint every docked view + depth player | %.1f |\n", median(paint_ms));
    std::printf("| **total** | **%.1f** |\n", median(total_ms));
    std::printf("| (derive without the Gram cache: the cascade's GEMMs) | %.1f |\n\n", median(uncached_ms));
  }
  {  // 2. depth player animation
    const auto data = synthetic(32, 8192, 64);
    const auto snap = RunSnapshot::derive(data, 0.3, Rule::PriorMax);
    auto depth = make_figure("depth"), map = make_figure("token-map");
    std::vector<double> frame_ms, map_ms;
    FigureState state;
    for (int r = 0; r < std::max(reps, 15); ++r) {
      state.layer = r % 31;
      state.phase = (r % 4) / 4.0;
      auto t0 = Clock::now();
      (void)render_figure(*depth, *snap, state, QSizeF(1200, 700), 1.0);
      frame_ms.push_back(ms_since(t0));
      t0 = Clock::now();
      (void)render_figure(*map, *snap, state, QSizeF(1200, 700), 1.0);
      map_ms.push_back(ms_since(t0));
    }
    std::printf("## Depth player, L = 32, T = 8192, 1200 × 700 (target ≥ 30 fps)\n\n");
    std::printf("| figure | median ms / frame | fps |\n| --- | ---: | ---: |\n");
    std::printf("| depth player (mid-blend) | %.1f | %.0f |\n", median(frame_ms), 1000.0 / median(frame_ms));
    std::printf("| token × layer map | %.1f | %.0f |\n", median(map_ms), 1000.0 / median(map_ms));
  }
  return 0;
}
