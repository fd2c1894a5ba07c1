#include "data/formats/isolated.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "core/errors.h"

namespace cascade::data {

namespace {

int child_fd = -1;  // in a child of check_in_child: its end of the pipe

// Messages from the child, one per line: "P done total", "H hint", then one of "I text" (InputError),
// "X text" (another error) or "K" (the check returned).
void send(int fd, const std::string& line) {
  std::string s = line;
  for (char& c : s)
    if (c == '\n') c = ' ';
  s += '\n';
  const char* p = s.data();
  size_t left = s.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

[[noreturn]] void run_child(int fd, const std::function<void(const JobControl&)>& check) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the reader that waits for us
  child_fd = fd;
  // None of the parent's handlers here: a crash kills the child with its signal (also under ASan,
  // whose handler would turn it into exit 1), a TERM or HUP ends it, and the atomic writer's
  // clean-up (which knows the parent's temporaries) never runs in it. Ctrl-C reaches the whole
  // process group: the parent decides (cancel) and kills the child.
  for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGTRAP, SIGTERM, SIGHUP}) std::signal(sig, SIG_DFL);
  for (int sig : {SIGINT, SIGQUIT}) std::signal(sig, SIG_IGN);
  // What the child has to say goes through the pipe; its stderr (libhdf5's or a sanitizer's
  // report on a damaged file) would only add lines to the caller's one-line error.
  // CASCADELENS_CHILD_STDERR=1 keeps it, for debugging.
  if (!std::getenv("CASCADELENS_CHILD_STDERR"))
    if (const int null = ::open("/dev/null", O_WRONLY); null >= 0) ::dup2(null, STDERR_FILENO);
  JobControl child;
  child.on_progress = [fd](const Progress& p) { send(fd, "P " + std::to_string(p.done) + " " + std::to_string(p.total)); };
  int code = 0;
  try {
    check(child);
    send(fd, "K");
  } catch (const InputError& e) {
    send(fd, std::string("I ") + e.what());
    code = 3;
  } catch (const std::exception& e) {
    send(fd, std::string("X ") + e.what());
    code = 1;
  } catch (...) {
    send(fd, "X unknown error");
    code = 1;
  }
  ::_exit(code);  // no atexit handlers, no flushing of the parent's HDF5 files
}

double silence_limit_s() {
  if (const char* v = std::getenv("CASCADELENS_READ_CHECK_TIMEOUT")) {
    char* end = nullptr;
    const double s = std::strtod(v, &end);
    if (end != v && s > 0) return s;
  }
  return 30.0;
}

std::string problem_of(const std::string& message, const std::string& path) {
  const std::string prefix = path + ": ";
  return message.compare(0, prefix.size(), prefix) == 0 ? message.substr(prefix.size()) : message;
}

}  // namespace

void tell_parent(const std::string& hint) {
  if (child_fd >= 0) send(child_fd, "H " + hint);
}

void check_in_child(const IsolatedCheck& what, const std::function<void(const JobControl&)>& check,
                    const JobControl& control) {
  // One check at a time per process: a second thread's child would otherwise inherit this one's
  // pipe (holding its end open), and the two children would share whatever the other thread held.
  static std::mutex one_at_a_time;
  const std::lock_guard<std::mutex> lock(one_at_a_time);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    check(control);
    return;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    check(control);
    return;
  }
  if (pid == 0) {
    ::close(fds[0]);
    run_child(fds[1], check);
  }
  ::close(fds[1]);

  using Clock = std::chrono::steady_clock;
  const double limit = silence_limit_s();
  auto last = Clock::now();
  std::string buffer, verdict, hint = what.hint;
  bool hung = false, cancelled = false;
  for (;;) {
    pollfd p{fds[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, 100);
    if (control.cancelled()) {
      cancelled = true;
      break;
    }
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      if (std::chrono::duration<double>(Clock::now() - last).count() > limit) {
        hung = true;
        break;
      }
      continue;
    }
    char chunk[4096];
    const ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the child closed its end: it ended
    last = Clock::now();
    buffer.append(chunk, static_cast<size_t>(n));
    for (size_t eol; (eol = buffer.find('\n')) != std::string::npos; buffer.erase(0, eol + 1)) {
      const std::string line = buffer.substr(0, eol);
      if (line.size() > 2 && line[0] == 'P') {
        long long done = 0, total = 0;
        if (std::sscanf(line.c_str() + 2, "%lld %lld", &done, &total) == 2) control.report(what.stage, done, total);
      } else if (line.rfind("H ", 0) == 0) {
        hint = line.substr(2);
      } else {
        verdict = line;
      }
    }
  }
  ::close(fds[0]);
  if (hung || cancelled) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (cancelled) throw Cancelled();
  if (hung)
    throw InputError(what.path, "damaged: reading it made no progress for " + std::to_string(static_cast<int>(limit)) +
                                    " s (the HDF5 library loops on it); nothing was loaded" + hint);
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    if (sig == SIGTERM || sig == SIGHUP || sig == SIGKILL)  // someone else ended it: not the file's doing
      throw Error(what.path + ": the check of the file was interrupted (signal " + std::to_string(sig) + ", " +
                  ::strsignal(sig) + ")");
    throw InputError(what.path, "damaged: the HDF5 library crashed reading it (signal " + std::to_string(sig) + ", " +
                                    ::strsignal(sig) + "); nothing was loaded" + hint);
  }
  if (verdict.rfind("I ", 0) == 0) throw InputError(what.path, problem_of(verdict.substr(2), what.path));
  if (verdict.rfind("X ", 0) == 0) throw Error(what.path + ": " + problem_of(verdict.substr(2), what.path));
  if (verdict != "K")
    throw InputError(what.path, "damaged: the HDF5 library failed reading it (the checking process ended with status " +
                                    std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                                    ", as under a sanitizer); nothing was loaded" + hint);
}

}  // namespace cascade::data
