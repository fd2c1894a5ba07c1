#include "core/gram_cache.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "core/sets.h"

namespace cascade {

CascadeTrace cascade_step_gram(const AbsGram& g, const TokenSet& inherited, double theta) {
  CascadeTrace trace;
  trace.inherited = inherited;
  const int64_t T = g.T, r = static_cast<int64_t>(inherited.size());
  if (!std::is_sorted(inherited.begin(), inherited.end()) || (r > 0 && (inherited.front() < 0 || inherited.back() >= T)))
    throw std::invalid_argument("cascade_step_gram: the inherited set must be sorted and within 0..T-1");
  // Validate: each inherited s against the earlier inherited ones.
  for (int64_t k = 0; k < r; ++k) {
    const float* row = g.data + inherited[k] * T;
    float m = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < k; ++j) m = std::max(m, row[inherited[j]]);
    (static_cast<double>(m) < theta ? trace.valid : trace.removed).push_back(inherited[k]);
  }
  // Cross-Gram: every other token against the valid set (all added when nothing is valid).
  const int64_t r_valid = static_cast<int64_t>(trace.valid.size());
  for (int64_t t = 0, k = 0; t < T; ++t) {
    if (k < r && inherited[k] == t) {
      ++k;
      continue;
    }
    const float* row = g.data + t * T;
    bool distinct = true;
    for (int64_t s : trace.valid)
      if (!(static_cast<double>(row[s]) < theta)) {
        distinct = false;
        break;  // the max is not needed, only whether it reaches θ
      }
    if (distinct) trace.added.push_back(t);
  }
  trace.result = set_union(trace.valid, trace.added);
  trace.gram_entries = cascade_gram_entries(T, r, r_valid);
  return trace;
}

TokenSet greedy_cover_gram(const AbsGram& g, double theta) {
  TokenSet reps;
  for (int64_t t = 0; t < g.T; ++t) {
    const float* row = g.data + t * g.T;
    bool distinct = true;
    for (int64_t s : reps)
      if (!(static_cast<double>(row[s]) < theta)) {
        distinct = false;
        break;
      }
    if (distinct) reps.push_back(t);
  }
  return reps;
}

}  // namespace cascade
