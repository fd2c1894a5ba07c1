#pragma once
// The 64 × 64 block tile of X̂_rows · X̂_colsᵀ, accumulated over k in chunks of kBK staged in shared
// memory, computed by the 128 threads of a block in one of two ways:
//   SimtTile  — float operands, each thread a 4 × 8 register block (fp32 inputs; exact fp32 FMA);
//   MmaTile   — 16-bit operands (fp16/bf16 bits) on the matrix cores: WMMA on NVIDIA (sm_70+,
//               bf16 sm_80+), MFMA 16×16×16 on CDNA (gfx90a/gfx94x, wavefront 64), an emulated
//               fragment with the same per-warp partition elsewhere (host emulation, older GPUs).
// Both accumulate in fp32 and hand the finished tile to the epilogue through shared memory
// (c_s, row stride kLdc), so the row-max epilogue is independent of the fragment layout.
#include <type_traits>

#include "gpu/common.cuh"

#if !defined(CASCADE_GPU_HOST) && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 700
#define CASCADE_MMA_WMMA 1
#elif !defined(CASCADE_GPU_HOST) && defined(__HIP_DEVICE_COMPILE__) && \
    (defined(__gfx90a__) || defined(__gfx940__) || defined(__gfx941__) || defined(__gfx942__) || defined(__gfx950__))
#define CASCADE_MMA_MFMA 1
#endif

namespace cascade::gpu::CASCADE_GPU_FLAVOUR {

constexpr int kBM = 64, kBN = 64, kBK = 32, kThreads = 128;
constexpr int kLdc = kBN + 4;  // float row stride of the C tile (multiple of 4 for WMMA stores)

struct SimtTile {
  using Elem = float;
  static constexpr int kLds = kBK + 1;
  struct Acc {
    float v[4][8];
  };
  template <DType D>
  __device__ __forceinline__ static Elem convert(const void* x, int64_t index) { return load_float<D>(x, index); }
  __device__ __forceinline__ static void zero(Acc& acc) {
    for (int q = 0; q < 4; ++q)
      for (int p = 0; p < 8; ++p) acc.v[q][p] = 0.f;
  }
  __device__ __forceinline__ static void mma(Acc& acc, const Elem* a_s, const Elem* b_s) {
    const int tid = threadIdx.x, r0 = (tid % 16) * 4, c0 = (tid / 16) * 8;
    for (int k = 0; k < kBK; ++k) {
      float a[4], b[8];
      for (int q = 0; q < 4; ++q) a[q] = a_s[(r0 + q) * kLds + k];
      for (int p = 0; p < 8; ++p) b[p] = b_s[(c0 + p) * kLds + k];
      for (int q = 0; q < 4; ++q)
        for (int p = 0; p < 8; ++p) acc.v[q][p] = fmaf(a[q], b[p], acc.v[q][p]);
    }
  }
  __device__ __forceinline__ static void store(const Acc& acc, float* c_s) {
    const int tid = threadIdx.x, r0 = (tid % 16) * 4, c0 = (tid / 16) * 8;
    for (int q = 0; q < 4; ++q)
      for (int p = 0; p < 8; ++p) c_s[(r0 + q) * kLdc + c0 + p] = acc.v[q][p];
  }
};

template <DType D>
struct MmaTile {
  static_assert(D == DType::F16 || D == DType::BF16, "matrix cores take 16-bit operands");
  using Elem = uint16_t;                   // the input's own bits: staging copies, never converts
  static constexpr int kLds = kBK + 8;     // 80-byte rows: 16-byte multiples for WMMA/MFMA loads
  static constexpr int kWarps = kThreads / warp_size();        // 4 warps (NVIDIA) or 2 wavefronts (CDNA)
  static constexpr int kFragRows = 2;                          // each warp: 32 rows ...
  static constexpr int kFragCols = (kBN / 16) / (kWarps / 2);  // ... by 32 (4 warps) or 64 (2 waves) columns
  static_assert(kWarps == 2 || kWarps == 4, "a 128-thread block has 2 or 4 warps");

  __device__ __forceinline__ static int warp() { return static_cast<int>(threadIdx.x) / warp_size(); }
  __device__ __forceinline__ static int lane() { return static_cast<int>(threadIdx.x) % warp_size(); }
  __device__ __forceinline__ static int row0() { return (warp() % 2) * 16 * kFragRows; }
  __device__ __forceinline__ static int col0() { return (warp() / 2) * 16 * kFragCols; }

  template <DType>
  __device__ __forceinline__ static Elem convert(const void* x, int64_t index) {
    return static_cast<const uint16_t*>(x)[index];
  }

#if defined(CASCADE_MMA_WMMA)
  using Operand = std::conditional_t<D == DType::F16, __half, __nv_bfloat16>;
  struct Acc {
    nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 16, float> f[kFragRows][kFragCols];
  };
  __device__ __forceinline__ static void zero(Acc& acc) {
    for (int i = 0; i < kFragRows; ++i)
      for (int j = 0; j < kFragCols; ++j) nvcuda::wmma::fill_fragment(acc.f[i][j], 0.f);
  }
  __device__ __forceinline__ static void mma(Acc& acc, const Elem* a_s, const Elem* b_s) {
#if __CUDA_ARCH__ < 800
    if constexpr (D == DType::BF16) {
      __trap();  // never launched: bf16_matrix_cores() sees this kernel's PTX is below sm_80
    } else
#endif
    {
      using namespace nvcuda;
      const Operand* a = reinterpret_cast<const Operand*>(a_s);
      const Operand* b = reinterpret_cast<const Operand*>(b_s);
      for (int kk = 0; kk < kBK; kk += 16) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, Operand, wmma::row_major> fa[kFragRows];
        wmma::fragment<wmma::matrix_b, 16, 16, 16, Operand, wmma::col_major> fb[kFragCols];
        for (int i = 0; i < kFragRows; ++i) wmma::load_matrix_sync(fa[i], a + (row0() + 16 * i) * kLds + kk, kLds);
        for (int j = 0; j < kFragCols; ++j) wmma::load_matrix_sync(fb[j], b + (col0() + 16 * j) * kLds + kk, kLds);
        for (int i = 0; i < kFragRows; ++i)
          for (int j = 0; j < kFragCols; ++j) wmma::mma_sync(acc.f[i][j], fa[i], fb[j], acc.f[i][j]);
      }
    }
  }
  __device__ __forceinline__ static void store(const Acc& acc, float* c_s) {
    for (int i = 0; i < kFragRows; ++i)
      for (int j = 0; j < kFragCols; ++j)
        nvcuda::wmma::store_matrix_sync(c_s + (row0() + 16 * i) * kLdc + col0() + 16 * j, acc.f[i][j], kLdc,
                                        nvcuda::wmma::mem_row_major);
  }
#elif defined(CASCADE_MMA_MFMA)
  // v_mfma_f32_16x16x16{f16,bf16_1k}, wavefront 64: lane l holds A[l%16][4(l/16) .. +3],
  // B[4(l/16) .. +3][l%16] and D[4(l/16) .. +3][l%16].
  typedef float Float4 __attribute__((ext_vector_type(4)));
  typedef _Float16 Half4 __attribute__((ext_vector_type(4)));
  typedef short Short4 __attribute__((ext_vector_type(4)));
  struct Acc {
    Float4 f[kFragRows][kFragCols];
  };
  __device__ __forceinline__ static void zero(Acc& acc) {
    for (int i = 0; i < kFragRows; ++i)
      for (int j = 0; j < kFragCols; ++j) acc.f[i][j] = Float4{0.f, 0.f, 0.f, 0.f};
  }
  __device__ __forceinline__ static void mma(Acc& acc, const Elem* a_s, const Elem* b_s) {
    const int l = lane(), sub = l % 16, k4 = (l / 16) * 4;
    for (int kk = 0; kk < kBK; kk += 16) {
      Short4 a[kFragRows], b[kFragCols];
      for (int i = 0; i < kFragRows; ++i)
        a[i] = *reinterpret_cast<const Short4*>(a_s + (row0() + 16 * i + sub) * kLds + kk + k4);
      for (int j = 0; j < kFragCols; ++j)
        b[j] = *reinterpret_cast<const Short4*>(b_s + (col0() + 16 * j + sub) * kLds + kk + k4);
      for (int i = 0; i < kFragRows; ++i)
        for (int j = 0; j < kFragCols; ++j) {
          if constexpr (D == DType::F16)
            acc.f[i][j] = __builtin_amdgcn_mfma_f32_16x16x16f16(__builtin_bit_cast(Half4, a[i]),
                                                                __builtin_bit_cast(Half4, b[j]), acc.f[i][j], 0, 0, 0);
          else
            acc.f[i][j] = __builtin_amdgcn_mfma_f32_16x16x16bf16_1k(a[i], b[j], acc.f[i][j], 0, 0, 0);
        }
    }
  }
  __device__ __forceinline__ static void store(const Acc& acc, float* c_s) {
    const int l = lane();
    for (int i = 0; i < kFragRows; ++i)
      for (int j = 0; j < kFragCols; ++j)
        for (int e = 0; e < 4; ++e)
          c_s[(row0() + 16 * i + (l / 16) * 4 + e) * kLdc + col0() + 16 * j + l % 16] = acc.f[i][j][e];
  }
#else
  // Emulated fragment: the warp owns the same sub-tile as on the matrix cores; lane l computes the
  // elements l, l + W, l + 2W, ... of each 16 × 16 fragment in fp32 from the 16-bit operands.
  static constexpr int kPerLane = 256 / warp_size();
  struct Acc {
    float v[kFragRows][kFragCols][kPerLane];
  };
  __device__ __forceinline__ static void zero(Acc& acc) {
    for (int i = 0; i < kFragRows; ++i)
      for (int j = 0; j < kFragCols; ++j)
        for (int e = 0; e < kPerLane; ++e) acc.v[i][j][e] = 0.f;
  }
  __device__ __forceinline__ static void mma(Acc& acc, const Elem* a_s, const Elem* b_s) {
    for (int i = 0; i < kFragRows; ++i)
      for (int j = 0; j < kFragCols; ++j)
        for (int e = 0; e < kPerLane; ++e) {
          const int element = lane() + warp_size() * e, r = element / 16, c = element % 16;
          const Elem* a = a_s + (row0() + 16 * i + r) * kLds;
          const Elem* b = b_s + (col0() + 16 * j + c) * kLds;
          float sum = acc.v[i][j][e];
          for (int k = 0; k < kBK; ++k) sum = fmaf(load_float<D>(a, k), load_float<D>(b, k), sum);
          acc.v[i][j][e] = sum;
        }
  }
  __device__ __forceinline__ static void store(const Acc& acc, float* c_s) {
    for (int i = 0; i < kFragRows; ++i)
      for (int j = 0; j < kFragCols; ++j)
        for (int e = 0; e < kPerLane; ++e) {
          const int element = lane() + warp_size() * e, r = element / 16, c = element % 16;
          c_s[(row0() + 16 * i + r) * kLdc + col0() + 16 * j + c] = acc.v[i][j][e];
        }
  }
#endif
};

}  // namespace cascade::gpu::CASCADE_GPU_FLAVOUR
