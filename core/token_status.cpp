#include "core/token_status.h"

#include <algorithm>

namespace cascade {

const char* status_name(TokenStatus s) {
  switch (s) {
    case TokenStatus::Redundant: return "redundant";
    case TokenStatus::Representative: return "representative";
    case TokenStatus::Added: return "cascade-added";
    case TokenStatus::Removed: return "cascade-removed";
    case TokenStatus::Missed: return "missed";
    case TokenStatus::Extra: return "extra";
  }
  return "?";
}

const char* status_meaning(TokenStatus s) {
  switch (s) {
    case TokenStatus::Redundant: return "a near-copy of an earlier token: in neither set";
    case TokenStatus::Representative: return "in both sets: the independent rule and the cascade keep it";
    case TokenStatus::Added: return "the cascade step into this layer added it (it was not inherited)";
    case TokenStatus::Removed: return "inherited from the previous layer, found redundant by the cascade step and removed";
    case TokenStatus::Missed: return "the independent rule keeps it, the cascade does not";
    case TokenStatus::Extra: return "the cascade keeps it, the independent rule does not";
  }
  return "?";
}

TokenStatus hidden_relation(TokenStatus status, bool in_ind, bool in_casc) {
  if (status == TokenStatus::Added && !in_ind) return TokenStatus::Extra;
  if (status == TokenStatus::Removed && in_ind && !in_casc) return TokenStatus::Missed;
  return TokenStatus::Redundant;
}

void layer_statuses(const LayerMeasures& m, int64_t T, TokenStatus* out) {
  std::fill(out, out + T, TokenStatus::Redundant);
  for (int64_t t : m.reps_casc) out[t] = TokenStatus::Extra;
  for (int64_t t : m.reps_ind) out[t] = out[t] == TokenStatus::Extra ? TokenStatus::Representative : TokenStatus::Missed;
  for (int64_t t : m.removed) out[t] = TokenStatus::Removed;
  for (int64_t t : m.added) out[t] = TokenStatus::Added;
}

}  // namespace cascade
