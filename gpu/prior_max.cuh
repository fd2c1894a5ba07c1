#pragma once
// Prior-max scan (SPEC §2, Definition 1) on the device: γ_t = max_{s<t} |cos(x_t, x_s)| and its
// argmax π_t, for every t, in one causal pass of the tiled max kernel — O(T) output, no T × T.
#include "gpu/common.cuh"

namespace cascade::gpu::CASCADE_GPU_FLAVOUR {

size_t prior_max_workspace(const Matrix& x, int splits);
void prior_max_scan(const Matrix& x, float* gamma, int64_t* partner, void* workspace, size_t workspace_bytes,
                    int splits, cudaStream_t stream);

}  // namespace cascade::gpu::CASCADE_GPU_FLAVOUR
