// The glue between LibTorch tensors and gpu::Backend: storage pointers in, PriorMax / CascadeTrace out.
#include "core/kernel_dispatch.h"

#include <ATen/ATen.h>
#include <c10/core/DeviceGuard.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "core/errors.h"
#include "core/sets.h"
#include "gpu/kernels.h"

namespace cascade {
namespace {

// Rows the kernels can read in place: a supported dtype with unit column stride.
at::Tensor kernel_rows(const at::Tensor& x) {
  TORCH_CHECK(x.dim() == 2, "selection kernels expect [T, d], got ", x.sizes());
  const auto st = x.scalar_type();
  at::Tensor rows = st == at::kFloat || st == at::kHalf || st == at::kBFloat16 ? x : x.to(at::kFloat);
  if (rows.size(1) > 0 && (rows.stride(1) != 1 || rows.stride(0) < rows.size(1))) rows = rows.contiguous();
  return rows;
}

gpu::Matrix matrix_of(const at::Tensor& rows) {
  gpu::Matrix m;
  m.data = rows.data_ptr();
  const auto st = rows.scalar_type();
  m.dtype = st == at::kHalf ? gpu::DType::F16 : st == at::kBFloat16 ? gpu::DType::BF16 : gpu::DType::F32;
  m.rows = rows.size(0);
  m.d = rows.size(1);
  m.ld = std::max<int64_t>(rows.stride(0), m.d);
  return m;
}

at::Tensor workspace(size_t bytes, const at::Tensor& like) {
  return at::empty({static_cast<int64_t>(std::max<size_t>(bytes, 1))}, like.options().dtype(at::kByte));
}

// The kernels go to the legacy default stream, and every call synchronises the whole device before
// (LibTorch may have produced the inputs on a stream of its own that does not wait for the default
// one) and after (results are read at once). One sync per layer costs nothing next to the scan.
void* const kDefaultStream = nullptr;
void device_barrier(const gpu::Backend& backend) { backend.synchronize(nullptr); }

PriorMax scan(const gpu::Backend& backend, const at::Tensor& rows, const float* inv_norm, int splits) {
  PriorMax out;
  const int64_t T = rows.size(0);
  if (T == 0) return out;
  if (rows.size(1) == 0) throw UsageError("selection kernels: activations have no columns (d = 0)");
  const c10::DeviceGuard on_device(rows.device());  // the launcher queries and launches on the current device
  gpu::Matrix m = matrix_of(rows);
  m.inv_norm = inv_norm;
  at::Tensor gamma = at::empty({T}, rows.options().dtype(at::kFloat));
  at::Tensor partner = at::empty({T}, rows.options().dtype(at::kLong));
  const size_t bytes = backend.prior_max_workspace(m, splits);
  at::Tensor ws = workspace(bytes, rows);
  device_barrier(backend);
  backend.prior_max_scan(m, gamma.data_ptr<float>(), partner.data_ptr<int64_t>(), ws.data_ptr(), bytes, splits,
                         kDefaultStream);
  backend.synchronize(kDefaultStream);
  out.gamma = host_floats(gamma);
  out.partner = host_longs(partner);
  return out;
}

}  // namespace

const gpu::Backend* kernel_backend_for(const at::Tensor& x) {
  const char* env = std::getenv("CASCADE_KERNELS");
  const std::string mode = env && *env ? env : "auto";
  if (mode != "auto" && mode != "off" && mode != "host-emulation" && mode != "host-emulation-w64")
    throw UsageError("CASCADE_KERNELS must be auto, off, host-emulation or host-emulation-w64 (got '" + mode + "')");
  if (mode == "off") return nullptr;
  if (x.is_cpu()) {
    if (mode == "host-emulation") return &gpu::host_backend(32);
    if (mode == "host-emulation-w64") return &gpu::host_backend(64);
    return nullptr;
  }
  if (x.is_cuda()) {  // ROCm builds of LibTorch call their device cuda too
    const gpu::Backend* device = gpu::device_backend();
    return device && device->available() ? device : nullptr;
  }
  return nullptr;
}

std::string kernels_summary() {
  const gpu::Backend* device = gpu::device_backend();
  std::string line = "selection kernels: ";
  if (!device)
    line += "LibTorch (built without CASCADE_GPU)";
  else if (!device->available())
    line += std::string(device->name) + " built, no GPU present (LibTorch on CPU)";
  else
    line += std::string(device->name) + " on " + device->device_name();
  const char* env = std::getenv("CASCADE_KERNELS");
  if (env && *env && std::string(env) != "auto") line += "; CASCADE_KERNELS=" + std::string(env) + " in force";
  return line;
}

std::optional<GpuDevice> gpu_device() {
  const gpu::Backend* device = gpu::device_backend();
  if (!device || !device->available()) return std::nullopt;
  return GpuDevice{device->device_name(), device->device_memory()};
}

PriorMax prior_max_scan_kernels(const gpu::Backend& backend, const at::Tensor& xhat, int splits) {
  return scan(backend, kernel_rows(xhat), nullptr, splits);
}

PriorMax prior_max_scan_raw_kernels(const gpu::Backend& backend, const at::Tensor& x, int splits) {
  const at::Tensor rows = kernel_rows(x);
  if (rows.size(0) == 0) return {};
  const c10::DeviceGuard on_device(rows.device());
  at::Tensor inv_norm = at::empty({rows.size(0)}, rows.options().dtype(at::kFloat));
  device_barrier(backend);
  backend.inverse_norms(matrix_of(rows), inv_norm.data_ptr<float>(), kDefaultStream);
  return scan(backend, rows, inv_norm.data_ptr<float>(), splits);
}

CascadeTrace cascade_step_kernels(const gpu::Backend& backend, const at::Tensor& xhat, const TokenSet& inherited,
                                  double theta, int splits) {
  const at::Tensor rows = kernel_rows(xhat);
  const int64_t T = rows.size(0);
  const TokenSet rest = non_inherited(inherited, T);  // R̄: every token not inherited
  CascadeTrace trace;
  trace.inherited = inherited;
  if (T == 0) return trace;
  if (rows.size(1) == 0) throw UsageError("selection kernels: activations have no columns (d = 0)");
  const auto r = static_cast<int64_t>(inherited.size()), n_rest = static_cast<int64_t>(rest.size());
  const c10::DeviceGuard on_device(rows.device());
  const auto longs = rows.options().dtype(at::kLong);
  const at::Tensor inherited_dev = at::tensor(inherited.empty() ? TokenSet{0} : inherited, at::kLong).to(longs.device());
  const at::Tensor rest_dev = at::tensor(rest.empty() ? TokenSet{0} : rest, at::kLong).to(longs.device());
  at::Tensor valid = at::empty({std::max<int64_t>(r, 1)}, rows.options().dtype(at::kByte));
  at::Tensor within = at::empty({std::max<int64_t>(r, 1)}, rows.options().dtype(at::kFloat));
  at::Tensor cross = at::empty({std::max<int64_t>(n_rest, 1)}, rows.options().dtype(at::kFloat));
  at::Tensor cross_arg = at::empty({std::max<int64_t>(n_rest, 1)}, longs);
  gpu::ValidateArgs args;
  args.x = matrix_of(rows);
  args.inherited = inherited_dev.data_ptr<int64_t>();
  args.r = r;
  args.others = rest_dev.data_ptr<int64_t>();
  args.n_others = n_rest;
  args.theta = theta;
  args.valid = valid.data_ptr<uint8_t>();
  args.within = within.data_ptr<float>();
  args.cross = cross.data_ptr<float>();
  args.cross_arg = cross_arg.data_ptr<int64_t>();
  const size_t bytes = backend.validate_workspace(args, splits);
  at::Tensor ws = workspace(bytes, rows);
  device_barrier(backend);
  backend.cascade_validate(args, ws.data_ptr(), bytes, splits, kDefaultStream);
  backend.synchronize(kDefaultStream);
  const auto valid_host = host_longs(valid);
  const auto cross_host = host_floats(cross);
  for (int64_t k = 0; k < r; ++k) (valid_host[k] ? trace.valid : trace.removed).push_back(inherited[k]);
  for (int64_t i = 0; i < n_rest; ++i)
    if (static_cast<double>(cross_host[i]) < theta) trace.added.push_back(rest[i]);
  trace.result = set_union(trace.valid, trace.added);
  trace.gram_entries = cascade_gram_entries(T, r, static_cast<int64_t>(trace.valid.size()));
  return trace;
}

}  // namespace cascade
