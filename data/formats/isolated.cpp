#include "data/formats/isolated.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
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
    throw InputError(what.path, "damaged: the HDF5 library crashed reading it (signal " + std::to_string(sig) + ", " +
                                    ::strsignal(sig) + "); nothing was loaded" + hint);
  }
  if (verdict.rfind("I ", 0) == 0) throw InputError(what.path, problem_of(verdict.substr(2), what.path));
  if (verdict.rfind("X ", 0) == 0) throw Error(what.path + ": " + problem_of(verdict.substr(2), what.path));
  if (verdict != "K")
    throw InputError(what.path, "damaged: reading it ended without an answer (exit status " +
                                    std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")" + hint);
}

}  // namespace cascade::data
