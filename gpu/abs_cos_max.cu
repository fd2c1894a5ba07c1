// The tiled max-|cos| kernel (see abs_cos_max.cuh) and its launcher.
#include "gpu/abs_cos_max.cuh"

#include <algorithm>

#include "gpu/mma.cuh"

namespace cascade::gpu::CASCADE_GPU_FLAVOUR {
namespace {

__device__ __forceinline__ int64_t position(const int64_t* list, int64_t k) { return list ? list[k] : k; }

constexpr int kRowParts = kThreads / kBM;   // threads sharing one row in the epilogue
constexpr int kPartCols = kBN / kRowParts;  // the contiguous columns each of them scans

// Copies the k0 .. k0+kBK slice of the 64 rows at `pos` (−1: absent, zeros) into shared memory.
// kVec: 16-byte loads (the launcher checks alignment and that d is a multiple of a vector), so a
// 128-thread block fetches a 64 × 32 fp16 slice in 2 loads per thread instead of 16.
template <class Tile, DType D, bool kVec>
__device__ __forceinline__ void stage_rows(typename Tile::Elem* dst, const int64_t* pos, const Matrix& x, int64_t k0,
                                           int tid) {
  using Elem = typename Tile::Elem;
  if constexpr (kVec) {
    constexpr int kPerVec = 16 / static_cast<int>(sizeof(Elem));  // 8 halves or 4 floats
    constexpr int kVecsPerRow = kBK / kPerVec;
    static_assert(sizeof(Elem) == (D == DType::F32 ? 4 : 2), "vector staging copies the input's bits");
    for (int e = tid; e < kBM * kVecsPerRow; e += kThreads) {
      const int r = e / kVecsPerRow, k = (e % kVecsPerRow) * kPerVec;
      uint4 bits{0u, 0u, 0u, 0u};
      if (pos[r] >= 0 && k0 + k < x.d)
        bits = *reinterpret_cast<const uint4*>(static_cast<const Elem*>(x.data) + pos[r] * x.ld + k0 + k);
      memcpy(dst + r * Tile::kLds + k, &bits, sizeof bits);
    }
  } else {
    for (int e = tid; e < kBM * kBK; e += kThreads) {
      const int r = e / kBK, k = e % kBK;
      dst[r * Tile::kLds + k] = pos[r] >= 0 && k0 + k < x.d ? Tile::template convert<D>(x.data, pos[r] * x.ld + k0 + k)
                                                            : Elem(0);
    }
  }
}

// One block: kBM rows (row tiles in reverse order, so that the long causal rows start first)
// against every gridDim.y-th column tile. Writes the block's running maxima to out[blockIdx.y].
template <class Tile, DType D, bool kVec>
__global__ void __launch_bounds__(kThreads) abs_cos_max_kernel(const AbsCosMaxProblem p, float* out_best,
                                                               int64_t* out_arg) {
  using Elem = typename Tile::Elem;
  __shared__ __align__(128) Elem a_s[kBM * Tile::kLds];
  __shared__ __align__(128) Elem b_s[kBN * Tile::kLds];
  __shared__ __align__(128) float c_s[kBM * kLdc];
  __shared__ int64_t row_pos_s[kBM], col_pos_s[kBN];
  __shared__ float row_scale_s[kBM], col_scale_s[kBN];
  __shared__ float part_best_s[kThreads];
  __shared__ int64_t part_arg_s[kThreads];

  const Matrix& x = p.x;
  const int tid = static_cast<int>(threadIdx.x);
  const int64_t i0 = (static_cast<int64_t>(gridDim.x) - 1 - blockIdx.x) * kBM;
  const int64_t n_cols = p.n_cols_device ? *p.n_cols_device : p.n_cols;
  if (tid < kBM) {
    const int64_t i = i0 + tid;
    const int64_t pos = i < p.n_rows ? position(p.row_pos, i) : -1;
    row_pos_s[tid] = pos;
    row_scale_s[tid] = pos >= 0 && x.inv_norm ? x.inv_norm[pos] : 1.f;
  }
  __syncthreads();
  const int64_t rows_here = p.n_rows - i0 < kBM ? p.n_rows - i0 : kBM;
  const int64_t last_row_pos = row_pos_s[rows_here - 1];
  const int red_row = tid % kBM, red_part = tid / kBM;
  float best = kNegInf;
  int64_t best_pos = -1;
  typename Tile::Acc acc;

  for (int64_t ct = blockIdx.y;; ct += gridDim.y) {
    const int64_t j0 = ct * kBN;
    if (j0 >= n_cols) break;
    if (p.causal && position(p.col_pos, j0) >= last_row_pos) break;  // columns ascend
    __syncthreads();  // the previous tile's epilogue is done with col_pos_s and c_s
    if (tid < kBN) {
      const int64_t j = j0 + tid;
      const int64_t pos = j < n_cols ? position(p.col_pos, j) : -1;
      col_pos_s[tid] = pos;
      col_scale_s[tid] = pos >= 0 && x.inv_norm ? x.inv_norm[pos] : 1.f;
    }
    Tile::zero(acc);
    for (int64_t k0 = 0; k0 < x.d; k0 += kBK) {
      __syncthreads();  // positions are written; the previous chunk has been consumed
      stage_rows<Tile, D, kVec>(a_s, row_pos_s, x, k0, tid);
      stage_rows<Tile, D, kVec>(b_s, col_pos_s, x, k0, tid);
      __syncthreads();
      Tile::mma(acc, a_s, b_s);
    }
    Tile::store(acc, c_s);
    __syncthreads();
    const int64_t row_pos = row_pos_s[red_row];
    if (row_pos >= 0) {
      const float row_scale = row_scale_s[red_row];
      for (int c = red_part * kPartCols; c < (red_part + 1) * kPartCols; ++c) {
        const int64_t col = col_pos_s[c];
        if (col < 0 || (p.causal && col >= row_pos)) break;  // ascending: nothing later qualifies
        const float v = fabsf(c_s[red_row * kLdc + c]) * row_scale * col_scale_s[c];
        if (beats(v, col, best, best_pos)) best = v, best_pos = col;
      }
    }
  }

  part_best_s[tid] = best;
  part_arg_s[tid] = best_pos;
  __syncthreads();
  if (tid < kBM && i0 + tid < p.n_rows) {
    float b = part_best_s[tid];
    int64_t a = part_arg_s[tid];
    for (int part = 1; part < kRowParts; ++part)
      if (beats(part_best_s[tid + part * kBM], part_arg_s[tid + part * kBM], b, a))
        b = part_best_s[tid + part * kBM], a = part_arg_s[tid + part * kBM];
    out_best[blockIdx.y * p.n_rows + i0 + tid] = b;
    out_arg[blockIdx.y * p.n_rows + i0 + tid] = a;
  }
}

// Combines the per-split maxima in split order (deterministic; ties go to the earlier token).
__global__ void __launch_bounds__(256) combine_splits_kernel(const float* part_best, const int64_t* part_arg,
                                                             int splits, int64_t n_rows, float* best, int64_t* arg) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n_rows) return;
  float b = part_best[i];
  int64_t a = part_arg[i];
  for (int s = 1; s < splits; ++s)
    if (beats(part_best[s * n_rows + i], part_arg[s * n_rows + i], b, a))
      b = part_best[s * n_rows + i], a = part_arg[s * n_rows + i];
  best[i] = b;
  arg[i] = a;
}

int multiprocessors() {
#if defined(CASCADE_GPU_HOST)
  return 4;  // small, so that the tests exercise several column splits
#else
  int device = 0, count = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device), "cudaDeviceGetAttribute");
  return std::max(count, 1);
#endif
}

// bf16 on the matrix cores needs sm_80 on NVIDIA. What counts is the PTX the kernel was built
// from, not the card: sm_7x PTX JIT-compiled on an H100 has no bf16 WMMA (MmaTile traps there).
bool bf16_matrix_cores() {
#if defined(CASCADE_GPU_HOST) || defined(__HIP_PLATFORM_AMD__)
  return true;
#else
  cudaFuncAttributes attributes{};
  check(cudaFuncGetAttributes(&attributes, abs_cos_max_kernel<MmaTile<DType::BF16>, DType::BF16, false>),
        "cudaFuncGetAttributes");
  return attributes.ptxVersion >= 80;
#endif
}

// 16-byte staging when every row slice is a whole number of aligned vectors and the tile keeps
// the input's bits (fp32 rows into SimtTile, fp16/bf16 rows into MmaTile).
bool vector_staging(const Matrix& x) {
  const int64_t elem = x.dtype == DType::F32 ? 4 : 2;
  return reinterpret_cast<uintptr_t>(x.data) % 16 == 0 && (x.ld * elem) % 16 == 0 && (x.d * elem) % 16 == 0;
}

template <class Tile, DType D>
void launch_tile(const AbsCosMaxProblem& p, dim3 grid, float* best, int64_t* arg, cudaStream_t stream) {
  constexpr bool kKeepsBits = sizeof(typename Tile::Elem) == (D == DType::F32 ? 4 : 2);
  if (kKeepsBits && vector_staging(p.x)) {
    auto* kernel = &abs_cos_max_kernel<Tile, D, kKeepsBits>;
    CASCADE_LAUNCH(kernel, grid, dim3(kThreads), stream, p, best, arg);
  } else {
    auto* kernel = &abs_cos_max_kernel<Tile, D, false>;
    CASCADE_LAUNCH(kernel, grid, dim3(kThreads), stream, p, best, arg);
  }
}

}  // namespace

int abs_cos_max_splits(const AbsCosMaxProblem& p, int requested) {
  const int64_t col_tiles = std::max<int64_t>(1, ceil_div(p.n_cols, kBN));
  const int64_t cap = std::min<int64_t>(col_tiles, 65535);
  if (requested > 0) return static_cast<int>(std::min<int64_t>(requested, cap));
  const int64_t row_tiles = std::max<int64_t>(1, ceil_div(p.n_rows, kBM));
  return static_cast<int>(std::clamp<int64_t>(ceil_div(2 * multiprocessors(), row_tiles), 1, cap));
}

size_t abs_cos_max_workspace(const AbsCosMaxProblem& p, int splits) {
  if (splits <= 1) return 0;
  const auto n = static_cast<size_t>(splits) * static_cast<size_t>(p.n_rows);
  return aligned(n * sizeof(float)) + aligned(n * sizeof(int64_t));
}

void launch_abs_cos_max(const AbsCosMaxProblem& p, void* workspace, size_t workspace_bytes, int splits,
                        cudaStream_t stream) {
  if (p.n_rows <= 0) return;
  if (p.x.d < 1 || p.x.ld < p.x.d) throw std::invalid_argument("abs_cos_max: need 1 <= d <= ld");
  splits = std::max(splits, 1);
  if (workspace_bytes < abs_cos_max_workspace(p, splits))
    throw std::invalid_argument("abs_cos_max: workspace too small for " + std::to_string(splits) + " splits");
  const int64_t row_tiles = ceil_div(p.n_rows, kBM);
  if (row_tiles > 0x7fffffff) throw std::invalid_argument("abs_cos_max: too many rows");
  const dim3 grid(static_cast<unsigned>(row_tiles), static_cast<unsigned>(splits));
  float* best = p.best;
  int64_t* arg = p.arg;
  if (splits > 1) {
    const auto n = static_cast<size_t>(splits) * static_cast<size_t>(p.n_rows);
    best = static_cast<float*>(workspace);
    arg = reinterpret_cast<int64_t*>(static_cast<char*>(workspace) + aligned(n * sizeof(float)));
  }
  switch (p.x.dtype) {
    case DType::F32:
      launch_tile<SimtTile, DType::F32>(p, grid, best, arg, stream);
      break;
    case DType::F16:
      launch_tile<MmaTile<DType::F16>, DType::F16>(p, grid, best, arg, stream);
      break;
    case DType::BF16:
      if (bf16_matrix_cores())
        launch_tile<MmaTile<DType::BF16>, DType::BF16>(p, grid, best, arg, stream);
      else
        launch_tile<SimtTile, DType::BF16>(p, grid, best, arg, stream);
      break;
  }
  check(cudaGetLastError(), "abs_cos_max kernel launch");
  if (splits > 1) {
    auto* kernel = &combine_splits_kernel;
    CASCADE_LAUNCH(kernel, dim3(static_cast<unsigned>(ceil_div(p.n_rows, 256))), dim3(256), stream, best, arg, splits,
                   p.n_rows, p.best, p.arg);
    check(cudaGetLastError(), "combine_splits kernel launch");
  }
}

}  // namespace cascade::gpu::CASCADE_GPU_FLAVOUR
