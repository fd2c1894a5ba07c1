// host_backend() and device_backend(): the flavours this build has.
#include "gpu/kernels.h"

#include <stdexcept>

namespace cascade::gpu {
namespace host32 {
const Backend& backend();
}
namespace host64 {
const Backend& backend();
}
#if defined(CASCADE_WITH_GPU_DEVICE)
namespace device {
const Backend& backend();
}
#endif

const Backend& host_backend(int warp_size) {
  if (warp_size == 32) return host32::backend();
  if (warp_size == 64) return host64::backend();
  throw std::invalid_argument("host_backend: warp size must be 32 or 64");
}

const Backend* device_backend() {
#if defined(CASCADE_WITH_GPU_DEVICE)
  return &device::backend();
#else
  return nullptr;
#endif
}

}  // namespace cascade::gpu
