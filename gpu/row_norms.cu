// One block per row: max |x|, then the scaled sum of squares, each a shared-memory tree reduction.
#include "gpu/row_norms.cuh"

namespace cascade::gpu::CASCADE_GPU_FLAVOUR {
namespace {

constexpr int kNormThreads = 128;

template <DType D>
__global__ void __launch_bounds__(kNormThreads) inverse_norms_kernel(const Matrix x, float* inv_norm) {
  __shared__ float partial[kNormThreads];
  const int tid = static_cast<int>(threadIdx.x);
  const int64_t row = blockIdx.x;
  const int64_t base = row * x.ld;
  float maxabs = 0.f;
  for (int64_t k = tid; k < x.d; k += kNormThreads) maxabs = fmaxf(maxabs, fabsf(load_float<D>(x.data, base + k)));
  partial[tid] = maxabs;
  __syncthreads();
  for (int half = kNormThreads / 2; half > 0; half /= 2) {
    if (tid < half) partial[tid] = fmaxf(partial[tid], partial[tid + half]);
    __syncthreads();
  }
  maxabs = partial[0];
  __syncthreads();
  const float scale = maxabs > 0.f ? 1.f / maxabs : 1.f;
  float sum = 0.f;
  for (int64_t k = tid; k < x.d; k += kNormThreads) {
    const float v = load_float<D>(x.data, base + k) * scale;
    sum = fmaf(v, v, sum);
  }
  partial[tid] = sum;
  __syncthreads();
  for (int half = kNormThreads / 2; half > 0; half /= 2) {
    if (tid < half) partial[tid] += partial[tid + half];
    __syncthreads();
  }
  if (tid == 0) {
    const float scaled_norm = sqrtf(partial[0]);
    const double true_norm = static_cast<double>(scaled_norm) * static_cast<double>(maxabs);
    inv_norm[row] = true_norm >= 1e-12 ? static_cast<float>(1.0 / true_norm) : 0.f;
  }
}

}  // namespace

void launch_inverse_norms(const Matrix& x, float* inv_norm, cudaStream_t stream) {
  if (x.rows <= 0) return;
  if (x.rows > 0x7fffffff) throw std::invalid_argument("inverse_norms: too many rows");
  const dim3 grid(static_cast<unsigned>(x.rows));
  switch (x.dtype) {
    case DType::F32: {
      auto* kernel = &inverse_norms_kernel<DType::F32>;
      CASCADE_LAUNCH(kernel, grid, dim3(kNormThreads), stream, x, inv_norm);
      break;
    }
    case DType::F16: {
      auto* kernel = &inverse_norms_kernel<DType::F16>;
      CASCADE_LAUNCH(kernel, grid, dim3(kNormThreads), stream, x, inv_norm);
      break;
    }
    case DType::BF16: {
      auto* kernel = &inverse_norms_kernel<DType::BF16>;
      CASCADE_LAUNCH(kernel, grid, dim3(kNormThreads), stream, x, inv_norm);
      break;
    }
  }
  check(cudaGetLastError(), "inverse_norms kernel launch");
}

}  // namespace cascade::gpu::CASCADE_GPU_FLAVOUR
