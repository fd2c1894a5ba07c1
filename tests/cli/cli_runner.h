#pragma once
// Runs the real cascadelens-cli binary, capturing stdout, stderr and the exit code, inside a fresh
// temporary folder per test.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace clitest {

struct Result {
  int code = -1;
  std::string out, err;
};

inline Result run_cli(const std::vector<std::string>& args, const std::filesystem::path& dir) {
  std::string cmd = std::string("'") + CASCADE_CLI + "'";
  for (const auto& a : args) cmd += " '" + a + "'";
  const std::filesystem::path err_file = dir / "stderr.txt";
  cmd += " 2> '" + err_file.string() + "'";
  Result r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream e(err_file);
  r.err.assign(std::istreambuf_iterator<char>(e), std::istreambuf_iterator<char>());
  return r;
}

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cascade_cli_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  Result run(const std::vector<std::string>& args) { return run_cli(args, dir_); }
  std::filesystem::path dir_;
};

}  // namespace clitest
