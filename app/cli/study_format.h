#pragma once
// What `study` and `study show` print: the paper's tables with ± and CIs over documents (Tables 1,
// 2 and 5 per layer; 6 and 9 as the summary), the quality of each ADA mode, the methods at an equal
// budget and the paired comparisons — as a human table, tidy CSV or JSON.
#include <string>

#include <nlohmann/json.hpp>

#include "core/study.h"

namespace cascade::cli {

// The tables at τ index `t` of the grid.
std::string study_table(const study::Study& s, const study::Aggregates& a, int64_t t);
// One row per aggregate cell: scope (layer | all_layers | summary | quality | method), measure,
// layer, tau, mode_or_method, n, mean, sd, median, q25, q75, min, max, ci95_lo, ci95_hi.
std::string study_csv(const study::Study& s, const study::Aggregates& a);
// The paired comparisons: quantity, a, b, tau, n, mean_diff, ci95_lo, ci95_hi, p, exact, w_plus, z,
// a_lower, b_lower, ties.
std::string paired_csv(const study::Aggregates& a);
// Per document: id, source, offset, T, then every summary measure at every τ and the quality.
std::string documents_csv(const study::Study& s);
// {"params", "taus", "layers", "quality_modes", "methods", "documents": [{"id", "source", "offset",
// "T", "index", "ids", "layers": [{every SPEC §4 measure at τ index t}], "summary", "quality",
// "methods"}], "aggregates": {"layers": [{measure: {n, mean, sd, median, q25, q75, min, max,
// ci95: [lo, hi]}}], "all_layers", "summary", "quality", "methods"}, "paired", "failures"}.
nlohmann::json study_json(const study::Study& s, const study::Aggregates& a, int64_t t);

}  // namespace cascade::cli
