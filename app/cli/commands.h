#pragma once
// The subcommands of cascadelens-cli. Each takes its arguments (after the command name) and
// returns the process exit code; typed errors propagate to main(), which maps them to codes.
#include <string>
#include <vector>

namespace cascade::cli {

int cmd_analyze(const std::vector<std::string>& args);
int cmd_sweep(const std::vector<std::string>& args);
int cmd_synth(const std::vector<std::string>& args);
int cmd_run(const std::vector<std::string>& args);
int cmd_compare(const std::vector<std::string>& args);  // SPEC §7 baselines at an equal budget
int cmd_study(const std::vector<std::string>& args);    // SPEC §8 studies over a corpus (and merge, show)
int cmd_train_demo(const std::vector<std::string>& args);
int cmd_serve(const std::vector<std::string>& args);  // the engine over HTTP for remote clients
int cmd_tokenize(const std::vector<std::string>& args);  // ids, tokens and byte offsets of texts
// Needs the figure library (built with CASCADE_BUILD_GUI); otherwise says so (usage error).
int cmd_figures(const std::vector<std::string>& args);
int cmd_export(const std::vector<std::string>& args);  // a session as tidy CSVs / JSON
int cmd_version();

// The bundled demo activation file (data/demo/synthetic; data::bundled_synthetic_file).
std::string bundled_demo_file();

}  // namespace cascade::cli
