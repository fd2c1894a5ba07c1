#pragma once
// Building blocks shared by the architecture files: weight lookup with HF name prefixes, norms,
// activations, rotary embeddings, causal attention (exact or ADA) and the forward skeleton.
// Internal to core/ — include only from core/models/*.cpp.
#include <ATen/ATen.h>

#include <optional>
#include <string>
#include <vector>

#include "core/model.h"

namespace cascade::models {

// Fetches tensors by HF name, trying each prefix ("transformer.", "" ...), checking the shape and
// converting to the model's device and dtype.
class WeightLoader {
 public:
  WeightLoader(const WeightSource& source, std::vector<std::string> prefixes, at::Device device, at::ScalarType dtype);
  at::Tensor get(const std::string& name, at::IntArrayRef shape) const;  // throws InputError
  at::Tensor get_unprefixed(const std::string& name, at::IntArrayRef shape) const;  // lm_head, embed_out
  bool has_unprefixed(const std::string& name) const { return source_.has(name); }

 private:
  std::optional<std::string> resolve(const std::string& name) const;
  at::Tensor convert(const std::string& full_name, at::IntArrayRef shape) const;
  const WeightSource& source_;
  std::vector<std::string> prefixes_;
  at::Device device_;
  at::ScalarType dtype_;
};

at::Tensor layer_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps);
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);
// Gemma's RMSNorm: the stored weight is an offset, scale (1 + w), applied in float32 before the cast back.
at::Tensor rms_norm_offset(const at::Tensor& x, const at::Tensor& weight, double eps);
at::Tensor soft_cap(const at::Tensor& x, double cap);  // tanh(x / cap)·cap; cap 0 = x
// y = x Wᵀ + b for nn.Linear weights [out, in]; bias may be undefined.
at::Tensor dense(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias = {});
at::Tensor activate(const std::string& name, const at::Tensor& x);  // gelu_new | gelu | relu | silu

// cos/sin tables for `dims` rotated dimensions per head, positions 0..T-1.
struct Rotary {
  int64_t dims = 0;
  bool interleaved = false;  // gptj pairs (2i, 2i+1); otherwise rotate_half (i, i + dims/2)
  at::Tensor cos, sin;       // [T, dims/2], float32 on the model's device
};
// `scaling` changes the inverse frequencies (linear, llama3), never the positions.
Rotary make_rotary(int64_t T, int64_t dims, double theta, bool interleaved, at::Device device,
                   const RopeScaling& scaling = {});
at::Tensor apply_rotary(const at::Tensor& x, const Rotary& rot);  // x [H, T, hd]

// [T, H·hd] → [H, T, hd] and back.
at::Tensor split_heads(const at::Tensor& x, int64_t heads);
at::Tensor merge_heads(const at::Tensor& x);

using cascade::AttentionShape;  // core/model.h

// Causal attention of one block. q, k, v: [H, T, hd] (k, v already expanded to H heads). With a
// plan, attention runs over the plan's representatives and each token copies its nearest rep's
// output (SPEC §5). Reports q/k/v/probs to the observer when it asks. Returns [T, H·hd].
at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const AttentionShape& shape,
                     int64_t block, ForwardObserver* observer, const std::optional<AdaPlan>& plan);
inline at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale,
                            int64_t block, ForwardObserver* observer, const std::optional<AdaPlan>& plan) {
  return attention(q, k, v, AttentionShape{scale}, block, observer, plan);
}

// The forward pass every architecture shares; subclasses supply the four pieces.
class DecoderModel : public CausalLM {
 public:
  DecoderModel(ModelConfig config, at::Device device, at::ScalarType dtype);
  const ModelConfig& config() const override { return config_; }
  at::Device device() const override { return device_; }
  at::ScalarType dtype() const override { return dtype_; }
  at::Tensor forward(const at::Tensor& ids, ForwardObserver* observer, AttentionPlanner* planner) const override;

 protected:
  struct BlockContext {
    int64_t block;
    ForwardObserver* observer;
    const std::optional<AdaPlan>& plan;
    const Rotary& rotary;  // the layer's table (gemma3: the local one on sliding layers)
  };
  virtual at::Tensor embed(const at::Tensor& ids) const = 0;                          // [T, d]
  virtual at::Tensor run_block(const at::Tensor& x, const BlockContext& ctx) const = 0;  // new residual
  virtual at::Tensor final_norm(const at::Tensor& x) const = 0;
  virtual at::Tensor lm_head(const at::Tensor& h) const = 0;

  ModelConfig config_;
  at::Device device_;
  at::ScalarType dtype_;
};

}  // namespace cascade::models
