#pragma once
// Progress reporting and cooperative cancellation shared by every long-running job.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "core/errors.h"

namespace cascade {

struct Progress {
  std::string stage;  // short name of what is running ("prior-max scan", "cascade", "sweep")
  int64_t done = 0;
  int64_t total = 0;
};

// Passed by value into jobs; both members are optional.
struct JobControl {
  std::function<void(const Progress&)> on_progress;
  const std::atomic<bool>* cancel = nullptr;

  void report(const std::string& stage, int64_t done, int64_t total) const {
    if (on_progress) on_progress(Progress{stage, done, total});
  }
  bool cancelled() const { return cancel && cancel->load(std::memory_order_relaxed); }
  // Throws Cancelled when the user asked to stop. Called between layers and between tiles.
  void check() const {
    if (cancel && cancel->load(std::memory_order_relaxed)) throw Cancelled();
  }
};

}  // namespace cascade
