// data/formats/isolated.h: the check runs in a child process, and whatever happens to the child
// (it returns, throws, crashes, loops, or the caller cancels) is one outcome in the caller.
#include "data/formats/isolated.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include "core/errors.h"
#include "data/session/session_file.h"

namespace cascade::data {
namespace {

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(IsolatedCheck, ReturnsWhenTheCheckReturnsAndForwardsItsProgress) {
  std::vector<int64_t> done;
  JobControl control;
  control.on_progress = [&](const Progress& p) {
    EXPECT_EQ(p.stage, "checking");
    EXPECT_EQ(p.total, 3);
    done.push_back(p.done);
  };
  const pid_t parent = ::getpid();
  int ran_here = 0;
  check_in_child({"f.h5", "checking", ""}, [&](const JobControl& child) {
    EXPECT_NE(::getpid(), parent);  // (an EXPECT failing in the child is lost: the pid check below is the parent's)
    ran_here = 1;  // the child's copy: the parent's stays 0
    for (int i = 0; i < 3; ++i) child.report("ignored", i, 3);
  }, control);
  EXPECT_EQ(ran_here, 0) << "the check ran in this process, not a child";
  EXPECT_EQ(done, (std::vector<int64_t>{0, 1, 2}));
}

TEST(IsolatedCheck, AnInputErrorInTheChildIsTheSameInputErrorHere) {
  try {
    check_in_child({"f.h5", "checking", ""}, [](const JobControl&) { throw InputError("f.h5", "no dataset /tokens/strings"); }, {});
    FAIL() << "no exception";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "f.h5: no dataset /tokens/strings");
  }
}

TEST(IsolatedCheck, AnotherErrorInTheChildIsAnErrorButNotAnInputError) {
  bool input_error = false, error = false;
  try {
    check_in_child({"f.h5", "checking", ""}, [](const JobControl&) { throw std::runtime_error("out of paper"); }, {});
  } catch (const InputError&) {
    input_error = true;
  } catch (const Error& e) {
    error = true;
    EXPECT_NE(std::string(e.what()).find("out of paper"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(error);
  EXPECT_FALSE(input_error);
}

TEST(IsolatedCheck, AChildThatCrashesIsAnInputErrorWithTheSignalAndTheHint) {
  const std::string m = message_of([] {
    check_in_child({"f.h5", "checking", " (default hint)"}, [](const JobControl&) {
      tell_parent(" (a session of format version 2)");
      ::raise(SIGSEGV);
    }, {});
  });
  EXPECT_NE(m.find("f.h5: damaged: the HDF5 library crashed reading it (signal 11"), std::string::npos) << m;
  EXPECT_NE(m.find("(a session of format version 2)"), std::string::npos) << m;
  EXPECT_EQ(m.find("default hint"), std::string::npos) << m;
  const std::string abort = message_of([] { check_in_child({"f.h5", "c", ""}, [](const JobControl&) { std::abort(); }, {}); });
  EXPECT_NE(abort.find("signal 6"), std::string::npos) << abort;
}

// A TERM is someone ending the check, not the file's doing: an Error, not "damaged"; and a
// handler the parent installed (here one that would mark the file as handled) never runs in the child.
TEST(IsolatedCheck, AChildEndedByTermIsInterruptedNotDamaged) {
  static volatile sig_atomic_t handled = 0;
  const auto old = std::signal(SIGTERM, [](int) { handled = 1; });
  bool input_error = false;
  std::string m;
  try {
    check_in_child({"f.h5", "c", ""}, [](const JobControl&) {
      ::raise(SIGTERM);
      ::pause();
    }, {});
  } catch (const InputError& e) {
    input_error = true;
    m = e.what();
  } catch (const Error& e) {
    m = e.what();
  }
  std::signal(SIGTERM, old);
  EXPECT_FALSE(input_error) << m;
  EXPECT_NE(m.find("interrupted (signal 15"), std::string::npos) << m;
  EXPECT_EQ(handled, 0);
}

TEST(IsolatedCheck, AChildThatMakesNoProgressIsKilledAfterTheSilenceLimit) {
  ::setenv("CASCADELENS_READ_CHECK_TIMEOUT", "1", 1);
  const auto start = std::chrono::steady_clock::now();
  const std::string m = message_of([] {
    check_in_child({"f.h5", "c", " (hint)"}, [](const JobControl&) {
      for (;;) ::pause();
    }, {});
  });
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ::unsetenv("CASCADELENS_READ_CHECK_TIMEOUT");
  EXPECT_NE(m.find("made no progress for 1 s"), std::string::npos) << m;
  EXPECT_NE(m.find("(hint)"), std::string::npos) << m;
  EXPECT_LT(s, 10);
}

TEST(IsolatedCheck, ProgressKeepsASlowChildAlive) {
  ::setenv("CASCADELENS_READ_CHECK_TIMEOUT", "1", 1);
  EXPECT_NO_THROW(check_in_child({"f.h5", "c", ""}, [](const JobControl& child) {
    for (int i = 0; i < 6; ++i) {  // 3 s in all, never 1 s silent
      ::usleep(500000);
      child.report("x", i, 6);
    }
  }, {}));
  ::unsetenv("CASCADELENS_READ_CHECK_TIMEOUT");
}

TEST(IsolatedCheck, CancelKillsTheChild) {
  std::atomic<bool> cancel{false};
  JobControl control;
  control.cancel = &cancel;
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel = true;
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(check_in_child({"f.h5", "c", ""}, [](const JobControl&) { for (;;) ::pause(); }, control), Cancelled);
  t.join();
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5);
}

// A real damaged file: a version-2 session that libhdf5 1.10 crashes on (found by mutating a valid
// one), committed under tests/fuzz/damaged_sessions.
TEST(IsolatedCheck, ASessionThatCrashesLibhdf5IsAnInputError) {
  const std::filesystem::path file = std::filesystem::path(CASCADE_SOURCE_DIR) / "tests/fuzz/damaged_sessions/v2_comparisons_crashes_libhdf5_m1_0060.h5";
  ASSERT_TRUE(std::filesystem::exists(file)) << file;
  const std::string m = message_of([&] { (void)read_session(file.string()); });
#ifdef CASCADE_SANITIZED  // ASan reports libhdf5's over-read and ends the child with status 1 first
  EXPECT_NE(m.find("damaged: the HDF5 library failed reading it"), std::string::npos) << m;
#else
  EXPECT_NE(m.find("damaged: the HDF5 library crashed reading it (signal"), std::string::npos) << m;
#endif
  EXPECT_NE(m.find("format version 2"), std::string::npos) << m;
}

}  // namespace
}  // namespace cascade::data
