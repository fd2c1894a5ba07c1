#pragma once
// Host emulation of the small CUDA subset the kernels use, so that the *same kernel source* runs
// on a CPU in CI (no GPU there) and is tested against the CPU reference: a launch runs the grid's
// blocks one after another, each with blockDim.x real threads; __shared__ arrays become function
// statics (one block at a time uses them); __syncthreads is a std::barrier. It checks the tiling,
// masking, index lists, splits and reductions — not the hardware matrix instructions (mma.cuh has
// an emulated fragment with the same per-warp partition instead) and not speed.
#include <barrier>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct alignas(16) uint4 {
  unsigned x, y, z, w;
};
using cudaStream_t = void*;
using cudaError_t = int;
inline constexpr cudaError_t cudaSuccess = 0;
inline cudaError_t cudaGetLastError() { return cudaSuccess; }
inline const char* cudaGetErrorString(cudaError_t) { return "no error"; }
inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
inline cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }

namespace cascade::gpu::emu {

struct ThreadState {
  dim3 thread, block, block_dim, grid_dim;
  std::barrier<>* block_barrier = nullptr;
};
inline thread_local ThreadState state;

// Launches run one at a time: the kernels' __shared__ statics belong to the one block running.
inline std::mutex& launch_mutex() {
  static std::mutex mutex;
  return mutex;
}

template <class Body>
void launch(dim3 grid, dim3 block, Body&& body) {
  std::lock_guard<std::mutex> lock(launch_mutex());
  const unsigned n = block.x;  // the kernels use 1-D blocks
  std::barrier<> block_barrier(n);
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (unsigned t = 0; t < n; ++t)
    threads.emplace_back([&, t] {
      state.thread = dim3(t);
      state.block_dim = block;
      state.grid_dim = grid;
      state.block_barrier = &block_barrier;
      for (unsigned bz = 0; bz < grid.z; ++bz)
        for (unsigned by = 0; by < grid.y; ++by)
          for (unsigned bx = 0; bx < grid.x; ++bx) {
            state.block = dim3(bx, by, bz);
            body();
            block_barrier.arrive_and_wait();  // the next block reuses the shared statics
          }
    });
  for (auto& thread : threads) thread.join();
}

inline void syncthreads() { state.block_barrier->arrive_and_wait(); }

}  // namespace cascade::gpu::emu

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(n)
#define __shared__ static
#define threadIdx (::cascade::gpu::emu::state.thread)
#define blockIdx (::cascade::gpu::emu::state.block)
#define blockDim (::cascade::gpu::emu::state.block_dim)
#define gridDim (::cascade::gpu::emu::state.grid_dim)
#define __syncthreads() ::cascade::gpu::emu::syncthreads()
