#include "core/version.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <torch/version.h>

#include <chrono>
#include <fstream>
#include <sstream>

namespace cascade {

std::string version() { return CASCADE_VERSION; }

std::string torch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

std::string compiler() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("g++ ") + __VERSION__;
#else
  return "unknown";
#endif
}

namespace {

// The mapped file of the first library whose name contains `needle`, or "".
std::string mapped_library(const std::string& needle) {
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    const auto base = path.substr(path.rfind('/') + 1);
    if (base.find(needle) != std::string::npos) return path;
  }
  return "";
}

}  // namespace

void set_compute_threads(int threads) {
  at::set_num_threads(threads);
  using SetFn = void (*)(int);
  if (auto set = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(threads);
}

BlasInfo detect_blas() {
  BlasInfo info;
  info.threads = at::get_num_threads();
  at::Tensor a = at::randn({512, 512});
  at::mm(a, a);  // load and warm the BLAS
  const auto t0 = std::chrono::steady_clock::now();
  const int reps = 4;
  for (int i = 0; i < reps; ++i) at::mm(a, a);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  info.sgemm_gflops = reps * 2.0 * 512 * 512 * 512 / secs / 1e9;

  info.path = mapped_library("libblas.so");
  const std::string openblas = mapped_library("libopenblas");
  using ConfigFn = const char* (*)();
  auto config = reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
  if (config || !openblas.empty() || info.path.find("openblas") != std::string::npos) {
    info.name = config ? std::string("OpenBLAS (") + config() + ")" : "OpenBLAS";
    using ThreadsFn = int (*)();
    if (auto threads = reinterpret_cast<ThreadsFn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads")))
      info.name += ", " + std::to_string(threads()) + " threads";
    if (info.path.empty()) info.path = openblas;
  } else if (info.path.find("blis") != std::string::npos) {
    info.name = "BLIS";
  } else if (info.path.find("atlas") != std::string::npos) {
    info.name = "ATLAS";
  } else if (info.path.find("mkl") != std::string::npos || !mapped_library("libmkl").empty()) {
    info.name = "Intel MKL";
  } else if (!info.path.empty()) {
    info.name = "reference BLAS (netlib)";
    info.reference = true;
  } else {
    info.name = "unknown (no libblas mapped)";
  }
  return info;
}

}  // namespace cascade
