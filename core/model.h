#pragma once
// A causal language model that Cascade Lens can run and look into.
//
// One class per architecture (core/models/*.cpp), all sharing one forward skeleton: embed → blocks →
// final norm → LM head, with one observer hook that sees the residual stream entering every block
// (SPEC §1 layer l) and, on request, a block's per-head q/k/v (after rotary) and attention
// probabilities. An optional AttentionPlanner turns exact attention into ADA attention (SPEC §5).
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <memory>
#include <optional>
#include <vector>

#include "core/model_config.h"
#include "core/selection.h"
#include "core/weights.h"

namespace cascade {

class ForwardObserver {
 public:
  virtual ~ForwardObserver() = default;
  // The residual stream entering block `layer` ([T, d], model dtype), layer = 0..L-1, then the
  // final residual (layer = L, before the final norm).
  virtual void on_residual(int64_t layer, const at::Tensor& x) {}
  // HF's last hidden_states entry: the final residual with the final norm applied.
  virtual void on_final_norm(const at::Tensor& h) {}
  virtual bool wants_attention(int64_t block) const { return false; }
  // q, k, v: [H, T, hd] as they enter QKᵀ and PV (after rotary; k/v expanded to H heads under GQA;
  // q unscaled). probs: [H, T, T] softmax probabilities of exact attention.
  virtual void on_attention(int64_t block, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const at::Tensor& probs) {}
  // Under ADA attention: per head, ‖ADA − exact‖_F / ‖exact‖_F of the block's attention output
  // computed from the same q/k/v (SPEC §5 quality).
  virtual bool wants_ada_error(int64_t block) const { return false; }
  virtual void on_ada_error(int64_t block, const std::vector<double>& per_head) {}
};

// ADA attention (SPEC §5) for one block: attention runs over the representatives only, and every
// token takes the output of `nearest[t]` (itself when it is a representative).
struct AdaPlan {
  TokenSet reps;
  std::vector<int64_t> nearest;  // size T
};

// Decides, block by block, whether and how attention is approximated. Called with the residual
// entering the block, before the block runs (so the cascade can carry its set across blocks).
class AttentionPlanner {
 public:
  virtual ~AttentionPlanner() = default;
  virtual std::optional<AdaPlan> plan(int64_t block, const at::Tensor& residual) = 0;
};

class CausalLM {
 public:
  virtual ~CausalLM() = default;
  virtual const ModelConfig& config() const = 0;
  virtual at::Device device() const = 0;
  virtual at::ScalarType dtype() const = 0;
  // ids: [T] int64. Returns logits [T, V] as float32 on the CPU.
  virtual at::Tensor forward(const at::Tensor& ids, ForwardObserver* observer = nullptr,
                             AttentionPlanner* planner = nullptr) const = 0;
};

// Builds the architecture named by config.model_type from `weights` (tensor names as HF writes them,
// with or without the *ForCausalLM prefix). Throws InputError for a missing tensor or a shape that
// disagrees with the config, UsageError for an unsupported device/dtype.
std::unique_ptr<CausalLM> make_model(const ModelConfig& config, const WeightSource& weights,
                                     at::Device device = at::kCPU, at::ScalarType dtype = at::kFloat);

}  // namespace cascade
