#pragma once
// What every cascadelens-cli command shares: progress on stderr with Ctrl-C cancellation, the
// thread option, and writing the result to stdout or atomically to --out.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/options.h"
#include "core/defaults.h"
#include "core/errors.h"
#include "core/progress.h"
#include "core/selection.h"

namespace cascade::cli {

// The options several commands take, spelled once.
inline const OptionSpec kHelp{"--help", "", "show this help", ""};
inline const OptionSpec kQuiet{"--quiet", "", "no progress on stderr", ""};
inline const OptionSpec kThreads{"--threads", "N", "LibTorch/BLAS threads", "all cores"};
inline const OptionSpec kMemoryLimit{"--memory-limit", "GIB",
                                     "the memory what is read from files may take, in GiB: a file or option asking for more is "
                                     "refused before anything is allocated", "the usable memory"};
inline const OptionSpec kOut{"--out", "FILE", "write the result to FILE instead of stdout", ""};
inline const OptionSpec kTau{"--tau", "TAU", "redundancy threshold tau in [0,1]; theta = 1 - tau^2", kDefaultTauText};
inline const OptionSpec kTaus{"--taus", "GRID", "the tau sweep: START:STOP:STEP (inclusive) or a list 0.1,0.2,0.3",
                              kDefaultTauGrid};
inline const OptionSpec kRule{"--rule", "RULE", "prior-max (paper Definition 1) or greedy-cover (§2.5)", "prior-max"};
inline const OptionSpec kLayers{"--layers", "A:B", "layers A..B-1 the analysis covers (Python-style; 4:, :6 and 5 work too)",
                                "all"};
inline const OptionSpec kTile{"--tile", "N", "rows of the Gram computed at once (memory T x N floats)", kDefaultTileText};

// Runs `parse`; a UsageError from it (a domain message such as "STEP must be > 0") is rethrown
// with `prefix` in front ("--taus: "), so that the CLI names the option it came from.
template <class Parse>
auto with_flag(const std::string& prefix, Parse&& parse) -> decltype(parse()) {
  try {
    return parse();
  } catch (const UsageError& e) {
    throw UsageError(prefix + e.what());
  }
}

// The options above, parsed (defaults from core/defaults.h; range checks from core).
double tau_option(const Options& opts);            // --tau
std::vector<double> taus_option(const Options& opts);  // --taus
Rule rule_option(const Options& opts);             // --rule

// Progress on stderr, only once a job has run for a second (short jobs stay silent), at most a few
// updates per second; \r-overwritten on a terminal, one line per update otherwise. Its control()
// carries the process-wide Ctrl-C flag (see install_sigint).
class StderrProgress {
 public:
  explicit StderrProgress(bool quiet);
  ~StderrProgress();
  JobControl control();

 private:
  void update(const Progress& p);
  bool quiet_, tty_, shown_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_ = start_;
};

void install_sigint(bool also_sigterm = false);  // Ctrl-C (and SIGTERM) sets the flag; jobs stop at the next check
void apply_resource_options(const Options& opts);  // --threads N, --memory-limit GIB
void apply_memory_limit(const Options& opts);      // --memory-limit GIB alone
int64_t tile_option(const Options& opts);  // --tile N
uint64_t unsigned_option(const Options& opts, const char* name);  // --seed S: UsageError naming it otherwise
void emit(const Options& opts, const std::string& text);  // stdout, or --out FILE atomically

}  // namespace cascade::cli
