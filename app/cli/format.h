#pragma once
// Output of analyses as a human table, tidy CSV or JSON, with the SPEC §4 names as headers/keys.
#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

#include "core/measures.h"

namespace cascade {
struct AdaQuality;
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

std::string sweep_table(const std::vector<Analysis>& runs, const RunInfo& info);
std::string sweep_csv(const std::vector<Analysis>& runs);
nlohmann::json sweep_json(const std::vector<Analysis>& runs, const RunInfo& info);

}  // namespace cascade::cli
