#pragma once
// Per-row inverse norms, the row normalisation the scan fuses: inv_norm[t] = 1/‖x_t‖, 0 where the
// norm is below 1e-12 (SPEC §1: such rows stay zero). Rows are scaled by their max |x| first, so
// neither the 1e20s nor the 1e-30s over- or underflow (the CPU normalize_rows does the same).
#include "gpu/common.cuh"

namespace cascade::gpu::CASCADE_GPU_FLAVOUR {

void launch_inverse_norms(const Matrix& x, float* inv_norm, cudaStream_t stream);

}  // namespace cascade::gpu::CASCADE_GPU_FLAVOUR
