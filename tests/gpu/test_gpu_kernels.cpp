// The fused selection kernels (gpu/) against brute force and against the CPU path of core/:
//   * the kernel source itself, run by the CPU emulation with the NVIDIA (warp 32) and the CDNA
//     (wavefront 64) partition of the matrix-core tile — always, in CI;
//   * the device kernels — only where the build has them (CASCADE_GPU=CUDA|HIP) and a GPU is present;
//     skipped with a message otherwise;
//   * the engine's dispatch (core/kernel_dispatch): the same γ/π and sets as the LibTorch path.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>

#include "core/analyzer.h"
#include "core/engine.h"
#include "core/errors.h"
#include "core/kernel_dispatch.h"
#include "core/selection.h"
#include "core/synthetic.h"
#include "data/hf/model_source.h"
#include "gpu/kernels.h"
#include "tests/gpu/kernel_checks.h"

namespace cascade {
namespace {

const gpu::Backend* backend_named(const std::string& name) {
  if (name == "host32") return &gpu::host_backend(32);
  if (name == "host64") return &gpu::host_backend(64);
  return gpu::device_backend();
}

std::string skip_reason(const gpu::Backend* backend) {
  if (!backend) return "no GPU kernels in this build (configure with -DCASCADE_GPU=CUDA or HIP)";
  if (!backend->available()) return std::string("no GPU device present: the ") + backend->name +
                                    " kernels are compile-checked only";
  return {};
}

class KernelChecks : public ::testing::TestWithParam<std::string> {};

TEST_P(KernelChecks, PriorMaxScanAndCascadeValidateMatchBruteForce) {
  const gpu::Backend* backend = backend_named(GetParam());
  if (const std::string why = skip_reason(backend); !why.empty()) GTEST_SKIP() << why;
  // The emulation runs every thread of a block as a real thread: the quick set keeps it to seconds.
  const bool quick = GetParam() != "device";
  gpu_checks::Result all;
  uint64_t seed = 11;
  for (const auto& c : gpu_checks::standard_cases(quick)) {
    const gpu_checks::Result r = gpu_checks::check_case(*backend, c, /*theta=*/0.91, seed);
    seed += 2;
    for (const auto& f : r.failures) ADD_FAILURE() << backend->name << " " << f;
    all.merge(r);
  }
  EXPECT_GT(all.checked, 1000);
  RecordProperty("max_abs_error", std::to_string(all.max_error));
}

INSTANTIATE_TEST_SUITE_P(Backends, KernelChecks, ::testing::Values("host32", "host64", "device"),
                         [](const auto& info) { return info.param; });

// CASCADE_KERNELS for the duration of a test.
class KernelsEnv {
 public:
  explicit KernelsEnv(const char* value) {
    if (const char* old = std::getenv("CASCADE_KERNELS")) old_ = old;
    setenv("CASCADE_KERNELS", value, 1);
  }
  ~KernelsEnv() {
    if (old_)
      setenv("CASCADE_KERNELS", old_->c_str(), 1);
    else
      unsetenv("CASCADE_KERNELS");
  }

 private:
  std::optional<std::string> old_;
};

void expect_same_prior_max(const PriorMax& got, const PriorMax& want, double tol) {
  ASSERT_EQ(got.gamma.size(), want.gamma.size());
  ASSERT_FALSE(got.gamma.empty());
  EXPECT_EQ(got.gamma[0], -std::numeric_limits<float>::infinity());
  EXPECT_EQ(got.partner[0], -1);
  for (size_t t = 1; t < got.gamma.size(); ++t) {
    EXPECT_NEAR(got.gamma[t], want.gamma[t], tol) << "t=" << t;
    if (std::fabs(got.gamma[t] - want.gamma[t]) < 1e-7) {
      EXPECT_EQ(got.partner[t], want.partner[t]) << "t=" << t;
    }
  }
}

ActivationSet small_synthetic() {
  SyntheticSpec spec;
  spec.layers = 5, spec.tokens = 150, spec.dim = 48;
  return make_synthetic(spec);
}

TEST(KernelDispatch, HostEmulationGivesTheLibTorchAnalysis) {
  const ActivationSet acts = small_synthetic();
  const Analyzer reference(acts);
  std::optional<Analyzer> kernels;
  {
    KernelsEnv env("host-emulation");
    ASSERT_NE(kernel_backend_for(acts.hidden[0]), nullptr);
    kernels.emplace(acts);
  }
  for (int64_t l = 0; l < reference.num_layers(); ++l)
    expect_same_prior_max(kernels->prior_max(l), reference.prior_max(l), 2e-6);
  for (double tau : {0.2, 0.35, 0.5}) {
    const Analysis want = reference.analyze(tau, Rule::PriorMax);
    Analysis got;
    {
      KernelsEnv env("host-emulation-w64");  // the cascade steps through the kernels as well
      got = kernels->analyze(tau, Rule::PriorMax);
    }
    ASSERT_EQ(got.L(), want.L());
    for (int64_t l = 0; l < want.L(); ++l) {
      EXPECT_EQ(got.layers[l].reps_ind, want.layers[l].reps_ind) << "tau " << tau << " layer " << l;
      EXPECT_EQ(got.layers[l].reps_casc, want.layers[l].reps_casc) << "tau " << tau << " layer " << l;
      EXPECT_EQ(got.layers[l].added, want.layers[l].added);
      EXPECT_EQ(got.layers[l].removed, want.layers[l].removed);
      EXPECT_EQ(got.layers[l].gram_entries_casc, want.layers[l].gram_entries_casc);
    }
  }
}

TEST(KernelDispatch, CascadeStepEdgeCasesMatchTheLibTorchPath) {
  const at::Tensor xhat = normalize_rows(small_synthetic().hidden[2]);
  const int64_t T = xhat.size(0);
  TokenSet all(T), some;
  for (int64_t t = 0; t < T; ++t) all[t] = t;
  for (int64_t t = 0; t < T; t += 7) some.push_back(t);
  for (const TokenSet& inherited : {TokenSet{}, TokenSet{T - 1}, some, all}) {
    const CascadeTrace want = cascade_step(xhat, inherited, 0.91);
    const CascadeTrace got = cascade_step_kernels(gpu::host_backend(32), xhat, inherited, 0.91, /*splits=*/2);
    EXPECT_EQ(got.valid, want.valid) << inherited.size() << " inherited";
    EXPECT_EQ(got.removed, want.removed);
    EXPECT_EQ(got.added, want.added);
    EXPECT_EQ(got.result, want.result);
    EXPECT_EQ(got.gram_entries, want.gram_entries);
  }
}

TEST(KernelDispatch, HalfPrecisionAndFusedNormalisation) {
  const at::Tensor x = small_synthetic().hidden[1];
  const gpu::Backend& host = gpu::host_backend(32);
  // fp16/bf16 rows are read in place; the reference is the fp32 path on the same rounded values.
  for (auto dtype : {at::kHalf, at::kBFloat16}) {
    const at::Tensor xhat = normalize_rows(x).to(dtype);
    expect_same_prior_max(prior_max_scan_kernels(host, xhat), prior_max_scan(xhat.to(at::kFloat)), 2e-6);
  }
  // Raw activations with the normalisation fused (rows of wildly different scale, one zero row).
  at::Tensor raw = x * at::logspace(-3, 3, x.size(0), 10.0, at::kFloat).unsqueeze(1);
  raw[17].zero_();
  expect_same_prior_max(prior_max_scan_raw_kernels(host, raw), prior_max_scan(normalize_rows(raw)), 2e-6);
  // A non-contiguous view (every other token) and T = 1.
  const at::Tensor strided = normalize_rows(x).slice(0, 0, x.size(0), 2);
  expect_same_prior_max(prior_max_scan_kernels(host, strided), prior_max_scan(strided.contiguous()), 2e-6);
  const PriorMax one = prior_max_scan_kernels(host, normalize_rows(x).slice(0, 0, 1));
  ASSERT_EQ(one.gamma.size(), 1u);
  EXPECT_EQ(one.partner[0], -1);
}

TEST(KernelDispatch, UnknownModeIsAUsageErrorAndOffMeansLibTorch) {
  const at::Tensor x = at::ones({3, 2});
  {
    KernelsEnv env("fast");
    EXPECT_THROW(kernel_backend_for(x), UsageError);
  }
  {
    KernelsEnv env("off");
    EXPECT_EQ(kernel_backend_for(x), nullptr);
  }
  EXPECT_EQ(kernel_backend_for(x), nullptr);  // auto: CPU tensors take the LibTorch path
  EXPECT_NE(kernels_summary().find("selection kernels"), std::string::npos);
}

TEST(KernelDispatch, DeviceTensorsGiveTheCpuAnalysis) {
  const gpu::Backend* device = gpu::device_backend();
  if (const std::string why = skip_reason(device); !why.empty()) GTEST_SKIP() << why;
  if (!at::hasCUDA()) GTEST_SKIP() << "this LibTorch has no GPU support (Debian's is CPU-only): device dispatch untested";
  ActivationSet acts = small_synthetic();
  const Analyzer cpu(acts);
  acts.hidden = acts.hidden.to(at::kCUDA);
  ASSERT_EQ(kernel_backend_for(acts.hidden[0]), device);
  const Analyzer gpu(acts);
  for (int64_t l = 0; l < cpu.num_layers(); ++l) expect_same_prior_max(gpu.prior_max(l), cpu.prior_max(l), 1e-5);
  const Analysis want = cpu.analyze(0.3, Rule::PriorMax), got = gpu.analyze(0.3, Rule::PriorMax);
  for (int64_t l = 0; l < want.L(); ++l) {
    EXPECT_EQ(got.layers[l].reps_ind, want.layers[l].reps_ind) << "layer " << l;
    EXPECT_EQ(got.layers[l].reps_casc, want.layers[l].reps_casc) << "layer " << l;
  }
}


// The engine end to end: the bundled demo model run on the GPU analyses on the GPU (its X̂ stays
// there and the scans go to the kernels) and finds the CPU run's sets.
TEST(KernelDispatch, RunModelOnTheDeviceGivesTheCpuSets) {
  const gpu::Backend* device = gpu::device_backend();
  if (const std::string why = skip_reason(device); !why.empty()) GTEST_SKIP() << why;
  if (!at::hasCUDA()) GTEST_SKIP() << "this LibTorch has no GPU support (Debian's is CPU-only): device runs untested";
  data::ModelRequest cpu_request, gpu_request;
  gpu_request.device = DeviceKind::Cuda;
  const data::LoadedModel cpu_model = data::load_model(cpu_request), gpu_model = data::load_model(gpu_request);
  RunRequest request;
  request.ids = data::encode_text(cpu_model, data::read_text_file(data::bundled_default_text_path()));
  request.tau = 0.3;
  const cascade::RunRecord on_cpu = run_model(*cpu_model.model, request), on_gpu = run_model(*gpu_model.model, request);
  ASSERT_TRUE(on_gpu.analyzer->normalized(0).is_cuda()) << "the analysis should stay on the device";
  ASSERT_EQ(on_gpu.analysis.L(), on_cpu.analysis.L());
  for (int64_t l = 0; l < on_cpu.analysis.L(); ++l) {
    expect_same_prior_max(on_gpu.prior_max_of(l), on_cpu.prior_max_of(l), 1e-4);  // the forward itself differs slightly
    EXPECT_EQ(on_gpu.analysis.layers[l].reps_ind, on_cpu.analysis.layers[l].reps_ind) << "layer " << l;
    EXPECT_EQ(on_gpu.analysis.layers[l].reps_casc, on_cpu.analysis.layers[l].reps_casc) << "layer " << l;
  }
}

}  // namespace
}  // namespace cascade
