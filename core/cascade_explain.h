#pragma once
// The numbers behind one cascade step (Algorithm 1), for the teaching view and the token
// inspector: for every inherited representative its largest |cos| with an earlier inherited one
// (validation), for every other token its largest |cos| with a valid representative (cross-Gram).
// Dense (an r×r and a (T−r)×r Gram at once): meant for one transition of a displayed run, not for
// the engine's hot path, which is cascade_step.
#include <ATen/core/Tensor.h>

#include <vector>

#include "core/selection.h"

namespace cascade {

struct CascadeExplanation {
  CascadeTrace trace;                 // exactly cascade_step's result
  double theta = 0;
  // Per token t (size T). For t ∈ inherited: max over earlier inherited s' of |cos(t, s')| (−∞ for
  // the first), and that s'. For t ∉ inherited: max over valid s of |cos(t, s)| (−∞ when none is
  // valid), and that s. Partner −1 when there is none.
  std::vector<float> best_cos;
  std::vector<int64_t> best_partner;
};

CascadeExplanation explain_cascade_step(const at::Tensor& xhat, const TokenSet& inherited, double theta);

}  // namespace cascade
