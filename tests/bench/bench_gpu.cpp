// bench_gpu: the fused prior-max scan on a GPU vs the unfused LibTorch path and vs a dense GEMM of
// the same shape, all on one device in one run (run by hand; never by CTest).
//
//   bench_gpu [--T 2048,8192,32768] [--d 768,4096] [--dtype f16|bf16|f32] [--reps 5] [--tile 1024]
//
// fused    gpu::Backend::prior_max_scan on X̂ (the kernel the engine dispatches to)
// unfused  the LibTorch path the engine used on GPU tensors before the kernels: per row tile,
//          G = X̂_tile X̂_{0..i1}ᵀ (cuBLAS, same dtype), |G|, mask s ≥ t, max/argmax over s
// gemm     at::mm(X̂, X̂ᵀ): the full T × T product, the device's rate for this shape and dtype
// The scan does half the GEMM's multiply-adds (s < t only); "% of GEMM rate" compares useful
// FLOP/s: (T² d) / t_fused against (2 T² d) / t_gemm. Targets (issue 7): fused ≥ 2× faster than
// unfused at T ≥ 4096, and ≥ 70 % of the GEMM rate.
// Needs a LibTorch with GPU support and a build with CASCADE_GPU=CUDA|HIP; exits 77 otherwise.
#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "gpu/kernels.h"

namespace {

using Clock = std::chrono::steady_clock;

std::vector<int64_t> parse_list(const std::string& s) {
  std::vector<int64_t> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoll(item));
  return out;
}

// Median wall time of `body` over reps runs (after one warm-up), the device synchronised around each.
double median_ms(const cascade::gpu::Backend& backend, int reps, const std::function<void()>& body) {
  body();
  backend.synchronize(nullptr);
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    const auto start = Clock::now();
    body();
    backend.synchronize(nullptr);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

// The unfused LibTorch path: one [tile, i1] block of G at a time, |G|, causal mask, max/argmax.
void unfused_scan(const at::Tensor& x, int64_t tile, at::Tensor& gamma, at::Tensor& partner) {
  const int64_t T = x.size(0);
  const at::Tensor not_prior = at::ones({tile, tile}, x.options().dtype(at::kBool)).triu();
  for (int64_t i0 = 0; i0 < T; i0 += tile) {
    const int64_t i1 = std::min(T, i0 + tile), b = i1 - i0;
    at::Tensor g = at::mm(x.narrow(0, i0, b), x.narrow(0, 0, i1).t()).abs_();
    g.narrow(1, i0, b).masked_fill_(not_prior.narrow(0, 0, b).narrow(1, 0, b), -std::numeric_limits<float>::infinity());
    auto [mx, arg] = g.max(1);
    gamma.narrow(0, i0, b).copy_(mx);
    partner.narrow(0, i0, b).copy_(arg);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cascade;
  std::vector<int64_t> Ts{2048, 8192, 32768}, ds{768, 4096};
  std::string dtype_name = "f16";
  int reps = 5;
  int64_t tile = 1024;
  const char* usage =
      "usage: bench_gpu [--T 2048,8192,32768] [--d 768,4096] [--dtype f16|bf16|f32] [--reps 5] [--tile 1024]\n";
  for (int i = 1; i < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("%s", usage);
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n%s", a.c_str(), usage);
      return 2;
    }
    const std::string v = argv[i + 1];
    if (a == "--T") Ts = parse_list(v);
    else if (a == "--d") ds = parse_list(v);
    else if (a == "--dtype") dtype_name = v;
    else if (a == "--reps") reps = std::max(1, std::atoi(v.c_str()));
    else if (a == "--tile") tile = std::max<int64_t>(1, std::atoll(v.c_str()));
    else {
      std::fprintf(stderr, "unknown option %s\n%s", a.c_str(), usage);
      return 2;
    }
  }
  if (dtype_name != "f16" && dtype_name != "bf16" && dtype_name != "f32") {
    std::fprintf(stderr, "--dtype must be f16, bf16 or f32 (got %s)\n", dtype_name.c_str());
    return 2;
  }
  const gpu::Backend* backend = gpu::device_backend();
  if (!backend || !backend->available() || !at::hasCUDA()) {
    std::printf("SKIP: needs GPU kernels (CASCADE_GPU=CUDA|HIP), a GPU and a LibTorch with GPU support "
                "(kernels: %s, LibTorch GPU: %s)\n",
                backend ? (backend->available() ? "present" : "built, no device") : "not built", at::hasCUDA() ? "yes" : "no");
    return 77;
  }
  const auto dtype = dtype_name == "bf16" ? at::kBFloat16 : dtype_name == "f32" ? at::kFloat : at::kHalf;
  const gpu::DType kdtype = dtype == at::kBFloat16 ? gpu::DType::BF16 : dtype == at::kFloat ? gpu::DType::F32 : gpu::DType::F16;
  std::printf("device %s (%s kernels), dtype %s, median of %d, unfused tile %lld\n\n", backend->device_name().c_str(),
              backend->name, dtype_name.c_str(), reps, static_cast<long long>(tile));
  std::printf("| d | T | fused ms | unfused ms | GEMM ms | fused vs unfused | fused useful TFLOP/s | GEMM TFLOP/s | %% of GEMM rate |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  for (int64_t d : ds)
    for (int64_t T : Ts) {
      const auto opts = at::TensorOptions().device(at::kCUDA);
      at::Tensor x = at::randn({T, d}, opts);
      x = (x / x.norm(2, {1}, true)).to(dtype).contiguous();
      at::Tensor gamma = at::empty({T}, opts.dtype(at::kFloat)), partner = at::empty({T}, opts.dtype(at::kLong));
      gpu::Matrix m;
      m.data = x.data_ptr();
      m.dtype = kdtype;
      m.rows = T;
      m.d = m.ld = d;
      const size_t bytes = backend->prior_max_workspace(m, 0);
      at::Tensor ws = at::empty({static_cast<int64_t>(std::max<size_t>(bytes, 1))}, opts.dtype(at::kByte));
      const double fused = median_ms(*backend, reps, [&] {
        backend->prior_max_scan(m, gamma.data_ptr<float>(), partner.data_ptr<int64_t>(), ws.data_ptr(), bytes, 0, nullptr);
      });
      at::Tensor g2 = at::empty({T}, opts.dtype(dtype)), p2 = at::empty({T}, opts.dtype(at::kLong));
      const double unfused = median_ms(*backend, reps, [&] { unfused_scan(x, tile, g2, p2); });
      // The two agree (fp16 rounding of the unfused path's G aside):
      const double diff = (g2.narrow(0, 1, T - 1).to(at::kFloat) - gamma.narrow(0, 1, T - 1)).abs().max().item<double>();
      double gemm = std::numeric_limits<double>::quiet_NaN();
      try {
        gemm = median_ms(*backend, reps, [&] { (void)at::mm(x, x.t()); });
      } catch (const std::exception&) {  // T × T may not fit
      }
      const double useful = static_cast<double>(T) * T * d / (fused * 1e-3) / 1e12;
      const double gemm_rate = 2.0 * T * T * d / (gemm * 1e-3) / 1e12;
      std::printf("| %lld | %lld | %.3f | %.3f | %.3f | %.2f× | %.1f | %.1f | %.0f %% |  (max |Δγ| %.1e)\n",
                  static_cast<long long>(d), static_cast<long long>(T), fused, unfused, gemm, unfused / fused, useful,
                  gemm_rate, 100.0 * useful / gemm_rate, diff);
      std::fflush(stdout);
    }
  return 0;
}
