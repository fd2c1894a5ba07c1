// The Backend table of one build flavour (device, or the host emulation with warp 32 / 64).
#include "gpu/cascade_validate.cuh"
#include "gpu/prior_max.cuh"
#include "gpu/row_norms.cuh"

#include <new>

namespace cascade::gpu::CASCADE_GPU_FLAVOUR {
namespace {

bool available() {
#if defined(CASCADE_GPU_HOST)
  return true;
#else
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky "no device" error
    return false;
  }
  return count > 0;
#endif
}

std::string device_name() {
#if defined(CASCADE_GPU_HOST)
  return "CPU emulation of the kernels (warp " + std::to_string(warp_size()) + ")";
#else
  int device = 0;
  cudaDeviceProp prop{};
  if (cudaGetDevice(&device) != cudaSuccess || cudaGetDeviceProperties(&prop, device) != cudaSuccess) return "unknown";
  return prop.name;
#endif
}

int64_t device_memory() {
#if defined(CASCADE_GPU_HOST)
  return 0;
#else
  int device = 0;
  cudaDeviceProp prop{};
  if (cudaGetDevice(&device) != cudaSuccess || cudaGetDeviceProperties(&prop, device) != cudaSuccess) return 0;
  return static_cast<int64_t>(prop.totalGlobalMem);
#endif
}

// nullptr: the whole device — every stream, so work LibTorch queued on its own streams is done too.
void synchronize(void* stream) {
  if (stream)
    check(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)), "synchronize");
  else
    check(cudaDeviceSynchronize(), "synchronize");
}

void* allocate(size_t bytes) {
#if defined(CASCADE_GPU_HOST)
  return ::operator new(bytes == 0 ? 1 : bytes, std::align_val_t{256});
#else
  void* p = nullptr;
  check(cudaMalloc(&p, bytes == 0 ? 1 : bytes), "cudaMalloc");
  return p;
#endif
}
void release(void* p) {
#if defined(CASCADE_GPU_HOST)
  if (p) ::operator delete(p, std::align_val_t{256});
#else
  if (p) (void)cudaFree(p);
#endif
}
void to_device(void* dst, const void* src, size_t bytes) {
#if defined(CASCADE_GPU_HOST)
  if (bytes) memcpy(dst, src, bytes);
#else
  check(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "cudaMemcpy to device");
#endif
}
void to_host(void* dst, const void* src, size_t bytes) {
#if defined(CASCADE_GPU_HOST)
  if (bytes) memcpy(dst, src, bytes);
#else
  check(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy to host");
#endif
}

void scan(const Matrix& x, float* gamma, int64_t* partner, void* ws, size_t bytes, int splits, void* stream) {
  prior_max_scan(x, gamma, partner, ws, bytes, splits, static_cast<cudaStream_t>(stream));
}
void norms(const Matrix& x, float* inv_norm, void* stream) {
  launch_inverse_norms(x, inv_norm, static_cast<cudaStream_t>(stream));
}
void validate(const ValidateArgs& args, void* ws, size_t bytes, int splits, void* stream) {
  cascade_validate(args, ws, bytes, splits, static_cast<cudaStream_t>(stream));
}

}  // namespace

const Backend& backend() {
#if defined(CASCADE_GPU_HOST)
  static const char* name = warp_size() == 64 ? "host-emulation-w64" : "host-emulation-w32";
#elif defined(__HIP_PLATFORM_AMD__)
  static const char* name = "hip";
#else
  static const char* name = "cuda";
#endif
  static const Backend table{name,     available, device_name, synchronize, allocate, release, to_device, to_host,
                             prior_max_workspace, scan, norms, cascade_validate_workspace, validate, device_memory};
  return table;
}

}  // namespace cascade::gpu::CASCADE_GPU_FLAVOUR
