#pragma once
// Engine::run: one model over one text → an immutable Run (tokens, per-layer activations, the
// selection analysis, optional ADA quality, timings). Headless; the CLI and the GUI share it.
#include <ATen/core/Tensor.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/activations.h"
#include "core/ada.h"
#include "core/analyzer.h"
#include "core/measures.h"
#include "core/model.h"
#include "core/progress.h"

namespace cascade {

struct RunRequest {
  std::vector<int64_t> ids;          // already tokenized (BOS included where the model wants it)
  std::vector<std::string> tokens;   // display strings, empty or one per id
  double tau = 0.3;
  Rule rule = Rule::PriorMax;
  AttentionMode attention = AttentionMode::Exact;
  NearestRule nearest = NearestRule::Paper;
  LayerRange layers;                 // which layers the analysis covers (all by default)
  bool quality = false;              // ADA quality vs exact: attention error, perplexity, KL
  int64_t tile = kDefaultTile;
  int64_t gram_cache_bytes = 0;      // > 0: the Analyzer keeps |Gram| per layer when it fits (GUI τ slider)
};

struct AdaQuality {
  // Relative error ‖Attn_ADA − Attn‖_F / ‖Attn‖_F of each block's attention output, per head,
  // on the ADA run's own q/k/v ([L][H]).
  std::vector<std::vector<double>> attention_error;
  double ppl_exact = 0, ppl_ada = 0;  // perplexity of ids[1..] given the prefix
  double mean_kl = 0;                 // mean over positions of KL(exact ‖ ADA) of next-token distributions
};

struct Timings {
  double forward_ms = 0;    // the forward pass in the requested attention mode (with capture)
  double selection_ms = 0;  // normalisation, prior-max scan, sets, cascade, measures
  double quality_ms = 0;    // the extra exact pass and the comparisons, when asked
};

struct Run {
  ModelConfig config;
  std::vector<int64_t> ids;
  std::vector<std::string> tokens;
  ActivationSet activations;  // residual stream entering each block, [L, T, d] float32 on the CPU
  at::Tensor final_residual;  // after the last block, before the final norm (SPEC layer L), [T, d]
  at::Tensor final_hidden;    // HF's last hidden_states entry: the final norm applied, [T, d]
  Analysis analysis;          // SPEC §4 measures over `activations` at the requested τ and rule
  std::vector<PriorMax> prior_max;  // τ-free γ and π of every analysed layer (what τ sliders re-use)
  std::shared_ptr<const Analyzer> analyzer;  // the τ-free cache itself (X̂, γ, π): a τ change re-derives from it
  at::Tensor logits;          // [T, V] float32, from the requested attention mode
  std::string attention, nearest;
  std::optional<AdaQuality> quality;
  Timings timings;
};

// Throws UsageError (empty ids, τ out of range), Cancelled (between layers).
Run run_model(const CausalLM& model, const RunRequest& request, const JobControl& control = {});

// Mean over every layer and head of AdaQuality::attention_error (0 when there is none).
double mean_attention_error(const AdaQuality& q);

// exp(mean −log p(ids[t+1] | ≤ t)) from logits [T, V].
double perplexity(const at::Tensor& logits, const std::vector<int64_t>& ids);
// Mean over positions of KL(softmax(p) ‖ softmax(q)).
double mean_kl(const at::Tensor& logits_p, const at::Tensor& logits_q);

// Greedy decoding: appends up to `steps` argmax tokens (stops early at `stop_id` when given).
std::vector<int64_t> greedy_generate(const CausalLM& model, std::vector<int64_t> ids, int64_t steps,
                                     std::optional<int64_t> stop_id = std::nullopt,
                                     AttentionMode mode = AttentionMode::Exact, double tau = 0.3,
                                     Rule rule = Rule::PriorMax, NearestRule nearest = NearestRule::Paper,
                                     const JobControl& control = {});

}  // namespace cascade
