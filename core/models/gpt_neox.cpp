// GPT-NeoX / Pythia (HF GPTNeoXForCausalLM): query_key_value fused PER HEAD ([H, 3, hd]), partial
// rotate_half rotary, parallel or serial residual, erf GELU, untied embed_out head.
#include "core/models/common.h"
#include "core/models/config_reader.h"

namespace cascade::models {

// config.json keys of GPTNeoXConfig, its class defaults for the absent ones.
ModelConfig gpt_neox_config(const ConfigReader& c) {
  ModelConfig m;
  m.hidden_size = c.size("hidden_size");
  m.num_layers = c.size("num_hidden_layers");
  m.num_heads = m.num_kv_heads = c.size("num_attention_heads");
  m.head_dim = head_dim_of(c, m.hidden_size, m.num_heads);
  m.intermediate_size = c.size("intermediate_size");
  m.max_positions = c.optional_size("max_position_embeddings").value_or(2048);
  m.norm_eps = c.number("layer_norm_eps", 1e-5);
  m.activation = activation(c, "hidden_act", "gelu");
  const auto rope = c.object("rope_parameters");
  refuse_rope_scaling(c, rope.get());
  const double fraction = rope_number(c, rope.get(), "partial_rotary_factor", {"rotary_pct", "partial_rotary_factor"}, 0.25);
  m.rotary_dim = static_cast<int64_t>(static_cast<double>(m.head_dim) * fraction);  // Python's int(): truncation
  m.rope_theta = rope_number(c, rope.get(), "rope_theta", {"rotary_emb_base", "rope_theta"}, 10000.0);
  m.parallel_residual = c.flag("use_parallel_residual", true);
  m.attention_bias = c.flag("attention_bias", true);
  m.tie_word_embeddings = c.flag("tie_word_embeddings", false);
  check_rotary(c, m);
  return m;
}

namespace {

struct NeoxBlock {
  at::Tensor ln1_w, ln1_b, ln2_w, ln2_b, qkv_w, qkv_b, dense_w, dense_b, up_w, up_b, down_w, down_b;
};

class GptNeox final : public DecoderModel {
 public:
  GptNeox(const ModelConfig& c, const WeightSource& src, at::Device device, at::ScalarType dtype)
      : DecoderModel(c, device, dtype) {
    const WeightLoader w(src, {"gpt_neox.", ""}, device, dtype);
    const int64_t D = c.hidden_size, F = c.intermediate_size;
    embed_ = w.get("embed_in.weight", {c.vocab_size, D});
    for (int64_t i = 0; i < c.num_layers; ++i) {
      const std::string p = "layers." + std::to_string(i) + ".";
      blocks_.push_back({w.get(p + "input_layernorm.weight", {D}), w.get(p + "input_layernorm.bias", {D}),
                         w.get(p + "post_attention_layernorm.weight", {D}),
                         w.get(p + "post_attention_layernorm.bias", {D}),
                         w.get(p + "attention.query_key_value.weight", {3 * D, D}),
                         w.get(p + "attention.query_key_value.bias", {3 * D}),
                         w.get(p + "attention.dense.weight", {D, D}), w.get(p + "attention.dense.bias", {D}),
                         w.get(p + "mlp.dense_h_to_4h.weight", {F, D}), w.get(p + "mlp.dense_h_to_4h.bias", {F}),
                         w.get(p + "mlp.dense_4h_to_h.weight", {D, F}), w.get(p + "mlp.dense_4h_to_h.bias", {D})});
    }
    final_w_ = w.get("final_layer_norm.weight", {D});
    final_b_ = w.get("final_layer_norm.bias", {D});
    head_ = c.tie_word_embeddings ? embed_ : w.get_unprefixed("embed_out.weight", {c.vocab_size, D});
  }

 protected:
  at::Tensor embed(const at::Tensor& ids) const override { return embed_.index_select(0, ids); }
  at::Tensor run_block(const at::Tensor& x, const BlockContext& ctx) const override {
    const NeoxBlock& b = blocks_[ctx.block];
    const int64_t T = x.size(0), H = config_.num_heads, hd = config_.head_dim;
    // [T, 3D] viewed as [T, H, 3·hd]: q, k, v of head 0, then head 1, ...
    const at::Tensor qkv = dense(layer_norm(x, b.ln1_w, b.ln1_b, config_.norm_eps), b.qkv_w, b.qkv_b)
                               .view({T, H, 3 * hd})
                               .transpose(0, 1);
    const at::Tensor q = apply_rotary(qkv.narrow(2, 0, hd).contiguous(), ctx.rotary);
    const at::Tensor k = apply_rotary(qkv.narrow(2, hd, hd).contiguous(), ctx.rotary);
    const at::Tensor v = qkv.narrow(2, 2 * hd, hd).contiguous();
    const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
    const at::Tensor attn = dense(attention(q, k, v, scale, ctx.block, ctx.observer, ctx.plan), b.dense_w, b.dense_b);
    auto mlp = [&](const at::Tensor& in) {
      const at::Tensor n = layer_norm(in, b.ln2_w, b.ln2_b, config_.norm_eps);
      return dense(activate(config_.activation, dense(n, b.up_w, b.up_b)), b.down_w, b.down_b);
    };
    if (config_.parallel_residual) return x + attn + mlp(x);
    const at::Tensor h = x + attn;
    return h + mlp(h);
  }
  at::Tensor final_norm(const at::Tensor& x) const override {
    return layer_norm(x, final_w_, final_b_, config_.norm_eps);
  }
  at::Tensor lm_head(const at::Tensor& h) const override { return dense(h, head_); }

 private:
  at::Tensor embed_, final_w_, final_b_, head_;
  std::vector<NeoxBlock> blocks_;
};

}  // namespace

std::unique_ptr<CausalLM> make_gpt_neox(const ModelConfig& c, const WeightSource& src, at::Device device,
                                        at::ScalarType dtype) {
  return std::make_unique<GptNeox>(c, src, device, dtype);
}

}  // namespace cascade::models
