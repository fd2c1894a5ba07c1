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

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "core/model_config.h"
#include "core/selection.h"
#include "core/weights.h"

namespace cascade {

// How one block's scores are formed: softmax(cap(q kᵀ · scale) + mask), the mask causal and, with a
// window W > 0, also hiding keys W or more positions back (each query sees W keys, itself included).
struct AttentionShape {
  double scale = 1.0;
  int64_t window = 0;
  double softcap = 0;  // 0 = off
};
// The block's pre-softmax scores cap(q kᵀ · scale) in float32, masked keys −∞: [H, T, T] for q, k [H, T, hd].
at::Tensor masked_scores(const at::Tensor& q, const at::Tensor& k, const AttentionShape& shape);

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
  // The same with the block's score shape (scale, window, soft-cap); by default the call above.
  virtual void on_attention(int64_t block, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const at::Tensor& probs, const AttentionShape& shape) {
    on_attention(block, q, k, v, probs);
  }
  // Under ADA attention: per head, ‖ADA − exact‖_F / ‖exact‖_F of the block's attention output
  // computed from the same q/k/v (SPEC §5 quality).
  virtual bool wants_ada_error(int64_t block) const { return false; }
  virtual void on_ada_error(int64_t block, const std::vector<double>& per_head) {}
};

// ADA attention (SPEC §5) for one block: attention runs over the representatives only, and every
// token takes the output of `nearest[t]` (itself when it is a representative).
// Element-level attention (SPEC §7 top-k, top-theta): per query only some keys, softmax over them.
struct ElementPlan {
  enum class Kind { TopK, TopTheta } kind = Kind::TopK;
  int64_t k = 1;              // top-k: keys kept per query
  std::vector<double> theta;  // top-theta: one threshold per head
};
struct AdaPlan {
  TokenSet reps;
  std::vector<int64_t> nearest;  // size T
  // Instead of reps: element-level attention.
  std::optional<ElementPlan> element;
  // Instead of reps given up front: chosen inside the block from its exact attention (the attention
  // methods of SPEC §7); fills reps and nearest of the plan it is given. k [H, T, hd], probs [H, T, T].
  std::function<void(const at::Tensor& k, const at::Tensor& probs, AdaPlan& plan)> choose;
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
