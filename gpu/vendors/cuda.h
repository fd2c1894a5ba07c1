#pragma once
// NVIDIA: the CUDA runtime and the warp-level matrix API the kernels use (nvcc, sm_70+ for WMMA).
#include <cuda_runtime.h>
#include <mma.h>
#if defined(__CUDACC__)
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#endif
