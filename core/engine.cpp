#include "core/engine.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cmath>

#include "core/analyzer.h"
#include "core/errors.h"
#include "core/version.h"

namespace cascade {

namespace {

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// Records the residual stream entering every block (float32, CPU) and, when asked, the per-head
// ADA attention error; reports progress and checks for cancellation between blocks. On a GPU it
// also keeps the blocks' own device tensors, so that the selection runs there (gpu/ kernels).
class RunObserver final : public ForwardObserver {
 public:
  RunObserver(int64_t layers, bool keep_residuals, bool errors, const JobControl& control)
      : control_(control), layers_(layers), keep_(keep_residuals), errors_(errors) {
    if (errors_) attention_error.assign(layers, {});
  }
  void on_residual(int64_t layer, const at::Tensor& x) override {
    control_.check();
    control_.report("forward", layer, layers_);
    if (!keep_) return;
    residuals.push_back(x.to(at::kCPU, at::kFloat));
    if (!x.is_cpu()) device_residuals.push_back(x.detach());
  }
  void on_final_norm(const at::Tensor& h) override {
    if (keep_) final_hidden = h.to(at::kCPU, at::kFloat);
  }
  bool wants_ada_error(int64_t) const override { return errors_; }
  void on_ada_error(int64_t block, const std::vector<double>& per_head) override { attention_error[block] = per_head; }

  std::vector<at::Tensor> residuals;  // L + 1: entering each block, then the final residual
  std::vector<at::Tensor> device_residuals;  // the same on the model's device (model dtype), when not the CPU
  at::Tensor final_hidden;
  std::vector<std::vector<double>> attention_error;

 private:
  const JobControl& control_;
  int64_t layers_;
  bool keep_, errors_;
};

}  // namespace

double perplexity(const at::Tensor& logits, const std::vector<int64_t>& ids) {
  const int64_t T = static_cast<int64_t>(ids.size());
  if (T < 2) return std::nan("");
  const at::Tensor logp = at::log_softmax(logits.to(at::kDouble).narrow(0, 0, T - 1), -1);
  const at::Tensor next = at::tensor(std::vector<int64_t>(ids.begin() + 1, ids.end()), at::kLong).view({-1, 1});
  return std::exp(-logp.gather(1, next).mean().item<double>());
}

double mean_kl(const at::Tensor& logits_p, const at::Tensor& logits_q) {
  const at::Tensor lp = at::log_softmax(logits_p.to(at::kDouble), -1);
  const at::Tensor lq = at::log_softmax(logits_q.to(at::kDouble), -1);
  return (lp.exp() * (lp - lq)).sum(-1).mean().item<double>();
}

ModelIdentity identity_of(const ModelConfig& config) {
  ModelIdentity m;
  m.name = config.name;
  m.model_type = config.model_type;
  m.num_layers = config.num_layers;
  m.hidden_size = config.hidden_size;
  m.num_heads = config.num_heads;
  m.vocab_size = config.vocab_size;
  return m;
}

AttentionMode quality_mode_of(AttentionMode attention) {
  return attention == AttentionMode::Exact ? AttentionMode::AdaCascade : attention;
}

namespace {

// ADA-cascade at τ against exact logits: the per-head attention errors and the ADA logits.
std::pair<std::vector<std::vector<double>>, at::Tensor> ada_cascade_pass(const CausalLM& model, const at::Tensor& ids,
                                                                         double tau, Rule rule, NearestRule nearest,
                                                                         const JobControl& control) {
  RunObserver errors(model.config().num_layers, false, true, control);
  at::Tensor logits = model.forward(ids, &errors, make_planner(AttentionMode::AdaCascade, tau, rule, nearest).get());
  return {errors.attention_error, logits};
}

}  // namespace

AdaQuality ada_quality(const CausalLM& model, const std::vector<int64_t>& ids, AttentionMode mode, double tau, Rule rule,
                       NearestRule nearest, const at::Tensor& exact_logits, const JobControl& control) {
  if (mode == AttentionMode::Exact) throw UsageError("ada_quality compares an ADA mode with exact attention");
  RunObserver errors(model.config().num_layers, false, true, control);
  const at::Tensor t = at::tensor(ids, at::TensorOptions().dtype(at::kLong));
  const at::Tensor ada = model.forward(t, &errors, make_planner(mode, tau, rule, nearest).get());
  AdaQuality q;
  q.attention_error = errors.attention_error;
  q.ppl_exact = perplexity(exact_logits, ids);
  q.ppl_ada = perplexity(ada, ids);
  q.mean_kl = mean_kl(exact_logits, ada);
  return q;
}

RunRecord run_model(const CausalLM& model, const RunRequest& request, const JobControl& control) {
  if (request.ids.empty()) throw UsageError("no tokens to run");
  if (!request.tokens.empty() && request.tokens.size() != request.ids.size())
    throw UsageError("token strings and ids differ in length");
  theta_of_tau(request.tau);
  const ModelConfig& cfg = model.config();
  RunRecord run;
  run.app_version = version();
  run.created = utc_now_iso8601();
  run.kind = SourceKind::Model;
  run.source = request.source.empty() ? cfg.name : request.source;
  run.model = request.model ? *request.model : identity_of(cfg);
  run.text = request.text;
  run.ids = request.ids;
  run.tokens = request.tokens;
  if (run.tokens.empty())
    for (int64_t id : request.ids) run.tokens.push_back(std::to_string(id));
  run.attention = request.attention;
  run.nearest = request.nearest;
  run.device = model.device().is_cpu() ? DeviceKind::Cpu : DeviceKind::Cuda;
  run.dtype = dtype_of(model.dtype());
  const at::Tensor ids = at::tensor(request.ids, at::TensorOptions().dtype(at::kLong));
  const bool ada_run = request.attention != AttentionMode::Exact;
  auto capture = std::make_shared<ForwardCapture>();

  auto start = std::chrono::steady_clock::now();
  RunObserver observer(cfg.num_layers, true, request.quality && ada_run, control);
  auto planner = make_planner(request.attention, request.tau, request.rule, request.nearest);
  capture->logits = model.forward(ids, &observer, planner.get());
  run.timings.forward_ms = ms_since(start);

  start = std::chrono::steady_clock::now();
  capture->final_residual = observer.residuals.back();
  capture->final_hidden = observer.final_hidden;
  observer.residuals.pop_back();
  capture->activations.hidden = at::stack(observer.residuals);
  capture->activations.tokens = request.tokens;
  capture->activations.source = cfg.name;
  validate(capture->activations);
  const JobControl quiet{nullptr, control.cancel};
  // The analysis runs where the model ran: on a GPU, X̂ and the τ-free cache stay on the device and
  // the scans and cascade steps dispatch to the fused kernels (core/kernel_dispatch.h).
  ActivationSet analysed = capture->activations;
  if (!observer.device_residuals.empty()) {
    observer.device_residuals.pop_back();  // the final residual (SPEC layer L) is not analysed
    analysed.hidden = at::stack(observer.device_residuals);
    observer.device_residuals.clear();
  }
  analysed = select_layers(analysed, request.layers);
  run.analyzer = std::make_shared<const Analyzer>(analysed, request.tile, quiet, request.gram_cache_bytes);
  analysed = ActivationSet();
  run.analysis = run.analyzer->analyze(request.tau, request.rule, quiet);
  run.timings.selection_ms = ms_since(start);

  if (request.quality) {
    start = std::chrono::steady_clock::now();
    AdaQuality q;
    // The quality numbers always compare an ADA mode with exact attention: for an exact run, the
    // cascade (the paper's engine) at the same τ is measured.
    at::Tensor exact = capture->logits, ada = capture->logits;
    q.attention_error = observer.attention_error;
    if (ada_run) exact = model.forward(ids, nullptr, nullptr);
    else std::tie(q.attention_error, ada) = ada_cascade_pass(model, ids, request.tau, request.rule, request.nearest, control);
    q.ppl_exact = perplexity(exact, request.ids);
    q.ppl_ada = perplexity(ada, request.ids);
    q.mean_kl = mean_kl(exact, ada);
    run.quality = q;
    run.quality_mode = quality_mode_of(request.attention);
    run.timings.quality_ms = ms_since(start);
  }
  if (!request.sweep_taus.empty())
    run.sweep = sweep_entries(run.analyzer->sweep(request.sweep_taus, request.rule, control));
  // An exact run's own logits are the exact pass the quality sweep compares with.
  if (request.quality_sweep)
    measure_quality_sweep(model, request, run, control,
                          ada_run ? std::nullopt : std::optional<double>(perplexity(capture->logits, request.ids)));
  // The tensors are as large as the model's work (logits alone are T × V floats): kept only when asked.
  if (request.keep_capture) run.capture = std::move(capture);
  return run;
}

void measure_quality_sweep(const CausalLM& model, const RunRequest& request, RunRecord& record,
                           const JobControl& control, std::optional<double> ppl_exact) {
  const at::Tensor ids = at::tensor(record.ids, at::TensorOptions().dtype(at::kLong));
  const auto total = static_cast<int64_t>(record.sweep.size());
  const JobControl quiet{nullptr, control.cancel};
  if (!ppl_exact) ppl_exact = perplexity(model.forward(ids, nullptr, nullptr), record.ids);
  for (int64_t i = 0; i < total; ++i) {
    control.check();
    control.report("quality sweep", i, total);
    SweepEntry& e = record.sweep[static_cast<size_t>(i)];
    const auto [errors, ada] = ada_cascade_pass(model, ids, e.analysis.tau, e.analysis.rule, request.nearest, quiet);
    AdaQuality q;
    q.attention_error = errors;
    e.ada_error = mean_attention_error(q);
    e.delta_ppl = perplexity(ada, record.ids) - *ppl_exact;
  }
  control.report("quality sweep", total, total);
}

std::vector<int64_t> greedy_generate(const CausalLM& model, std::vector<int64_t> ids, int64_t steps,
                                     std::optional<int64_t> stop_id, AttentionMode mode, double tau, Rule rule,
                                     NearestRule nearest, const JobControl& control) {
  if (ids.empty()) throw UsageError("generation needs at least one token (e.g. BOS)");
  for (int64_t s = 0; s < steps; ++s) {
    control.check();
    control.report("generate", s, steps);
    // Full recompute per step: simple and exact; the tool's texts are short.
    auto planner = make_planner(mode, tau, rule, nearest);
    const at::Tensor logits = model.forward(at::tensor(ids, at::TensorOptions().dtype(at::kLong)), nullptr, planner.get());
    const int64_t next = logits[-1].argmax().item<int64_t>();
    if (stop_id && next == *stop_id) break;
    ids.push_back(next);
  }
  control.report("generate", steps, steps);
  return ids;
}

}  // namespace cascade
