// bench_selection: cost of the selection kernels on this machine (run by hand, never by CTest).
//
//   bench_selection [--quick] [--T 512,2048] [--d 768] [--reps N] [--tiles 256,512,1024]
//                   [--ratios 0.05,0.25,0.5] [--tile 256] [--threads N] [--only scan|mem|cascade]
//
// Prints markdown tables to stdout (RESULTS.md is written from them):
//   1. prior_max_scan vs a plain at::mm(X, Xᵀ) of the same shape: executed GEMM rate and time.
//   2. peak extra resident memory of the scan vs the full T×T Gram.
//   3. cascade_step vs the independent prior_max_scan: executed-op savings vs wall-clock savings.
// The machine this runs on is shared and noisy, so the two sides of every ratio are timed
// interleaved within each repetition (noise hits both) and medians are reported.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/selection.h"
#include "core/version.h"

namespace {

using cascade::TokenSet;

struct Options {
  std::vector<int64_t> scan_T{512, 2048, 4096, 8192};
  std::vector<int64_t> cascade_T{2048, 4096, 8192};
  std::vector<int64_t> dims{768, 4096};
  std::vector<int64_t> tiles{256, 512, 1024};
  std::vector<double> ratios{0.05, 0.25, 0.5};
  int reps = 7;
  int64_t tile = cascade::kDefaultTile;  // of both sides of section 3
  int threads = 0;                       // 0: leave LibTorch's default alone
  std::string only;                      // "" = all sections
};

// ---------------------------------------------------------------- command line

template <class T>
std::vector<T> parse_list(const std::string& text) {
  std::vector<T> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(static_cast<T>(std::stod(item)));
  return out;
}

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr,
               "%s\nusage: bench_selection [--quick] [--T a,b] [--d a,b] [--reps N] [--tiles a,b] "
               "[--ratios a,b] [--tile N] [--threads N] [--only scan|mem|cascade]\n",
               msg);
  std::exit(2);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") {  // a smoke run: seconds, not minutes
      o.scan_T = o.cascade_T = {512, 1024};
      o.dims = {256};
      o.tiles = {256, 512};
      o.reps = 3;
      continue;
    }
    if (i + 1 >= argc) usage(("missing value after " + a).c_str());
    const std::string v = argv[++i];
    if (a == "--T") o.scan_T = o.cascade_T = parse_list<int64_t>(v);
    else if (a == "--d") o.dims = parse_list<int64_t>(v);
    else if (a == "--tiles") o.tiles = parse_list<int64_t>(v);
    else if (a == "--ratios") o.ratios = parse_list<double>(v);
    else if (a == "--reps") o.reps = std::max(1, std::atoi(v.c_str()));
    else if (a == "--tile") o.tile = std::max<int64_t>(1, std::atol(v.c_str()));
    else if (a == "--threads") o.threads = std::max(1, std::atoi(v.c_str()));
    else if (a == "--only") o.only = v;
    else usage(("unknown flag " + a).c_str());
  }
  return o;
}

// ---------------------------------------------------------------- timing and memory

double seconds(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Fewer repetitions for the largest shapes (T=8192, d=4096 is ~550 GFLOP per full GEMM): the
// median of 3 is enough there, and 5+ would take minutes on 2 cores.
int reps_for(double gemm_flops, int reps) { return gemm_flops > 2e11 ? std::min(reps, 3) : reps; }

// Runs every timed function once as a warm-up (BLAS buffers, page faults), then `reps` rounds
// in which all of them run back to back; returns the median seconds of each.
std::vector<double> time_interleaved(const std::vector<std::function<void()>>& fns, int reps) {
  for (const auto& f : fns) f();
  std::vector<std::vector<double>> samples(fns.size());
  for (int r = 0; r < reps; ++r)
    for (size_t k = 0; k < fns.size(); ++k) samples[k].push_back(seconds(fns[k]));
  std::vector<double> med;
  for (const auto& s : samples) med.push_back(median(s));
  return med;
}

long status_kb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + field.size());
  return -1;
}

// Writing "5" to clear_refs resets VmHWM (the peak RSS) to the current RSS (Linux ≥ 4.0).
bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

// Peak RSS growth while f runs, in MiB, or -1 when the peak cannot be reset. malloc_trim first
// hands freed heap pages back to the kernel; otherwise a buffer reused from an earlier call
// would already be resident and the growth would be undercounted.
double peak_extra_mib(const std::function<void()>& f) {
  malloc_trim(0);
  if (!reset_peak_rss()) return -1;
  const long before = status_kb("VmRSS:");
  f();
  return (status_kb("VmHWM:") - before) / 1024.0;
}

// ---------------------------------------------------------------- data and op counts

// Normalised Gaussian rows: cosines ≈ 0 (|cos| ~ 1/√d), so every inherited rep stays valid and
// the cost of a cascade step is set by the sizes alone, not by the data.
at::Tensor random_xhat(int64_t T, int64_t d, uint64_t seed) {
  at::manual_seed(seed);
  return cascade::normalize_rows(at::randn({T, d}));
}

// MACs the tiled prior-max scan executes: one b × d × i1 GEMM per row tile [i0, i1).
double scan_macs(int64_t T, int64_t tile) {
  double macs = 0;
  for (int64_t i0 = 0; i0 < T; i0 += tile) {
    const int64_t i1 = std::min(T, i0 + tile);
    macs += static_cast<double>(i1 - i0) * static_cast<double>(i1);
  }
  return macs;
}

TokenSet random_subset(int64_t T, int64_t r, uint64_t seed) {
  std::vector<int64_t> all(T);
  std::iota(all.begin(), all.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(all.begin(), all.end(), rng);
  TokenSet s(all.begin(), all.begin() + r);
  std::sort(s.begin(), s.end());
  return s;
}

// ---------------------------------------------------------------- header

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

std::string today() {
  char buf[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%Y-%m-%d", std::localtime(&now));
  return buf;
}

void print_header() {
  const cascade::BlasInfo blas = cascade::detect_blas();
  std::printf("# bench_selection — %s\n\n", today().c_str());
  std::printf("- CPU: %s, %u logical cores; LibTorch %s, %d intra-op threads; %s\n", cpu_model().c_str(),
              std::thread::hardware_concurrency(), cascade::torch_version().c_str(), at::get_num_threads(),
              cascade::compiler().c_str());
  std::printf("- BLAS: %s, %s; sgemm 512³ through LibTorch: %.1f GFLOP/s\n\n", blas.name.c_str(),
              blas.path.c_str(), blas.sgemm_gflops);
  std::fflush(stdout);
}

// ---------------------------------------------------------------- 1. scan vs GEMM

struct ScanRow {
  double t_mm = 0;
  std::vector<double> t_scan;  // per tile in Options::tiles
  int reps = 0;
};

ScanRow time_scan_vs_mm(const at::Tensor& x, const std::vector<int64_t>& tiles, int reps) {
  std::vector<std::function<void()>> fns{[&] { at::mm(x, x.t()); }};
  for (int64_t tile : tiles) fns.emplace_back([&x, tile] { cascade::prior_max_scan(x, tile); });
  const std::vector<double> med = time_interleaved(fns, reps);
  return ScanRow{med[0], std::vector<double>(med.begin() + 1, med.end()), reps};
}

void print_scan_row(int64_t T, int64_t d, const std::vector<int64_t>& tiles, const ScanRow& row) {
  const double full = 2.0 * T * T * d, mm_rate = full / row.t_mm / 1e9;
  const size_t best = std::min_element(row.t_scan.begin(), row.t_scan.end()) - row.t_scan.begin();
  // (a) executed rate of the scan relative to the GEMM's; (b) useful-work view: time ratio.
  auto rate = [&](size_t k) { return 2.0 * scan_macs(T, tiles[k]) * d / row.t_scan[k] / 1e9; };
  std::string times;
  for (double t : row.t_scan) times += std::string(times.empty() ? "" : " / ") + std::to_string(int(t * 1e3 + 0.5));
  std::printf("| %ld | %ld | %d | %.1f | %.0f | %s | %.0f | %.0f%% | %.2f | %ld | %.0f | %.0f%% | %.2f | %.2f |\n",
              long(T), long(d), row.reps, row.t_mm * 1e3, mm_rate, times.c_str(), rate(0),
              100 * rate(0) / mm_rate, row.t_scan[0] / row.t_mm, long(tiles[best]), rate(best),
              100 * rate(best) / mm_rate, row.t_scan[best] / row.t_mm, scan_macs(T, tiles[best]) * 2 * d / full);
  std::fflush(stdout);
}

void bench_scan(const Options& o) {
  std::string tiles;
  for (int64_t t : o.tiles) tiles += std::string(tiles.empty() ? "" : "/") + std::to_string(t);
  std::printf("## 1. prior_max_scan vs at::mm(X, Xᵀ)\n\n");
  std::printf("| T | d | reps | mm ms | mm GFLOP/s | scan ms (tile %s) | scan GFLOP/s @%ld | rate vs mm @%ld "
              "| time scan/mm @%ld | best tile | scan GFLOP/s @best | rate vs mm @best | time scan/mm @best "
              "| ideal time (exec/full FLOPs) @best |\n",
              tiles.c_str(), long(o.tiles[0]), long(o.tiles[0]), long(o.tiles[0]));
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (int64_t d : o.dims)
    for (int64_t T : o.scan_T) {
      const at::Tensor x = random_xhat(T, d, 1000 + T + d);
      print_scan_row(T, d, o.tiles, time_scan_vs_mm(x, o.tiles, reps_for(2.0 * T * T * d, o.reps)));
    }
  std::printf("\n");
}

// ---------------------------------------------------------------- 2. memory

void bench_memory(const Options& o) {
  const int64_t d = o.dims.front(), tile = cascade::kDefaultTile;
  std::printf("## 2. Peak extra resident memory (d = %ld, tile = %ld; VmHWM − VmRSS before)\n\n", long(d),
              long(tile));
  std::printf("| T | scan MiB | theory tile·T·4 MiB | mm MiB | theory T²·4 MiB |\n|---|---|---|---|---|\n");
  for (int64_t T : o.scan_T) {
    const at::Tensor x = random_xhat(T, d, 2000 + T);
    cascade::prior_max_scan(x, tile);  // warm: BLAS thread buffers are not part of the answer
    const double scan = peak_extra_mib([&] { cascade::prior_max_scan(x, tile); });
    const double mm = peak_extra_mib([&] { at::mm(x, x.t()); });
    const double mib = 1024.0 * 1024.0;
    std::printf("| %ld | %.1f | %.1f | %.1f | %.1f |\n", long(T), scan, std::min(tile, T) * T * 4 / mib, mm,
                double(T) * T * 4 / mib);
    std::fflush(stdout);
  }
  std::printf("\n");
}

// ---------------------------------------------------------------- 3. cascade vs independent

struct CascadeCase {
  double ratio;
  TokenSet inherited;
  int64_t r_valid = 0, paper_entries = 0;
  double t_casc = 0;
};

void print_cascade_row(int64_t T, int64_t d, int64_t tile, int reps, double t_ind, const CascadeCase& c) {
  const int64_t r = static_cast<int64_t>(c.inherited.size());
  const double ind_ops = scan_macs(T, tile);
  const double casc_ops = scan_macs(r, tile) + double(T - r) * c.r_valid;
  const double op_sav = 1 - casc_ops / ind_ops, wall_sav = 1 - c.t_casc / t_ind;
  const double paper_sav = 1 - double(c.paper_entries) / (double(T) * T);
  std::printf("| %ld | %ld | %.2f | %ld | %ld | %d | %.1f | %.1f | %.2fM | %.2fM | %.1f%% | %.1f%% | %.0f%% | "
              "%.2fM / %.2fM (%.1f%%) |\n",
              long(T), long(d), c.ratio, long(r), long(c.r_valid), reps, t_ind * 1e3, c.t_casc * 1e3, ind_ops / 1e6,
              casc_ops / 1e6, 100 * op_sav, 100 * wall_sav, 100 * wall_sav / op_sav, double(T) * T / 1e6,
              c.paper_entries / 1e6, 100 * paper_sav);
  std::fflush(stdout);
}

// Times the independent scan and every r/T case interleaved in each repetition.
void bench_cascade_shape(int64_t T, int64_t d, const Options& o) {
  const at::Tensor x = random_xhat(T, d, 3000 + T + d);
  const double theta = cascade::theta_of_tau(0.30);
  std::vector<CascadeCase> cases;
  for (double ratio : o.ratios) {
    CascadeCase c{ratio, random_subset(T, std::max<int64_t>(1, int64_t(ratio * T + 0.5)), 4000 + T)};
    const cascade::CascadeTrace tr = cascade::cascade_step(x, c.inherited, theta, o.tile);
    c.r_valid = static_cast<int64_t>(tr.valid.size());
    c.paper_entries = tr.gram_entries;
    cases.push_back(std::move(c));
  }
  const int64_t tile = o.tile;
  std::vector<std::function<void()>> fns{[&] { cascade::prior_max_scan(x, tile); }};
  for (const auto& c : cases)
    fns.emplace_back([&x, &c, theta, tile] { cascade::cascade_step(x, c.inherited, theta, tile); });
  const int reps = reps_for(1.0 * T * T * d, o.reps);
  const std::vector<double> med = time_interleaved(fns, reps);
  for (size_t k = 0; k < cases.size(); ++k) {
    cases[k].t_casc = med[k + 1];
    print_cascade_row(T, d, tile, reps, med[0], cases[k]);
  }
}

void bench_cascade(const Options& o) {
  std::printf("## 3. cascade_step vs independent prior_max_scan (tile %ld, τ = 0.30)\n\n",
              long(o.tile));
  std::printf("| T | d | r/T | r | r_valid | reps | ind ms | casc ms | ind MACs/d (exec) | casc MACs/d (exec) "
              "| op savings | wall savings | wall/op | paper entries T² / r²+(T−r)·r_valid (savings) |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (int64_t d : o.dims)
    for (int64_t T : o.cascade_T) bench_cascade_shape(T, d, o);
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_args(argc, argv);
  if (o.threads > 0) at::set_num_threads(o.threads);
  print_header();
  if (o.only.empty() || o.only == "scan") bench_scan(o);
  if (o.only.empty() || o.only == "mem") bench_memory(o);
  if (o.only.empty() || o.only == "cascade") bench_cascade(o);
  return 0;
}
