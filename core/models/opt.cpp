// OPT (HF OPTForCausalLM), pre-LN variants: learned positions offset by 2, q scaled after q_proj
// (here: by the attention scale, which is the same product), ReLU MLP, final decoder norm, tied head.
#include "core/models/common.h"
#include "core/models/config_reader.h"

namespace cascade::models {

// config.json keys of OPTConfig, its class defaults for the absent ones.
ModelConfig opt_config(const ConfigReader& c) {
  ModelConfig m;
  m.hidden_size = c.size("hidden_size");
  m.num_layers = c.size("num_hidden_layers");
  m.num_heads = m.num_kv_heads = c.size("num_attention_heads");
  m.head_dim = head_dim_of(c, m.hidden_size, m.num_heads);
  m.intermediate_size = c.size("ffn_dim");
  m.max_positions = c.optional_size("max_position_embeddings").value_or(2048);
  m.do_layer_norm_before = c.flag("do_layer_norm_before", true);
  const int64_t projection = c.optional_size("word_embed_proj_dim").value_or(m.hidden_size);
  if (!m.do_layer_norm_before || projection != m.hidden_size)
    c.fail("post-LN OPT (opt-350m) is not supported (do_layer_norm_before " +
           std::string(m.do_layer_norm_before ? "true" : "false") + ", word_embed_proj_dim " +
           std::to_string(projection) + ", hidden_size " + std::to_string(m.hidden_size) + ")");
  if (c.flag("_remove_final_layer_norm", false)) c.fail("OPT without its final layer norm is not supported");
  if (!c.flag("enable_bias", true)) c.fail("OPT with enable_bias false is not supported");
  if (!c.flag("layer_norm_elementwise_affine", true))
    c.fail("OPT with layer_norm_elementwise_affine false is not supported");
  m.norm_eps = 1e-5;  // OPT's LayerNorms ignore any eps in the config
  m.activation = activation(c, "activation_function", "relu");
  m.tie_word_embeddings = c.flag("tie_word_embeddings", true);
  return m;
}

namespace {

struct OptBlock {
  at::Tensor ln1_w, ln1_b, q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b, ln2_w, ln2_b, fc1_w, fc1_b, fc2_w, fc2_b;
};

constexpr int64_t kPositionOffset = 2;  // OPTLearnedPositionalEmbedding

class Opt final : public DecoderModel {
 public:
  Opt(const ModelConfig& c, const WeightSource& src, at::Device device, at::ScalarType dtype)
      : DecoderModel(c, device, dtype) {
    const WeightLoader w(src, {"model.decoder.", "decoder."}, device, dtype);
    const int64_t D = c.hidden_size, F = c.intermediate_size;
    embed_ = w.get("embed_tokens.weight", {c.vocab_size, D});
    positions_ = w.get("embed_positions.weight", {c.max_positions + kPositionOffset, D});
    for (int64_t i = 0; i < c.num_layers; ++i) {
      const std::string p = "layers." + std::to_string(i) + ".";
      const std::string a = p + "self_attn.";
      blocks_.push_back({w.get(p + "self_attn_layer_norm.weight", {D}), w.get(p + "self_attn_layer_norm.bias", {D}),
                         w.get(a + "q_proj.weight", {D, D}), w.get(a + "q_proj.bias", {D}),
                         w.get(a + "k_proj.weight", {D, D}), w.get(a + "k_proj.bias", {D}),
                         w.get(a + "v_proj.weight", {D, D}), w.get(a + "v_proj.bias", {D}),
                         w.get(a + "out_proj.weight", {D, D}), w.get(a + "out_proj.bias", {D}),
                         w.get(p + "final_layer_norm.weight", {D}), w.get(p + "final_layer_norm.bias", {D}),
                         w.get(p + "fc1.weight", {F, D}), w.get(p + "fc1.bias", {F}),
                         w.get(p + "fc2.weight", {D, F}), w.get(p + "fc2.bias", {D})});
    }
    final_w_ = w.get("final_layer_norm.weight", {D});
    final_b_ = w.get("final_layer_norm.bias", {D});
    head_ = c.tie_word_embeddings ? embed_ : w.get_unprefixed("lm_head.weight", {c.vocab_size, D});
  }

 protected:
  at::Tensor embed(const at::Tensor& ids) const override {
    // No padding: position index = cumsum(mask)·mask − 1 + 2 = t + 2.
    return embed_.index_select(0, ids) + positions_.narrow(0, kPositionOffset, ids.size(0));
  }
  at::Tensor run_block(const at::Tensor& x, const BlockContext& ctx) const override {
    const OptBlock& b = blocks_[ctx.block];
    const int64_t H = config_.num_heads;
    const at::Tensor n = layer_norm(x, b.ln1_w, b.ln1_b, 1e-5);
    const double scale = 1.0 / std::sqrt(static_cast<double>(config_.head_dim));
    const at::Tensor a = attention(split_heads(dense(n, b.q_w, b.q_b), H), split_heads(dense(n, b.k_w, b.k_b), H),
                                   split_heads(dense(n, b.v_w, b.v_b), H), scale, ctx.block, ctx.observer, ctx.plan);
    const at::Tensor h = x + dense(a, b.o_w, b.o_b);
    const at::Tensor m = dense(layer_norm(h, b.ln2_w, b.ln2_b, 1e-5), b.fc1_w, b.fc1_b);
    return h + dense(activate(config_.activation, m), b.fc2_w, b.fc2_b);
  }
  at::Tensor final_norm(const at::Tensor& x) const override { return layer_norm(x, final_w_, final_b_, 1e-5); }
  at::Tensor lm_head(const at::Tensor& h) const override { return dense(h, head_); }

 private:
  at::Tensor embed_, positions_, final_w_, final_b_, head_;
  std::vector<OptBlock> blocks_;
};

}  // namespace

std::unique_ptr<CausalLM> make_opt(const ModelConfig& c, const WeightSource& src, at::Device device,
                                   at::ScalarType dtype) {
  return std::make_unique<Opt>(c, src, device, dtype);
}

}  // namespace cascade::models
