// bench_session: session file sizes and write/read times (run by hand, never by CTest); the table
// in data/SESSION_FORMAT.md "Sizes" comes from here.
//
//   bench_session [DIR [formats]]   (DIR: where to write the files, default /tmp; `formats`: the
//                                    version 3 vs 2 read-time table alone)
//
// 32-layer sessions use random, self-consistent sets of realistic density (r/T ≈ 0.25, 5 % cascade
// turnover) and random γ/π — only the layout matters for size. Activations are random unit rows in
// float16 (they do not compress, so random is representative). The write/read ratio is against
// writing the same bytes with std::ofstream, measured in the same run.
//
// The second table: read time of format version 3 (fixed-length strings, read in a child process
// first) against version 2 (variable-length strings, read in process as builds before version 3
// did), on the same content: the version-2 copy is the version-3 file with every string rewritten
// as variable-length and /text moved back to a root attribute (legacy_copy below).
#include <ATen/ATen.h>
#include <hdf5.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/legacy_session.h"
#include "common/session_builders.h"
#include "data/session/session_file.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// A random session of that size; with `activations`, random float rows as its X̂.
cascade::RunRecord bench_record(int64_t L, int64_t T, int64_t d, int sweep, bool activations) {
  cascade::RunRecord s = testsession::random_session(L, T, d, sweep);
  if (activations) {
    at::manual_seed(1);
    const at::Tensor x = at::randn({L, T, d});
    std::vector<at::Tensor> xhat;
    for (int64_t l = 0; l < L; ++l) xhat.push_back(x[l]);
    s.analyzer = std::make_shared<const cascade::Analyzer>(std::move(xhat), std::move(s.prior_max), s.layer_ids());
    s.prior_max.clear();
  }
  return s;
}

void row(const std::string& dir, int64_t L, int64_t T, int64_t d, int sweep, bool activations) {
  const cascade::RunRecord s = bench_record(L, T, d, sweep, activations);
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

// Median of `reps` reads of `path`.
double read_ms(const std::string& path, bool isolate, int reps) {
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    cascade::data::SessionReadOptions o;
    o.isolate = isolate;
    const auto t0 = Clock::now();
    (void)cascade::data::read_session(path, o);
    ms.push_back(ms_since(t0));
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

void format_row(const std::string& dir, int64_t L, int64_t T, int64_t d, int sweep, bool activations, int reps) {
  const cascade::RunRecord s = bench_record(L, T, d, sweep, activations);
  const std::string v3 = dir + "/bench_session_v3.h5", v2 = dir + "/bench_session_v2.h5";
  cascade::data::write_session(v3, s, {activations});
  testsession::legacy_copy(v3, v2);
  const double old_ms = read_ms(v2, false, reps), v3_plain = read_ms(v3, false, reps), v3_isolated = read_ms(v3, true, reps),
               v2_isolated = read_ms(v2, true, reps);
  std::printf("| %3lld | %5lld | %4lld | %2d | %-3s | %8.1f ms | %8.1f ms | %8.1f ms | %8.1f ms | %5.2fx |\n",
              static_cast<long long>(L), static_cast<long long>(T), static_cast<long long>(d), sweep,
              activations ? "yes" : "no", old_ms, v3_plain, v3_isolated, v2_isolated, v3_isolated / old_ms);
  fs::remove(v3);
  fs::remove(v2);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "/tmp";
  const bool formats_only = argc > 2 && std::string(argv[2]) == "formats";  // the second table alone
  if (!formats_only) {
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
  }

  std::printf("\nRead time, format version 3 vs 2 (median of 5; the same content):\n\n");
  std::printf("| L | T | d | sweep points | activations | v2 in process (old reader) | v3 in process | v3 as read now (child check + read) | v2 as read now | now / old |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  format_row(dir, 6, 144, 256, 12, false, 5);
  format_row(dir, 6, 144, 256, 12, true, 5);
  format_row(dir, 32, 8192, 4096, 12, false, 5);
  format_row(dir, 32, 2048, 4096, 0, true, 3);
  return 0;
}
