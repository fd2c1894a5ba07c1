// The one atomic writer (data/formats/atomic_write.h): a failed write leaves the old file and no
// temporary; a process killed by a signal it can catch removes its temporary on the way down; the
// temporaries of a process killed by SIGKILL are removed by the next write into that folder.
// Signals go to forked children, so this process never dies of them.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/errors.h"
#include "data/formats/atomic_write.h"
#include "data/formats/io_util.h"

namespace cascade::data {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    std::string p = (fs::temp_directory_path() / "cascade-atomic-XXXXXX").string();
    path = mkdtemp(p.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> partials(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (is_partial_name(e.path().filename().string())) out.push_back(e.path().filename().string());
  return out;
}

// A child that starts replacing `target` with half of new contents, then dies of `sig`.
int die_mid_write(const fs::path& target, int sig) {
  const pid_t pid = fork();
  if (pid == 0) {
    try {
      write_atomically(target.string(), [&](const std::string& tmp) {
        std::ofstream(tmp, std::ios::binary) << std::string(100000, 'n');
        ::kill(::getpid(), sig);
        ::pause();
      });
    } catch (...) {
    }
    _exit(0);  // not reached when the signal kills it
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) ? WTERMSIG(status) : -1;
}

TEST(AtomicWrite, AFailedWriteLeavesTheOldFileAndNoTemporary) {
  TempDir d;
  const fs::path target = d.path / "out.bin";
  write_file_atomically(target.string(), "old contents");
  EXPECT_THROW(write_atomically(target.string(), [](const std::string& tmp) {
                 std::ofstream(tmp) << "half";
                 throw Error("disk full");
               }),
               Error);
  EXPECT_EQ(slurp(target), "old contents");
  EXPECT_TRUE(partials(d.path).empty());
  // A write that creates nothing is a failure too, and the old file stays.
  EXPECT_THROW(write_atomically(target.string(), [](const std::string&) {}), Error);
  EXPECT_EQ(slurp(target), "old contents");
  // Into a folder that does not exist: an error naming the file, nothing created.
  EXPECT_THROW(write_file_atomically((d.path / "missing" / "x").string(), "x"), Error);
  write_file_atomically(target.string(), "new contents");
  EXPECT_EQ(slurp(target), "new contents");
  EXPECT_TRUE(partials(d.path).empty());
}

TEST(AtomicWrite, ACatchableSignalMidWriteRemovesTheTemporary) {
  TempDir d;
  const fs::path target = d.path / "session.h5";
  write_file_atomically(target.string(), "old");
  for (int sig : {SIGTERM, SIGHUP, SIGINT}) {
    SCOPED_TRACE(strsignal(sig));
    EXPECT_EQ(die_mid_write(target, sig), sig);
    EXPECT_EQ(slurp(target), "old");
    EXPECT_TRUE(partials(d.path).empty()) << partials(d.path).front();
  }
}

TEST(AtomicWrite, SigkillLeavesATemporaryTheNextWriteRemoves) {
  TempDir d;
  const fs::path target = d.path / "session.h5";
  write_file_atomically(target.string(), "old");
  EXPECT_EQ(die_mid_write(target, SIGKILL), SIGKILL);
  EXPECT_EQ(slurp(target), "old");
  ASSERT_EQ(partials(d.path).size(), 1u);  // nothing can catch SIGKILL
  // A live process's temporary (this one's parent's pid, and ours) is never touched.
  const fs::path live = d.path / (".other.h5.partial-" + std::to_string(getppid()));
  const fs::path own = d.path / (".other.h5.partial-" + std::to_string(getpid()) + ".7");
  std::ofstream(live) << "x";
  std::ofstream(own) << "x";
  std::ofstream(d.path / ".not-ours.partial-abc") << "x";  // not our pattern: kept
  write_file_atomically((d.path / "another.csv").string(), "a,b\n");
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(fs::exists(own));
  EXPECT_TRUE(fs::exists(d.path / ".not-ours.partial-abc"));
  EXPECT_EQ(partials(d.path).size(), 2u);  // the dead child's is gone
  EXPECT_EQ(slurp(target), "old");
}

TEST(AtomicWrite, TemporaryNamesAreRecognised) {
  EXPECT_TRUE(is_partial_name(".s.h5.partial-123"));
  EXPECT_TRUE(is_partial_name(".s.h5.partial-123.4"));
  EXPECT_FALSE(is_partial_name("s.h5.partial-123"));
  EXPECT_FALSE(is_partial_name(".s.h5.partial-"));
  EXPECT_FALSE(is_partial_name(".s.h5.partial-12x"));
  EXPECT_FALSE(is_partial_name(".s.h5.partial-12."));
  EXPECT_FALSE(is_partial_name(".s.h5"));
}

}  // namespace
}  // namespace cascade::data
