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
int cmd_train_demo(const std::vector<std::string>& args);
int cmd_version();

// The bundled demo activation file (data/demo/...), found next to the executable's source tree
// or through $CASCADE_DATA_DIR.
std::string bundled_demo_file();
// A path under the repository's data/ folder (or $CASCADE_DATA_DIR); throws InputError if absent.
std::string bundled_data_path(const std::string& relative);

}  // namespace cascade::cli
