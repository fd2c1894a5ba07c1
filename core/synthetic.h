#pragma once
// Synthetic clustered activations with depth structure: for demos, tests and benchmarks when no
// model is at hand. Tokens belong to clusters (repeated "words"); each layer's vector is its
// cluster centre plus token noise. Centres and noise drift slowly with depth and the noise level
// follows a profile over depth, so the representative sets change from layer to layer the way the
// paper describes (coherent, with some turnover). This is NOT model data and is labelled as such.
#include <cstdint>

#include "core/activations.h"

namespace cascade {

struct SyntheticSpec {
  int64_t layers = 12, tokens = 96, dim = 64;
  int64_t clusters = 24;     // distinct "words"
  double noise_low = 0.3;   // relative noise at the most redundant depth
  double noise_high = 0.55;  // relative noise at the least redundant depth
  double drift = 0.15;       // per-layer drift of centres and of each token's noise direction
  uint64_t seed = 1;
};

// Float32 on the CPU, deterministic for a given spec (own generator, not Torch's).
ActivationSet make_synthetic(const SyntheticSpec& spec);

}  // namespace cascade
