// cascade_gpu_check: the device kernels against brute force on a GPU machine, from the standalone
// gpu/ build (no Torch, no GoogleTest). Exit 0: every case matches; 1: a mismatch; 77: no GPU.
#include <cstdio>
#include <cstring>

#include "tests/gpu/kernel_checks.h"

int main(int argc, char** argv) {
  using namespace cascade;
  bool host = false, quick = false;  // --host: the CPU emulation instead, for comparison
  for (int i = 1; i < argc; ++i) {
    host = host || std::strcmp(argv[i], "--host") == 0;
    quick = quick || std::strcmp(argv[i], "--quick") == 0;
  }
  const gpu::Backend* backend = host ? &gpu::host_backend(32) : gpu::device_backend();
  if (!backend || !backend->available()) {
    std::printf("SKIP: no GPU device present (backend %s)\n", backend ? backend->name : "none built");
    return 77;
  }
  std::printf("backend %s on %s\n", backend->name, backend->device_name().c_str());
  gpu_checks::Result all;
  uint64_t seed = 1;
  for (const auto& c : gpu_checks::standard_cases(quick)) {
    gpu_checks::Result r = gpu_checks::check_prior_max(*backend, c, seed++);
    r.merge(gpu_checks::check_cascade_validate(*backend, c, 0.91, seed++));
    std::printf("%-40s %s  max|err| %.2e\n", c.name().c_str(), r.ok() ? "ok" : "FAIL", r.max_error);
    for (const auto& f : r.failures) std::printf("    %s\n", f.c_str());
    all.merge(r);
  }
  std::printf("%d values compared, max |error| %.2e: %s\n", all.checked, all.max_error, all.ok() ? "PASS" : "FAIL");
  return all.ok() ? 0 : 1;
}
