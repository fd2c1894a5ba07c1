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
const char* status_name(TokenStatus s);  // "representative", "cascade-added", ...

// The statuses of one layer's T tokens from its measures.
void layer_statuses(const LayerMeasures& m, int64_t T, TokenStatus* out);

}  // namespace cascade
