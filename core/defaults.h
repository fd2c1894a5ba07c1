#pragma once
// The defaults every front end shares (CLI options, GUI controls, the engine's request), written once.
#include <cstdint>

namespace cascade {

inline constexpr double kDefaultTau = 0.3;                       // θ = 1 − τ² = 0.91
inline constexpr const char* kDefaultTauText = "0.3";            // as --help shows it
inline constexpr const char* kDefaultTauGrid = "0.05:0.6:0.05";  // the sweep's τ grid
// Rows of the Gram computed at once by a scan (extra memory tile × T floats).
inline constexpr int64_t kDefaultTile = 256;
inline constexpr const char* kDefaultTileText = "256";
// What the desktop app lets the Analyzer keep for fast τ changes: every layer's |Gram| when
// L·T²·4 bytes fit (T ≤ 2048 at 12 layers). See core/gram_cache.h.
inline constexpr int64_t kInteractiveGramCacheBytes = int64_t{256} << 20;

}  // namespace cascade
