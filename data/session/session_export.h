#pragma once
// A session as tidy CSV tables (one observation per row, the name tables of core/names.h as
// headers), for R, pandas and spreadsheets. Missing values (no depth_jaccard at the last layer, ...) are empty cells.
#include <string>
#include <vector>

#include "core/run_record.h"

namespace cascade::data {

// Writes into `dir` (created): layers.csv (per-layer measures at the saved τ), tokens.csv (every
// token's status at every layer, with γ and π), jaccard.csv (layer pairs), and when present
// sweep.csv (one row per τ), sweep_layers.csv (one row per τ and layer), quality.csv (one row
// per block and head) and methods.csv (SPEC §7: one row per comparison, method and layer, with
// the columns comparison, tau, budget, method, then names::method_fields()). Each file is written
// atomically; a sweep/quality/methods table left in `dir` by an earlier export of another session
// is removed when this one has none. Returns the paths written.
std::vector<std::string> export_session_csv(const RunRecord& session, const std::string& dir);

// A CSV field: quoted (with "" for ") when it holds a comma, quote, CR or LF (RFC 4180).
std::string csv_field(const std::string& text);

}  // namespace cascade::data
