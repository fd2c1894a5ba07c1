#pragma once
// Output of analyses as a human table, tidy CSV or JSON, with the SPEC §4 names as headers/keys.
#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

#include "core/measures.h"

namespace cascade {
struct AdaQuality;
struct Session;
}

namespace cascade::cli {

enum class Format { Table, Csv, Json };
Format parse_format(const std::string& name);  // throws UsageError

// Context printed in table headers and stored at the top of JSON.
struct RunInfo {
  std::string source;
  std::vector<std::string> tokens;  // may be empty
};

std::string analysis_table(const Analysis& a, const RunInfo& info);
std::string analysis_csv(const Analysis& a);
nlohmann::json analysis_json(const Analysis& a, const RunInfo& info);

// "quality (MODE vs exact): ppl_exact … | mean attention error …" (one line).
std::string quality_lines(const AdaQuality& q, const std::string& mode);

// What `run` prints about a model run besides the analysis, read from the run's session so that
// `analyze S.h5` prints the same: "model: gpt2, 6 layers, d=256, attention …; forward … ms, selection
// … ms" (no newline; needs s.model), and the JSON keys model, input_ids, attention, nearest,
// timings_ms and, when `quality` and the session has it, quality.
std::string run_line(const Session& s);
void add_run_json(nlohmann::json& j, const Session& s, bool quality);

std::string sweep_table(const std::vector<Analysis>& runs, const RunInfo& info);
std::string sweep_csv(const std::vector<Analysis>& runs);
nlohmann::json sweep_json(const std::vector<Analysis>& runs, const RunInfo& info);

}  // namespace cascade::cli
