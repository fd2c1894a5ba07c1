#pragma once
// cascade_gpu: the fused selection kernels behind one plain C++ interface (no Torch, no vendor
// headers), so that core/ can dispatch to them and the kernels build with nvcc or hipcc alone.
//
// Every pointer below lives on the backend's device (host memory for the host emulation), which
// must be the current device. Launches go to the given stream (nullptr: the legacy default stream).
// Semantics are SPEC.md's, bit for bit where the arithmetic allows: |cos| = |x̂_t · x̂_s|, running
// maxima with the earlier token winning ties, γ = −∞ and π = −1 where no token qualifies.
#include <cstddef>
#include <cstdint>
#include <string>

namespace cascade::gpu {

enum class DType : int { F32 = 0, F16 = 1, BF16 = 2 };

// A [rows, d] row-major matrix of token activations (row stride ld elements, ld >= d).
// inv_norm: optional per-row 1/‖x_t‖ (0 for a zero row). With it the kernels take raw activations
// and fuse the row normalisation into the epilogue; without it the rows must already be X̂.
struct Matrix {
  const void* data = nullptr;
  DType dtype = DType::F32;
  int64_t rows = 0, d = 0, ld = 0;
  const float* inv_norm = nullptr;
};

// Algorithm 1 steps 2–4 on device (SPEC §3). inherited: R (sorted, r entries); others: R̄ (sorted,
// T − r entries). Outputs: valid[k] = 1 iff inherited[k] stays valid; within[k] = max |cos| with
// earlier members of R; cross[i] = max |cos| of others[i] with the valid reps and cross_arg[i]
// the rep attaining it (−∞ / −1 when nothing is valid). A token of R̄ is added iff cross < θ.
struct ValidateArgs {
  Matrix x;
  const int64_t* inherited = nullptr;
  int64_t r = 0;
  const int64_t* others = nullptr;
  int64_t n_others = 0;
  double theta = 0;
  uint8_t* valid = nullptr;
  float* within = nullptr;
  float* cross = nullptr;
  int64_t* cross_arg = nullptr;
};

struct Backend {
  const char* name;  // "cuda", "hip", "host-emulation-w32", "host-emulation-w64"
  bool (*available)();
  std::string (*device_name)();
  void (*synchronize)(void* stream);  // nullptr: the whole device (all streams)
  // Plain device memory for callers without an allocator of their own (the self-check, benchmarks);
  // core/ passes LibTorch tensors' storage instead.
  void* (*allocate)(size_t bytes);
  void (*release)(void* pointer);
  void (*copy_to_device)(void* dst, const void* src, size_t bytes);
  void (*copy_to_host)(void* dst, const void* src, size_t bytes);
  // Column splits per row tile: 0 picks from the device's multiprocessor count; tests force others.
  // Extra memory (workspace) is O(splits · rows) floats — never T × T.
  size_t (*prior_max_workspace)(const Matrix& x, int splits);
  // Prior-max scan (Definition 1): gamma[t] = max_{s<t} |cos(x_t, x_s)|, partner[t] its argmax.
  void (*prior_max_scan)(const Matrix& x, float* gamma, int64_t* partner, void* workspace, size_t workspace_bytes,
                         int splits, void* stream);
  // inv_norm[t] = 1/‖x_t‖, or 0 where ‖x_t‖ < 1e-12 (robust to overflow: rows are pre-scaled).
  void (*inverse_norms)(const Matrix& x, float* inv_norm, void* stream);
  size_t (*validate_workspace)(const ValidateArgs& args, int splits);
  void (*cascade_validate)(const ValidateArgs& args, void* workspace, size_t workspace_bytes, int splits, void* stream);
  // The current device's memory in bytes (0 for the host emulation): what a server reports.
  int64_t (*device_memory)();
};

// The CPU emulation of the same kernel source (tests and CASCADE_KERNELS=host-emulation); warp 32
// partitions the matrix-core tile as NVIDIA does, warp 64 as CDNA does.
const Backend& host_backend(int warp_size = 32);
// The device kernels, or nullptr when built with CASCADE_GPU=OFF.
const Backend* device_backend();

}  // namespace cascade::gpu
