// Forward pass per architecture at a GPT-2-124M-sized random config on the CPU: time and tokens/s,
// the cost of the capture hook, and Engine::run end to end (forward + selection + measures) next to
// the forward alone. Run by hand: build/tests/bench/bench_models [--T 512] [--reps 3] [--arch gpt2,...]
#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "core/engine.h"
#include "core/version.h"
#include "bench_models_common.h"

using namespace cascade;
using cascade::bench::gpt2_124m_like;

namespace {

class Capture final : public ForwardObserver {
 public:
  void on_residual(int64_t, const at::Tensor& x) override { kept.push_back(x.to(at::kCPU, at::kFloat)); }
  std::vector<at::Tensor> kept;
};

template <class F>
double median_ms(int reps, F&& f) {
  f();  // warm-up
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto s = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string x; std::getline(ss, x, ',');) out.push_back(x);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t T = 512;
  int reps = 3;
  std::vector<std::string> archs = {"gpt2", "opt", "gptj", "gpt_neox", "llama"};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--T")) T = std::atol(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--arch")) archs = split(argv[i + 1]);
  }
  const BlasInfo blas = detect_blas();
  std::printf("# bench_models — forward on the CPU, T = %lld, median of %d after a warm-up\n\n", static_cast<long long>(T), reps);
  std::printf("- BLAS: %s (%s), sgemm 512^3 %.0f GFLOP/s; LibTorch %s, %d intra-op threads\n\n", blas.name.c_str(),
              blas.path.c_str(), blas.sgemm_gflops, torch_version().c_str(), blas.threads);
  std::printf("| arch | forward ms | tokens/s | forward + capture ms | capture overhead | Engine::run ms | run / forward |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const auto& type : archs) {
    const ModelConfig c = gpt2_124m_like(type);
    const auto model = make_model(c, RandomWeights(7), at::kCPU, at::kFloat);
    at::manual_seed(1);
    const at::Tensor ids = at::randint(c.vocab_size, {T}, at::kLong);
    RunRequest request;
    request.ids.assign(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + T);
    // Interleave the three so machine noise hits them alike.
    std::vector<double> p, q, r;
    for (int i = 0; i < reps; ++i) {
      p.push_back(median_ms(1, [&] { model->forward(ids); }));
      q.push_back(median_ms(1, [&] {
        Capture cap;
        model->forward(ids, &cap);
      }));
      r.push_back(median_ms(1, [&] { run_model(*model, request); }));
    }
    auto med = [](std::vector<double> v) { std::sort(v.begin(), v.end()); return v[v.size() / 2]; };
    const double plain = med(p), captured = med(q), engine = med(r);
    std::printf("| %s | %.0f | %.0f | %.0f | %+.1f%% | %.0f | %.2f |\n", type.c_str(), plain,
                T / (plain / 1000.0), captured, 100.0 * (captured / plain - 1.0), engine, engine / plain);
    std::fflush(stdout);
  }
  return 0;
}
