#pragma once
// Which implementation runs a selection step on a tensor (SPEC §2–§3, same results either way):
// the fused kernels of gpu/ for tensors on a GPU when the build has them (CASCADE_GPU=CUDA|HIP),
// the LibTorch path otherwise. The environment variable CASCADE_KERNELS overrides the choice:
//   auto (default)       the device kernels for GPU tensors, LibTorch for CPU tensors
//   off                  LibTorch everywhere (the unfused path: normalise, GEMM, abs, masked max)
//   host-emulation[-w64] CPU tensors through the CPU emulation of the kernels (tests; slow)
#include <ATen/core/Tensor.h>

#include <optional>
#include <string>

#include "core/selection.h"

namespace cascade {
namespace gpu {
struct Backend;
}

// nullptr: use the LibTorch path. Throws UsageError on an unknown CASCADE_KERNELS value.
const gpu::Backend* kernel_backend_for(const at::Tensor& x);
// One line for --version and the engine console: what runs the selection on each device.
std::string kernels_summary();
// The GPU the device kernels see (their current device): name and memory; none when the build has
// no device kernels or no GPU is present (a server's GET /v1/info).
struct GpuDevice {
  std::string name;
  int64_t memory_bytes = 0;
};
std::optional<GpuDevice> gpu_device();

// The kernels on x's device (its storage handed to the backend as is; float32, float16 or bfloat16
// rows are read in place, other dtypes converted to float32). splits = 0: the launcher's choice.
PriorMax prior_max_scan_kernels(const gpu::Backend& backend, const at::Tensor& xhat, int splits = 0);
// The same scan on raw activations with the row normalisation fused (inverse norms, then the scan).
PriorMax prior_max_scan_raw_kernels(const gpu::Backend& backend, const at::Tensor& x, int splits = 0);
CascadeTrace cascade_step_kernels(const gpu::Backend& backend, const at::Tensor& xhat, const TokenSet& inherited,
                                  double theta, int splits = 0);

}  // namespace cascade
