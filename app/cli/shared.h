#pragma once
// What every cascadelens-cli command shares: progress on stderr with Ctrl-C cancellation, the
// thread option, and writing the result to stdout or atomically to --out.
#include <chrono>
#include <cstdint>
#include <string>

#include "cli/options.h"
#include "core/progress.h"

namespace cascade::cli {

// The options several commands take, spelled once.
inline const OptionSpec kHelp{"--help", "", "show this help", ""};
inline const OptionSpec kQuiet{"--quiet", "", "no progress on stderr", ""};
inline const OptionSpec kThreads{"--threads", "N", "LibTorch/BLAS threads", "all cores"};
inline const OptionSpec kOut{"--out", "FILE", "write the result to FILE instead of stdout", ""};

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

void install_sigint();                  // Ctrl-C sets the flag; jobs stop at the next check
void apply_threads(const Options& opts);  // --threads N
int64_t tile_option(const Options& opts);  // --tile N
void emit(const Options& opts, const std::string& text);  // stdout, or --out FILE atomically

}  // namespace cascade::cli
