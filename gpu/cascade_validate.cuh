#pragma once
// Cascade validate (SPEC §3, Algorithm 1 steps 2–4) on the device, without a host round trip:
//   1. within[k] = max_{s'∈R, s'<R_k} |cos|     (the r × r validity check: the causal max kernel on R)
//   2. valid = { R_k : within[k] < θ }           (one-block stream compaction, on the device)
//   3. cross[i] = max_{s∈valid} |cos(R̄_i, s)|    (the (T−r) × r_valid cross max; its column count
//                                                 is read on the device)
// Neither the r × r nor the (T−r) × r block is ever stored.
#include "gpu/common.cuh"

namespace cascade::gpu::CASCADE_GPU_FLAVOUR {

size_t cascade_validate_workspace(const ValidateArgs& args, int splits);
void cascade_validate(const ValidateArgs& args, void* workspace, size_t workspace_bytes, int splits,
                      cudaStream_t stream);

}  // namespace cascade::gpu::CASCADE_GPU_FLAVOUR
