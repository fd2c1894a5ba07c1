// Llama (HF LlamaForCausalLM): RMSNorm, rotate_half rotary over the whole head with rope_theta,
// grouped-query attention (kv head j serves query heads j·n_rep … j·n_rep + n_rep − 1), SwiGLU MLP.
#include "core/models/common.h"
#include "core/models/config_reader.h"

namespace cascade::models {

// config.json keys of LlamaConfig, its class defaults for the absent ones.
ModelConfig llama_config(const ConfigReader& c) {
  ModelConfig m;
  m.hidden_size = c.size("hidden_size");
  m.num_layers = c.size("num_hidden_layers");
  m.num_heads = c.size("num_attention_heads");
  m.num_kv_heads = c.optional_size("num_key_value_heads").value_or(m.num_heads);
  if (m.num_heads % m.num_kv_heads != 0)
    c.fail(std::to_string(m.num_heads) + " attention heads cannot share " + std::to_string(m.num_kv_heads) +
           " key/value heads evenly");
  const auto explicit_head_dim = c.optional_size("head_dim");
  m.head_dim = explicit_head_dim ? *explicit_head_dim : head_dim_of(c, m.hidden_size, m.num_heads);
  m.intermediate_size = c.size("intermediate_size");
  m.max_positions = c.optional_size("max_position_embeddings").value_or(2048);
  m.norm_eps = c.number("rms_norm_eps", 1e-6);
  m.activation = activation(c, "hidden_act", "silu");
  const auto rope = c.object("rope_parameters");
  refuse_rope_scaling(c, rope.get());
  m.rope_theta = rope_number(c, rope.get(), "rope_theta", {"rope_theta"}, 10000.0);
  m.rotary_dim = m.head_dim;
  m.attention_bias = c.flag("attention_bias", false);
  m.mlp_bias = c.flag("mlp_bias", false);
  m.tie_word_embeddings = c.flag("tie_word_embeddings", false);
  check_rotary(c, m);
  return m;
}

namespace {

struct LlamaBlock {
  at::Tensor ln1_w, q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b, ln2_w, gate_w, gate_b, up_w, up_b, down_w, down_b;
};

class Llama final : public DecoderModel {
 public:
  Llama(const ModelConfig& c, const WeightSource& src, at::Device device, at::ScalarType dtype)
      : DecoderModel(c, device, dtype) {
    const WeightLoader w(src, {"model.", ""}, device, dtype);
    const int64_t D = c.hidden_size, F = c.intermediate_size, Q = c.num_heads * c.head_dim,
                  KV = c.num_kv_heads * c.head_dim;
    auto bias = [&](bool present, const std::string& name, int64_t n) {
      return present ? w.get(name, {n}) : at::Tensor();
    };
    embed_ = w.get("embed_tokens.weight", {c.vocab_size, D});
    for (int64_t i = 0; i < c.num_layers; ++i) {
      const std::string p = "layers." + std::to_string(i) + ".";
      const std::string a = p + "self_attn.", m = p + "mlp.";
      blocks_.push_back({w.get(p + "input_layernorm.weight", {D}), w.get(a + "q_proj.weight", {Q, D}),
                         bias(c.attention_bias, a + "q_proj.bias", Q), w.get(a + "k_proj.weight", {KV, D}),
                         bias(c.attention_bias, a + "k_proj.bias", KV), w.get(a + "v_proj.weight", {KV, D}),
                         bias(c.attention_bias, a + "v_proj.bias", KV), w.get(a + "o_proj.weight", {D, Q}),
                         bias(c.attention_bias, a + "o_proj.bias", D), w.get(p + "post_attention_layernorm.weight", {D}),
                         w.get(m + "gate_proj.weight", {F, D}), bias(c.mlp_bias, m + "gate_proj.bias", F),
                         w.get(m + "up_proj.weight", {F, D}), bias(c.mlp_bias, m + "up_proj.bias", F),
                         w.get(m + "down_proj.weight", {D, F}), bias(c.mlp_bias, m + "down_proj.bias", D)});
    }
    norm_w_ = w.get("norm.weight", {D});
    head_ = c.tie_word_embeddings ? embed_ : w.get_unprefixed("lm_head.weight", {c.vocab_size, D});
  }

 protected:
  at::Tensor embed(const at::Tensor& ids) const override { return embed_.index_select(0, ids); }
  at::Tensor run_block(const at::Tensor& x, const BlockContext& ctx) const override {
    const LlamaBlock& b = blocks_[ctx.block];
    const int64_t H = config_.num_heads, KVH = config_.num_kv_heads, rep = H / KVH;
    const at::Tensor n = rms_norm(x, b.ln1_w, config_.norm_eps);
    const at::Tensor q = apply_rotary(split_heads(dense(n, b.q_w, b.q_b), H), ctx.rotary);
    // repeat_interleave on the head axis (HF repeat_kv), not tiling.
    const at::Tensor k = apply_rotary(split_heads(dense(n, b.k_w, b.k_b), KVH), ctx.rotary).repeat_interleave(rep, 0);
    const at::Tensor v = split_heads(dense(n, b.v_w, b.v_b), KVH).repeat_interleave(rep, 0);
    const double scale = 1.0 / std::sqrt(static_cast<double>(config_.head_dim));
    const at::Tensor h = x + dense(attention(q, k, v, scale, ctx.block, ctx.observer, ctx.plan), b.o_w, b.o_b);
    const at::Tensor m = rms_norm(h, b.ln2_w, config_.norm_eps);
    const at::Tensor gated = activate(config_.activation, dense(m, b.gate_w, b.gate_b)) * dense(m, b.up_w, b.up_b);
    return h + dense(gated, b.down_w, b.down_b);
  }
  at::Tensor final_norm(const at::Tensor& x) const override { return rms_norm(x, norm_w_, config_.norm_eps); }
  at::Tensor lm_head(const at::Tensor& h) const override { return dense(h, head_); }

 private:
  at::Tensor embed_, norm_w_, head_;
  std::vector<LlamaBlock> blocks_;
};

}  // namespace

std::unique_ptr<CausalLM> make_llama(const ModelConfig& c, const WeightSource& src, at::Device device,
                                     at::ScalarType dtype) {
  return std::make_unique<Llama>(c, src, device, dtype);
}

}  // namespace cascade::models
