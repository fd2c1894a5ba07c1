#pragma once
// Training a small GPT-2 with LibTorch (the bundled demo model). The trainable model keeps its
// parameters under HF GPT2LMHeadModel names and shapes (Conv1D weights [in, out], fused c_attn with
// q | k | v blocks, tied head), so the trained weights load through make_model() exactly like a real
// checkpoint — in memory via TensorMapWeights, or after being written as safetensors by data/.
//
// Determinism: one call is seeded (torch::manual_seed for the init, a std::mt19937_64 for batch
// windows). A checkpoint holds the weights, the AdamW state, the step and the batch RNG state, so a
// run resumed from it ends with the same weights as an uninterrupted one (same machine, same threads).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/model_config.h"
#include "core/progress.h"
#include "core/weights.h"

namespace cascade {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// A GPT-2 ModelConfig as HF's GPT2Config would give it: head_dim d/H, MLP 4·d, gelu_new, eps 1e-5,
// tied head.
ModelConfig gpt2_config(int64_t vocab_size, int64_t hidden_size, int64_t num_layers, int64_t num_heads,
                        int64_t max_positions, const std::string& name = "cascade-demo-gpt2");

struct TrainConfig {
  ModelConfig model;  // model_type "gpt2", tie_word_embeddings true (see gpt2_config)
  int64_t batch_size = 16;
  int64_t seq_len = 256;  // ≤ model.max_positions
  int64_t steps = 1000;   // total optimizer steps (a resumed run continues up to this)
  int64_t warmup_steps = 50;
  double lr = 3e-3;
  double min_lr_ratio = 0.1;  // cosine decays to min_lr_ratio · lr at the last step
  double weight_decay = 0.1;  // on ≥2-D parameters except the embeddings
  double grad_clip = 1.0;     // global L2 norm; ≤ 0 disables
  uint64_t seed = 1;
  int64_t eval_every = 100;  // ≤ 0: only at the end
  int64_t eval_batches = 8;
  int64_t checkpoint_every = 200;  // ≤ 0: only at the end (when checkpoint_path is set)
  std::string checkpoint_path;     // empty: no checkpoints; existing file: resume from it
};

struct TrainProgress {
  int64_t step = 0;  // steps completed (1-based after the first step)
  int64_t steps = 0;
  double train_loss = 0;
  double val_loss = 0;  // NaN if not evaluated at this step
  double lr = 0;        // learning rate used for this step
  double tokens_per_second = 0;  // of this call so far (training steps only)
};

struct TrainResult {
  double train_loss = 0;  // loss of the last step (NaN if this call ran no step)
  double val_loss = 0;    // on the validation stream at the end (NaN if val_ids is too short)
  int64_t start_step = 0;  // > 0 when resumed from a checkpoint
  int64_t steps = 0;       // total steps completed
  double wall_seconds = 0;
  double tokens_per_second = 0;
  NamedTensors weights;  // HF names (transformer.*), float32 CPU, contiguous; tied lm_head omitted
};

// Trains (or resumes) a GPT-2 on next-token prediction over `train_ids`, sampling random windows of
// seq_len + 1 tokens. Throws UsageError for a bad config or a stream shorter than seq_len + 1 or ids
// outside the vocabulary, InputError for an unreadable/mismatched checkpoint, Cancelled (between
// steps, after the last checkpoint was fully written) when control.cancel is raised.
TrainResult train_gpt2(const TrainConfig& config, const std::vector<int64_t>& train_ids,
                       const std::vector<int64_t>& val_ids, const JobControl& control = {},
                       const std::function<void(const TrainProgress&)>& on_progress = {});

// The number of completed steps stored in a checkpoint (throws InputError if it cannot be read).
int64_t checkpoint_step(const std::string& path);
// The weights stored in a checkpoint, in HF names (as TrainResult::weights).
NamedTensors checkpoint_weights(const std::string& path);

// The trainable model on its own (for tests and tools): seeded GPT-2 init (matrices N(0, 0.02),
// residual projections N(0, 0.02/√(2L)), norms 1, biases 0).
class TrainableGpt2 {
 public:
  TrainableGpt2(const ModelConfig& config, uint64_t seed);
  ~TrainableGpt2();
  TrainableGpt2(TrainableGpt2&&) noexcept;
  TrainableGpt2& operator=(TrainableGpt2&&) noexcept;
  // ids [B, T] int64 → logits [B, T, V] float32 (autograd enabled unless under NoGradGuard).
  at::Tensor forward(const at::Tensor& ids) const;
  // Mean next-token cross-entropy of windows [B, T+1].
  at::Tensor loss(const at::Tensor& windows) const;
  NamedTensors export_weights() const;  // detached copies, HF names, tied head omitted
  void load_weights(const NamedTensors& weights);  // throws InputError on a missing name or shape
  const ModelConfig& config() const;

  struct Impl;  // internal (train_demo/train.cpp)
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// A WeightSource over tensors in memory (e.g. TrainResult::weights), so make_model() can build the
// inference model from freshly trained weights without a file.
class TensorMapWeights final : public WeightSource {
 public:
  explicit TensorMapWeights(NamedTensors tensors, std::string description = "trained weights (in memory)");
  bool has(const std::string& name) const override;
  at::Tensor get(const std::string& name) const override;  // throws InputError when missing
  std::vector<std::string> names() const override;
  std::string describe() const override { return description_; }

 private:
  NamedTensors tensors_;
  std::map<std::string, size_t> index_;
  std::string description_;
};

}  // namespace cascade
