#pragma once
// Output of analyses as a human table or the CLI's CSV, with the name tables' names
// (core/names.h) as headers; JSON comes from data/session/record_json.h.
#include <string>
#include <vector>

#include "core/measures.h"

namespace cascade {
struct AdaQuality;
struct RunRecord;
struct Comparison;
enum class AttentionMode;
}

namespace cascade::cli {

enum class Format { Table, Csv, Json };
Format parse_format(const std::string& name);  // throws UsageError

std::string analysis_table(const Analysis& a, const std::string& source);
std::string analysis_csv(const Analysis& a);

// "quality (MODE vs exact): ppl_exact … | mean attention error …" (one line).
std::string quality_lines(const AdaQuality& q, AttentionMode mode);

// "model: gpt2, 6 layers, d=256, attention …; forward … ms, selection … ms" (no newline; needs
// r.model): what `run` prints about a model run besides the analysis, read from the record so that
// `analyze S.h5` prints the same.
std::string run_line(const RunRecord& r);

// compare: the summary (one row per method, every SPEC §7 axis) and per-layer tables of r,
// attn_err, coverage and covered with the methods side by side; the CSV is tidy (one row per method
// and layer, then the method's row with layer "all": means and the end-to-end ppl, delta_ppl, kl).
std::string comparison_table(const Comparison& c, const std::string& source);
std::string comparison_csv(const Comparison& c);

std::string sweep_table(const std::vector<Analysis>& runs, const std::string& source);
std::string sweep_csv(const std::vector<Analysis>& runs);

}  // namespace cascade::cli
