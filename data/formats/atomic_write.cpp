#include "data/formats/atomic_write.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "core/errors.h"

namespace cascade::data {

namespace fs = std::filesystem;

namespace {

// Temporaries in flight, for the signal handler: fixed slots of plain char arrays (no allocation,
// nothing but unlink() and atomics in the handler).
constexpr size_t kSlots = 32;
constexpr size_t kPathMax = 4096;
// A slot is free, claimed (its path being written) or ready; the handler reads ready ones only.
enum SlotState : int { kFree, kClaimed, kReady };
struct Slot {
  std::atomic<int> state{kFree};
  char path[kPathMax];
};
std::array<Slot, kSlots> g_slots;

void remove_in_flight() {
  for (auto& s : g_slots)
    if (s.state.load(std::memory_order_acquire) == kReady) ::unlink(s.path);
}

extern "C" void on_fatal_signal(int sig) {
  remove_in_flight();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// Our handler goes on each signal whose action is still the default (the process would die): a
// handler the program installed (the CLI's Ctrl-C cancels the job, which removes the temporary
// through the exception path) is left alone.
void install_handlers() {
  static std::mutex m;
  std::lock_guard lock(m);
  for (int sig : {SIGTERM, SIGHUP, SIGQUIT, SIGINT}) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) != 0) continue;
    if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL) {
      struct sigaction act {};
      act.sa_handler = on_fatal_signal;
      sigemptyset(&act.sa_mask);
      ::sigaction(sig, &act, nullptr);
    }
  }
}

struct Registered {
  Slot* slot = nullptr;
  explicit Registered(const std::string& path) {
    if (path.size() >= kPathMax) return;
    for (auto& s : g_slots) {
      int expected = kFree;
      if (!s.state.compare_exchange_strong(expected, kClaimed)) continue;
      std::memcpy(s.path, path.c_str(), path.size() + 1);
      s.state.store(kReady, std::memory_order_release);  // only a complete path is ever unlinked
      slot = &s;
      return;
    }
  }
  ~Registered() {
    if (slot) slot->state.store(kFree, std::memory_order_release);
  }
};

std::atomic<uint64_t> g_counter{0};

// The PID in ".NAME.partial-PID" or ".NAME.partial-PID.N"; -1 when the name is not one of ours.
long partial_pid(const std::string& name) {
  if (name.empty() || name[0] != '.') return -1;
  const auto at = name.rfind(".partial-");
  if (at == std::string::npos || at == 0) return -1;
  const std::string rest = name.substr(at + 9);
  size_t digits = 0;
  while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
  if (digits == 0 || digits > 9) return -1;
  if (digits < rest.size()) {  // ".N": digits only
    if (rest[digits] != '.' || digits + 1 == rest.size()) return -1;
    for (size_t i = digits + 1; i < rest.size(); ++i)
      if (!std::isdigit(static_cast<unsigned char>(rest[i]))) return -1;
  }
  return std::stol(rest.substr(0, digits));
}

bool fsync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0 || (directory && errno == EINVAL);
  ::close(fd);
  return ok;
}

}  // namespace

bool is_partial_name(const std::string& file_name) { return partial_pid(file_name) > 0; }

int remove_stale_partials(const std::string& dir) {
  int removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir.empty() ? "." : dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const long pid = partial_pid(name);
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to ask)
    std::error_code rm;
    if (fs::remove(it->path(), rm)) ++removed;
  }
  return removed;
}

void write_atomically(const std::string& path, const std::function<void(const std::string& tmp)>& write,
                      const std::function<void(const std::string& problem)>& fail) {
  const auto failed = [&](const std::string& problem) {
    if (fail) fail(problem);
    throw Error("cannot write " + path + " (" + problem + ")");
  };
  const fs::path target(path);
  const fs::path dir = target.parent_path();
  remove_stale_partials(dir.string());
  // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on a chain of string operator+ here.
  std::string name = ".";
  name += target.filename().string();
  name += ".partial-";
  name += std::to_string(::getpid());
  name += '.';
  name += std::to_string(g_counter.fetch_add(1));
  const fs::path tmp = dir / name;
  install_handlers();
  Registered registered(tmp.string());
  try {
    write(tmp.string());
    std::error_code ec;
    if (!fs::exists(tmp, ec)) failed("nothing was written");
    if (!fsync_path(tmp.string(), false)) failed(std::string("flushing it failed: ") + std::strerror(errno) + " (disk full?)");
    fs::rename(tmp, target, ec);
    if (ec) failed("cannot replace it with the new file: " + ec.message());
    fsync_path(dir.empty() ? "." : dir.string(), true);  // the rename itself, on a crash
  } catch (...) {
    std::error_code ignore;
    fs::remove(tmp, ignore);
    throw;
  }
}

}  // namespace cascade::data
