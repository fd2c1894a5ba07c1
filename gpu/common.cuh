#pragma once
// What every kernel source includes: the vendor runtime (CUDA, HIP, or the host emulation), the
// flavour namespace, the launch macro, the warp-size helper and the element conversions.
#include <cmath>
#include <cstring>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#if defined(CASCADE_GPU_HOST)
#include "gpu/vendors/host.h"
#elif defined(__HIP_PLATFORM_AMD__) || defined(__HIPCC__) || defined(CASCADE_GPU_HIP)
#include "gpu/vendors/hip.h"
#else
#include "gpu/vendors/cuda.h"
#endif

#include "gpu/kernels.h"

// Each build flavour (device, host emulation with warp 32, with warp 64) gets its own namespace so
// that the emulation can be linked beside the device kernels.
#if defined(CASCADE_GPU_HOST)
#if CASCADE_HOST_WARP_SIZE == 64
#define CASCADE_GPU_FLAVOUR host64
#else
#define CASCADE_GPU_FLAVOUR host32
#endif
#else
#define CASCADE_GPU_FLAVOUR device
#endif

#if defined(CASCADE_GPU_HOST)
#define CASCADE_LAUNCH(kernel, grid, block, stream, ...) \
  ::cascade::gpu::emu::launch((grid), (block), [&] { kernel(__VA_ARGS__); })
#else
#define CASCADE_LAUNCH(kernel, grid, block, stream, ...) kernel<<<(grid), (block), 0, (stream)>>>(__VA_ARGS__)
#endif

namespace cascade::gpu::CASCADE_GPU_FLAVOUR {

// The one place that knows the hardware's warp width: 32 on NVIDIA and RDNA, 64 on CDNA
// (MI200/MI300, the gfx9 family). Only the matrix-core path depends on it (how the 64×64 tile is
// split between the warps of a 128-thread block); everything else is written per thread.
__host__ __device__ constexpr int warp_size() {
#if defined(CASCADE_GPU_HOST)
  return CASCADE_HOST_WARP_SIZE;
#elif defined(__HIP_DEVICE_COMPILE__) && defined(__GFX9__)
  return 64;
#else
  return 32;
#endif
}

inline void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err));
}

// Element conversions from raw bits, identical on every compiler (round-trip exact).
__host__ __device__ __forceinline__ float bf16_bits_to_float(uint16_t bits) {
  const uint32_t u = static_cast<uint32_t>(bits) << 16;
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}
__host__ __device__ __forceinline__ float f16_bits_to_float(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  uint32_t exp = (bits >> 10) & 0x1fu, mant = bits & 0x3ffu, u;
  if (exp == 0x1f) {
    u = sign | 0x7f800000u | (mant << 13);  // inf / NaN
  } else if (exp != 0) {
    u = sign | ((exp + 112u) << 23) | (mant << 13);
  } else if (mant == 0) {
    u = sign;  // ±0
  } else {     // subnormal: normalise
    exp = 113;
    while (!(mant & 0x400u)) mant <<= 1, --exp;
    u = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
  }
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

template <DType D>
__host__ __device__ __forceinline__ float load_float(const void* base, int64_t index) {
  if constexpr (D == DType::F32) {
    return static_cast<const float*>(base)[index];
  } else if constexpr (D == DType::F16) {
    return f16_bits_to_float(static_cast<const uint16_t*>(base)[index]);
  } else {
    return bf16_bits_to_float(static_cast<const uint16_t*>(base)[index]);
  }
}

// The running maximum of a row: larger |cos| wins, the earlier token on ties, a NaN over any number
// (as the CPU path: a NaN cosine makes the token "redundant" and shows up in γ).
__host__ __device__ __forceinline__ bool beats(float v, int64_t pos, float best, int64_t best_pos) {
  if (v != v) return best == best || pos < best_pos;
  if (best != best) return false;
  return v > best || (v == best && best_pos >= 0 && pos < best_pos);
}

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
// Workspace carving: every sub-buffer starts on a 256-byte boundary.
inline size_t aligned(size_t bytes) { return (bytes + 255) / 256 * 256; }

}  // namespace cascade::gpu::CASCADE_GPU_FLAVOUR
