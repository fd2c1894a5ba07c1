#pragma once
// The τ-free |Gram| of a layer kept for interactive τ changes. A τ slider re-runs the cascade at
// every layer; with X̂ alone each step is a (T − r) × r GEMM (≈ 0.6 GFLOP per layer at T = 1024,
// d = 768 — 200 ms for 12 layers on 2 cores). With |X̂ X̂ᵀ| cached, a step only reads T · r entries.
// It is a deliberate, bounded exception to "never materialise T × T": only when L · T² floats fit a
// budget the caller chooses (the GUI uses 256 MiB: T ≤ 2048 at 12 layers); the scan and the engine
// never need it, and results are the same sets (tests compare both paths).
#include <cstdint>
#include <vector>

#include "core/selection.h"

namespace cascade {

// |cos| of every pair, T × T row-major (a view into cached memory).
struct AbsGram {
  const float* data = nullptr;
  int64_t T = 0;
  float at(int64_t row, int64_t col) const { return data[row * T + col]; }
};

// Algorithm 1 on a cached |Gram|: the same trace as cascade_step (gram_entries counted the same).
CascadeTrace cascade_step_gram(const AbsGram& g, const TokenSet& inherited, double theta);
// Greedy cover on a cached |Gram|: the same set as greedy_cover.
TokenSet greedy_cover_gram(const AbsGram& g, double theta);

}  // namespace cascade
