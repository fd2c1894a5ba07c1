// The kernel sources compiled for the host emulation, warp 32 (NVIDIA's partition of the tile).
#define CASCADE_GPU_HOST 1
#define CASCADE_HOST_WARP_SIZE 32
#include "gpu/abs_cos_max.cu"
#include "gpu/backend.cu"
#include "gpu/cascade_validate.cu"
#include "gpu/prior_max.cu"
#include "gpu/row_norms.cu"
