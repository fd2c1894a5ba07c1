#pragma once
// The one tiled kernel behind both selection steps: for every row i of a list of token positions,
// the max and argmax of |cos(x_row, x_col)| over a list of column positions (optionally only the
// columns before the row: causal), with running maxima over 64 × 64 tiles — no T × T buffer.
//   prior-max scan      rows = cols = 0..T−1, causal
//   cascade validity    rows = cols = R, causal
//   cascade cross max   rows = R̄, cols = valid, all columns
// Gathering by position, the GEMM, |·|, the mask, the optional row normalisation and the max run
// in one pass over X; only O(rows · splits) floats are written.
#include "gpu/common.cuh"

namespace cascade::gpu::CASCADE_GPU_FLAVOUR {

struct AbsCosMaxProblem {
  Matrix x;
  const int64_t* row_pos = nullptr;  // nullptr: rows 0..n_rows−1
  int64_t n_rows = 0;
  const int64_t* col_pos = nullptr;  // ascending; nullptr: 0..n_cols−1
  int64_t n_cols = 0;                // an upper bound when n_cols_device is given
  const int64_t* n_cols_device = nullptr;  // the actual count, known on the device only
  bool causal = false;               // only columns whose position is below the row's
  float* best = nullptr;             // [n_rows]
  int64_t* arg = nullptr;            // [n_rows] position of the column attaining best (−1: none)
};

// Column splits (grid.y) for a problem: enough blocks to fill the device, 1 when rows suffice.
int abs_cos_max_splits(const AbsCosMaxProblem& p, int requested);
size_t abs_cos_max_workspace(const AbsCosMaxProblem& p, int splits);
void launch_abs_cos_max(const AbsCosMaxProblem& p, void* workspace, size_t workspace_bytes, int splits,
                        cudaStream_t stream);

}  // namespace cascade::gpu::CASCADE_GPU_FLAVOUR
