// GPT-2 (HF GPT2LMHeadModel): learned positions, pre-LN blocks, Conv1D weights [in, out], fused
// c_attn with q | k | v blocks, gelu_new, tied head by default.
#include "core/models/common.h"
#include "core/models/config_reader.h"

namespace cascade::models {

// config.json keys of GPT2Config, its class defaults for the absent ones.
ModelConfig gpt2_config(const ConfigReader& c) {
  ModelConfig m;
  m.hidden_size = c.size("n_embd");
  m.num_layers = c.size("n_layer");
  m.num_heads = m.num_kv_heads = c.size("n_head");
  m.head_dim = head_dim_of(c, m.hidden_size, m.num_heads);
  m.intermediate_size = c.optional_size("n_inner").value_or(4 * m.hidden_size);
  m.max_positions = c.optional_size("n_positions").value_or(1024);
  m.norm_eps = c.number("layer_norm_epsilon", 1e-5);
  m.activation = activation(c, "activation_function", "gelu_new");
  m.scale_attn_by_inverse_layer_idx = c.flag("scale_attn_by_inverse_layer_idx", false);
  if (!c.flag("scale_attn_weights", true)) c.fail("scale_attn_weights false (unscaled attention) is not supported");
  m.tie_word_embeddings = c.flag("tie_word_embeddings", true);
  return m;
}

namespace {

struct Gpt2Block {
  at::Tensor ln1_w, ln1_b, attn_w, attn_b, proj_w, proj_b, ln2_w, ln2_b, fc_w, fc_b, out_w, out_b;
};

class Gpt2 final : public DecoderModel {
 public:
  Gpt2(const ModelConfig& c, const WeightSource& src, at::Device device, at::ScalarType dtype)
      : DecoderModel(c, device, dtype) {
    const WeightLoader w(src, {"transformer.", ""}, device, dtype);
    const int64_t D = c.hidden_size, F = c.intermediate_size;
    wte_ = w.get("wte.weight", {c.vocab_size, D});
    wpe_ = w.get("wpe.weight", {c.max_positions, D});
    for (int64_t i = 0; i < c.num_layers; ++i) {
      const std::string p = "h." + std::to_string(i) + ".";
      blocks_.push_back({w.get(p + "ln_1.weight", {D}), w.get(p + "ln_1.bias", {D}),
                         w.get(p + "attn.c_attn.weight", {D, 3 * D}), w.get(p + "attn.c_attn.bias", {3 * D}),
                         w.get(p + "attn.c_proj.weight", {D, D}), w.get(p + "attn.c_proj.bias", {D}),
                         w.get(p + "ln_2.weight", {D}), w.get(p + "ln_2.bias", {D}),
                         w.get(p + "mlp.c_fc.weight", {D, F}), w.get(p + "mlp.c_fc.bias", {F}),
                         w.get(p + "mlp.c_proj.weight", {F, D}), w.get(p + "mlp.c_proj.bias", {D})});
    }
    lnf_w_ = w.get("ln_f.weight", {D});
    lnf_b_ = w.get("ln_f.bias", {D});
    head_ = c.tie_word_embeddings ? wte_ : w.get_unprefixed("lm_head.weight", {c.vocab_size, D});
  }

 protected:
  at::Tensor embed(const at::Tensor& ids) const override {
    return wte_.index_select(0, ids) + wpe_.narrow(0, 0, ids.size(0));
  }
  at::Tensor run_block(const at::Tensor& x, const BlockContext& ctx) const override {
    const Gpt2Block& b = blocks_[ctx.block];
    const int64_t D = config_.hidden_size, H = config_.num_heads;
    // Conv1D: y = x W + b with W [in, out].
    const at::Tensor qkv = at::addmm(b.attn_b, layer_norm(x, b.ln1_w, b.ln1_b, config_.norm_eps), b.attn_w);
    double scale = 1.0 / std::sqrt(static_cast<double>(config_.head_dim));
    if (config_.scale_attn_by_inverse_layer_idx) scale /= static_cast<double>(ctx.block + 1);
    const at::Tensor a = attention(split_heads(qkv.narrow(1, 0, D), H), split_heads(qkv.narrow(1, D, D), H),
                                   split_heads(qkv.narrow(1, 2 * D, D), H), scale, ctx.block, ctx.observer, ctx.plan);
    const at::Tensor h = x + at::addmm(b.proj_b, a, b.proj_w);
    const at::Tensor m = at::addmm(b.fc_b, layer_norm(h, b.ln2_w, b.ln2_b, config_.norm_eps), b.fc_w);
    return h + at::addmm(b.out_b, activate(config_.activation, m), b.out_w);
  }
  at::Tensor final_norm(const at::Tensor& x) const override { return layer_norm(x, lnf_w_, lnf_b_, config_.norm_eps); }
  at::Tensor lm_head(const at::Tensor& h) const override { return dense(h, head_); }

 private:
  at::Tensor wte_, wpe_, lnf_w_, lnf_b_, head_;
  std::vector<Gpt2Block> blocks_;
};

}  // namespace

std::unique_ptr<CausalLM> make_gpt2(const ModelConfig& c, const WeightSource& src, at::Device device,
                                    at::ScalarType dtype) {
  return std::make_unique<Gpt2>(c, src, device, dtype);
}

}  // namespace cascade::models
