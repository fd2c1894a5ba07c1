#pragma once
// A run record and its analyses as JSON, every key from the name tables (core/names.h): what
// `analyze/sweep/run --format json` print and what `export --json` writes (data/SESSION_FORMAT.md
// documents the keys). A missing value is null.
#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

#include "core/measures.h"
#include "core/run_record.h"

namespace cascade::data {

// {source, T, d, L, tau, theta, rule, layers: [{every per-layer measure, reps_ind, reps_casc, missed,
// extra, added, removed}], jaccard_matrix, summary, tokens (when given)}.
nlohmann::json analysis_json(const Analysis& a, const std::string& source, const std::vector<std::string>& tokens);
// {source, sweep: [{tau, theta, summary, layers: [per-layer measures]}], T, d, L, rule}.
nlohmann::json sweep_json(const std::vector<Analysis>& runs, const std::string& source);
// Every identity key (name, model_type, config_sha256, revision, num_layers, hidden_size, num_heads,
// vocab_size), plus `layers` and `heads`, the names `run --format json` used before, kept for
// scripts written against them.
nlohmann::json model_json(const ModelIdentity& m);
// What `run` prints about a model run besides the analysis: model, input_ids, attention, nearest,
// device and dtype (model runs), timings_ms and, when `quality` and the record has it, quality.
void add_run_json(nlohmann::json& j, const RunRecord& r, bool quality);
// SPEC §7: {"methods": {name: {"layers": [{layer, r, set, coverage, covered, attn_err, selection_ms,
// selection_macs, why?}], "summary": {mean_r, r_over_T, coverage, covered, attn_err, selection_ms,
// selection_macs, ppl, delta_ppl, kl}, ...}}, "order": [names], tau, rule, nearest, budget, seed,
// document, T, ppl_exact, notes}. A value that could not be measured is null (and `why` says why).
nlohmann::json comparison_json(const Comparison& c);
// The whole record but its activations (export --json); `comparisons` is the list of comparison_json.
nlohmann::json record_json(const RunRecord& r);

}  // namespace cascade::data
