#pragma once
// Saved sessions as the input of analyze, sweep, figures and export (app/cli/session_commands.cpp).
#include <string>

#include "cli/options.h"
#include "core/progress.h"
#include "core/run_record.h"

namespace cascade::cli {

// The single positional argument is a session file (an HDF5 file with the session marker).
bool is_session_input(const Options& opts);
// "source [session S.h5, saved DATE by Cascade Lens V]" for table headers.
std::string session_label(const std::string& path, const RunRecord& s);

// analyze / sweep on a session: the stored analysis (or sweep) when tau and the rule match what
// was saved, else re-derived from the stored activations (a clear usage error without them).
int analyze_session(const Options& opts);
int sweep_session(const Options& opts);

}  // namespace cascade::cli
