#include "gpu/prior_max.cuh"

#include "gpu/abs_cos_max.cuh"

namespace cascade::gpu::CASCADE_GPU_FLAVOUR {
namespace {

AbsCosMaxProblem scan_problem(const Matrix& x, float* gamma, int64_t* partner) {
  AbsCosMaxProblem p;
  p.x = x;
  p.n_rows = p.n_cols = x.rows;
  p.causal = true;
  p.best = gamma;
  p.arg = partner;
  return p;
}

}  // namespace

size_t prior_max_workspace(const Matrix& x, int splits) {
  const AbsCosMaxProblem p = scan_problem(x, nullptr, nullptr);
  return abs_cos_max_workspace(p, abs_cos_max_splits(p, splits));
}

void prior_max_scan(const Matrix& x, float* gamma, int64_t* partner, void* workspace, size_t workspace_bytes,
                    int splits, cudaStream_t stream) {
  const AbsCosMaxProblem p = scan_problem(x, gamma, partner);
  launch_abs_cos_max(p, workspace, workspace_bytes, abs_cos_max_splits(p, splits), stream);
}

}  // namespace cascade::gpu::CASCADE_GPU_FLAVOUR
