#include "gpu/cascade_validate.cuh"

#include <algorithm>

#include "gpu/abs_cos_max.cuh"

namespace cascade::gpu::CASCADE_GPU_FLAVOUR {
namespace {

constexpr int kScanThreads = 256;

// valid[k] = within[k] < θ (compared in double, as the CPU path), and the valid positions packed
// in order into valid_pos[0 .. *n_valid). One block: a Hillis–Steele scan per 256-entry chunk.
__global__ void __launch_bounds__(kScanThreads) compact_valid_kernel(const float* within, const int64_t* inherited,
                                                                     int64_t r, double theta, uint8_t* valid,
                                                                     int64_t* valid_pos, int64_t* n_valid) {
  __shared__ int64_t scan[kScanThreads];
  const int tid = static_cast<int>(threadIdx.x);
  int64_t base = 0;
  for (int64_t c0 = 0; c0 < r; c0 += kScanThreads) {
    const int64_t k = c0 + tid;
    const bool keep = k < r && static_cast<double>(within[k]) < theta;
    if (k < r) valid[k] = keep ? 1 : 0;
    scan[tid] = keep ? 1 : 0;
    __syncthreads();
    for (int offset = 1; offset < kScanThreads; offset *= 2) {
      const int64_t add = tid >= offset ? scan[tid - offset] : 0;
      __syncthreads();
      scan[tid] += add;
      __syncthreads();
    }
    if (keep) valid_pos[base + scan[tid] - 1] = inherited[k];
    base += scan[kScanThreads - 1];
    __syncthreads();  // scan[] is rewritten by the next chunk
  }
  if (tid == 0) *n_valid = base;
}

// Byte offsets into the workspace. The scratch of the two max launches is shared: they run in
// order on one stream.
struct Layout {
  size_t valid_pos = 0, n_valid = 0, within_arg = 0, scratch = 0, total = 0;
  int within_splits = 1, cross_splits = 1;
};

AbsCosMaxProblem within_problem(const ValidateArgs& a) {
  AbsCosMaxProblem p;
  p.x = a.x;
  p.row_pos = p.col_pos = a.inherited;
  p.n_rows = p.n_cols = a.r;
  p.causal = true;
  p.best = a.within;
  return p;
}
AbsCosMaxProblem cross_problem(const ValidateArgs& a, const int64_t* valid_pos, const int64_t* n_valid) {
  AbsCosMaxProblem p;
  p.x = a.x;
  p.row_pos = a.others;
  p.n_rows = a.n_others;
  p.col_pos = valid_pos;
  p.n_cols = a.r;  // an upper bound: the kernel reads the valid count on the device
  p.n_cols_device = n_valid;
  p.best = a.cross;
  p.arg = a.cross_arg;
  return p;
}

Layout layout(const ValidateArgs& a, int splits) {
  Layout l;
  const AbsCosMaxProblem w = within_problem(a), c = cross_problem(a, nullptr, nullptr);
  l.within_splits = abs_cos_max_splits(w, splits);
  l.cross_splits = abs_cos_max_splits(c, splits);
  const size_t r_longs = aligned(static_cast<size_t>(std::max<int64_t>(a.r, 1)) * sizeof(int64_t));
  l.valid_pos = 0;
  l.n_valid = r_longs;
  l.within_arg = l.n_valid + aligned(sizeof(int64_t));  // within's argmax: unused, but the kernel writes one
  l.scratch = l.within_arg + r_longs;
  l.total = l.scratch + std::max(abs_cos_max_workspace(w, l.within_splits), abs_cos_max_workspace(c, l.cross_splits));
  return l;
}

}  // namespace

size_t cascade_validate_workspace(const ValidateArgs& args, int splits) { return layout(args, splits).total; }

void cascade_validate(const ValidateArgs& args, void* workspace, size_t workspace_bytes, int splits,
                      cudaStream_t stream) {
  const Layout l = layout(args, splits);
  if (workspace_bytes < l.total) throw std::invalid_argument("cascade_validate: workspace too small");
  if (args.r < 0 || args.n_others < 0) throw std::invalid_argument("cascade_validate: negative sizes");
  char* ws = static_cast<char*>(workspace);
  auto* valid_pos = reinterpret_cast<int64_t*>(ws + l.valid_pos);
  auto* n_valid = reinterpret_cast<int64_t*>(ws + l.n_valid);
  auto* within_arg = reinterpret_cast<int64_t*>(ws + l.within_arg);

  AbsCosMaxProblem within = within_problem(args);
  within.arg = within_arg;
  launch_abs_cos_max(within, ws + l.scratch, workspace_bytes - l.scratch, l.within_splits, stream);

  auto* compact = &compact_valid_kernel;
  CASCADE_LAUNCH(compact, dim3(1), dim3(kScanThreads), stream, args.within, args.inherited, args.r, args.theta,
                 args.valid, valid_pos, n_valid);
  check(cudaGetLastError(), "compact_valid kernel launch");

  launch_abs_cos_max(cross_problem(args, valid_pos, n_valid), ws + l.scratch, workspace_bytes - l.scratch,
                     l.cross_splits, stream);
}

}  // namespace cascade::gpu::CASCADE_GPU_FLAVOUR
