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

void layer_statuses(const LayerMeasures& m, int64_t T, TokenStatus* out) {
  std::fill(out, out + T, TokenStatus::Redundant);
  for (int64_t t : m.reps_casc) out[t] = TokenStatus::Extra;
  for (int64_t t : m.reps_ind) out[t] = out[t] == TokenStatus::Extra ? TokenStatus::Representative : TokenStatus::Missed;
  for (int64_t t : m.removed) out[t] = TokenStatus::Removed;
  for (int64_t t : m.added) out[t] = TokenStatus::Added;
}

}  // namespace cascade
