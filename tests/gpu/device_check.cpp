// cascade_gpu_check: the device kernels against brute force on a GPU machine, from the standalone
// gpu/ build (no Torch, no GoogleTest). Exit 0: every case matches; 1: a mismatch; 77: no GPU.
#include <cstdio>
#include <cstring>
#include <string>

#include "tests/gpu/kernel_checks.h"

int main(int argc, char** argv) {
  using namespace cascade;
  bool host = false, quick = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--host") == 0) {
      host = true;
    } else if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else {
      const bool help = std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0;
      std::fprintf(help ? stdout : stderr,
                   "%susage: cascade_gpu_check [--quick] [--host]\n"
                   "  the device kernels against brute force (prior-max scan, cascade validate, row norms)\n"
                   "  --quick  fewer sizes      --host  the CPU emulation of the kernels instead of the GPU\n"
                   "  exit 0: every case matches; 1: a mismatch; 77: no GPU present (skipped)\n",
                   help ? "" : ("unknown option " + std::string(argv[i]) + "\n").c_str());
      return help ? 0 : 2;
    }
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
    const gpu_checks::Result r = gpu_checks::check_case(*backend, c, /*theta=*/0.91, seed);
    seed += 2;
    std::printf("%-40s %s  max|err| %.2e\n", c.name().c_str(), r.ok() ? "ok" : "FAIL", r.max_error);
    for (const auto& f : r.failures) std::printf("    %s\n", f.c_str());
    all.merge(r);
  }
  std::printf("%d values compared, max |error| %.2e: %s\n", all.checked, all.max_error, all.ok() ? "PASS" : "FAIL");
  return all.ok() ? 0 : 1;
}
