// bench_session: session file sizes and write/read times (run by hand, never by CTest); the table
// in data/SESSION_FORMAT.md "Sizes" comes from here.
//
//   bench_session [DIR]      (DIR: where to write the files, default /tmp)
//
// 32-layer sessions use random, self-consistent sets of realistic density (r/T ≈ 0.25, 5 % cascade
// turnover) and random γ/π — only the layout matters for size. Activations are random unit rows in
// float16 (they do not compress, so random is representative). The write/read ratio is against
// writing the same bytes with std::ofstream, measured in the same run.
#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/session_builders.h"
#include "data/session/session_file.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

void row(const std::string& dir, int64_t L, int64_t T, int64_t d, int sweep, bool activations) {
  cascade::RunRecord s = testsession::random_session(L, T, d, sweep);
  if (activations) {
    at::manual_seed(1);
    const at::Tensor x = at::randn({L, T, d});
    std::vector<at::Tensor> xhat;
    for (int64_t l = 0; l < L; ++l) xhat.push_back(x[l]);
    s.analyzer = std::make_shared<const cascade::Analyzer>(std::move(xhat), std::move(s.prior_max), s.layer_ids());
    s.prior_max.clear();
  }
  const std::string path = dir + "/bench_session.h5";
  auto t0 = Clock::now();
  cascade::data::write_session(path, s, {activations});
  const double write_ms = ms_since(t0);
  const auto bytes = fs::file_size(path);
  t0 = Clock::now();
  const cascade::RunRecord back = cascade::data::read_session(path);
  const double read_ms = ms_since(t0);
  // The same number of bytes through a plain ofstream: the floor any format pays on this disk.
  std::string blob(bytes, 'x');
  t0 = Clock::now();
  {
    std::ofstream out(dir + "/bench_plain.bin", std::ios::binary);
    out.write(blob.data(), static_cast<std::streamsize>(blob.size()));
  }
  const double plain_ms = ms_since(t0);
  std::printf("| %3lld | %5lld | %4lld | %2d | %-3s | %8.2f MiB | %8.0f ms | %8.0f ms | %5.1fx |\n",
              static_cast<long long>(L), static_cast<long long>(T), static_cast<long long>(d), sweep,
              activations ? "yes" : "no", static_cast<double>(bytes) / (1 << 20), write_ms, read_ms,
              write_ms / std::max(plain_ms, 1e-3));
  fs::remove(path);
  fs::remove(dir + "/bench_plain.bin");
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "/tmp";
  std::printf("| L | T | d | sweep points | activations | file size | write | read | write / plain ofstream |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  row(dir, 6, 144, 256, 12, false);
  row(dir, 6, 144, 256, 12, true);
  row(dir, 12, 1024, 768, 12, false);
  row(dir, 12, 1024, 768, 12, true);
  row(dir, 32, 2048, 4096, 12, false);
  row(dir, 32, 8192, 4096, 0, false);
  row(dir, 32, 8192, 4096, 12, false);
  row(dir, 32, 2048, 4096, 0, true);
  return 0;
}
