#pragma once
// A token's status at one layer: what the depth player colours and what exports write. No Torch.
#include <cstdint>

#include "core/measures.h"

namespace cascade {

// Precedence when several apply: Added and Removed (this layer's cascade step) first, then Missed
// (in R_ind, not in R_casc), then Representative (in R_casc and R_ind), Extra (in R_casc only),
// Redundant.
enum class TokenStatus : uint8_t { Redundant = 0, Representative, Added, Removed, Missed, Extra };
inline constexpr int kNumStatuses = 6;
const char* status_name(TokenStatus s);     // "representative", "cascade-added", ...
const char* status_meaning(TokenStatus s);  // the same in words, for legends and the glossary

// The statuses of one layer's T tokens from its measures.
void layer_statuses(const LayerMeasures& m, int64_t T, TokenStatus* out);

// A token holds one set relation (Representative, Missed, Extra or Redundant) and, at the layer a
// cascade step goes into, maybe a step status (Added or Removed) too; the status above shows the
// step first. The relation that status hides: Extra for an added token the independent rule does
// not keep, Missed for a removed one it does keep; Redundant (nothing hidden) otherwise.
TokenStatus hidden_relation(TokenStatus status, bool in_ind, bool in_casc);

}  // namespace cascade
