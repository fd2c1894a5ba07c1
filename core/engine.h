#pragma once
// run_model: one model over one text → the run's RunRecord (core/run_record.h): tokens, the τ-free
// cache, the analysis at the requested τ, the sweep, optional ADA quality, timings and the forward
// pass's tensors. Headless; the CLI, the GUI and the tests share it.
#include <ATen/core/Tensor.h>

#include <optional>
#include <string>
#include <vector>

#include "core/activations.h"
#include "core/ada.h"
#include "core/defaults.h"
#include "core/model.h"
#include "core/progress.h"
#include "core/run_record.h"

namespace cascade {

struct RunRequest {
  std::vector<int64_t> ids;          // already tokenized (BOS included where the model wants it)
  std::vector<std::string> tokens;   // display strings, empty or one per id
  double tau = kDefaultTau;
  Rule rule = Rule::PriorMax;
  AttentionMode attention = AttentionMode::Exact;
  NearestRule nearest = NearestRule::Paper;
  LayerRange layers;                 // which layers the analysis covers (all by default)
  bool quality = false;              // ADA quality vs exact: attention error, perplexity, KL
  std::vector<double> sweep_taus;    // the τ sweep kept in the record (ascending; may be empty)
  bool quality_sweep = false;        // ADA error and ΔPPL at every τ of the sweep (one ADA pass per τ)
  bool keep_capture = false;         // keep the forward pass's tensors in record.capture (--dump-activations)
  int64_t tile = kDefaultTile;
  int64_t gram_cache_bytes = 0;      // > 0: the Analyzer keeps |Gram| per layer when it fits (GUI τ slider)
  // What the record says about where the run came from (the engine knows only the model's config).
  std::string source;                  // display label; the model's name when empty
  std::string text;                    // the text the ids came from
  std::optional<ModelIdentity> model;  // with hash and revision (data::model_identity); else from the config
};

// Throws UsageError (empty ids, τ out of range), Cancelled (between layers).
RunRecord run_model(const CausalLM& model, const RunRequest& request, const JobControl& control = {});

// ADA-cascade quality at every τ of record.sweep (ada_error and delta_ppl of each entry): one ADA
// pass per τ, on the record's ids with the sweep's rule and the request's nearest rule, and one exact
// pass unless `ppl_exact` (the exact perplexity of those ids) is given.
void measure_quality_sweep(const CausalLM& model, const RunRequest& request, RunRecord& record,
                           const JobControl& control = {}, std::optional<double> ppl_exact = std::nullopt);

// One ADA pass in `mode` (ada-cascade or ada-independent) at τ on `ids`, against the exact pass's
// logits: the per-head attention errors, the two perplexities and the mean KL (what run --ppl
// reports for that mode, without a second exact pass).
AdaQuality ada_quality(const CausalLM& model, const std::vector<int64_t>& ids, AttentionMode mode, double tau, Rule rule,
                       NearestRule nearest, const at::Tensor& exact_logits, const JobControl& control = {});

// A model's name, type and shape (no hash or revision: data::model_identity adds those).
ModelIdentity identity_of(const ModelConfig& config);

// AdaCascade for an exact run (what its quality numbers compare), else the run's own mode.
AttentionMode quality_mode_of(AttentionMode attention);

// exp(mean −log p(ids[t+1] | ≤ t)) from logits [T, V].
double perplexity(const at::Tensor& logits, const std::vector<int64_t>& ids);
// Mean over positions of KL(softmax(p) ‖ softmax(q)).
double mean_kl(const at::Tensor& logits_p, const at::Tensor& logits_q);

// Greedy decoding: appends up to `steps` argmax tokens (stops early at `stop_id` when given).
std::vector<int64_t> greedy_generate(const CausalLM& model, std::vector<int64_t> ids, int64_t steps,
                                     std::optional<int64_t> stop_id = std::nullopt,
                                     AttentionMode mode = AttentionMode::Exact, double tau = kDefaultTau,
                                     Rule rule = Rule::PriorMax, NearestRule nearest = NearestRule::Paper,
                                     const JobControl& control = {});

}  // namespace cascade
