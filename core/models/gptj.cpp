// GPT-J (HF GPTJForCausalLM): one LayerNorm per block feeding attention and MLP in parallel,
// interleaved rotary on the first rotary_dim dims, no q/k/v/out biases, untied head with a bias.
#include "core/models/common.h"
#include "core/models/config_reader.h"

namespace cascade::models {

// config.json keys of GPTJConfig, its class defaults for the absent ones.
ModelConfig gptj_config(const ConfigReader& c) {
  ModelConfig m;
  m.hidden_size = c.size("n_embd");
  m.num_layers = c.size("n_layer");
  m.num_heads = m.num_kv_heads = c.size("n_head");
  m.head_dim = head_dim_of(c, m.hidden_size, m.num_heads);
  m.intermediate_size = c.optional_size("n_inner").value_or(4 * m.hidden_size);
  m.max_positions = c.optional_size("n_positions").value_or(2048);
  m.norm_eps = c.number("layer_norm_epsilon", 1e-5);
  m.activation = activation(c, "activation_function", "gelu_new");
  // Absent: GPTJConfig's default 64; null: rotate the whole head.
  m.rotary_dim = c.optional_size("rotary_dim").value_or(c.written("rotary_dim") ? m.head_dim : 64);
  m.rope_theta = 10000.0;  // fixed in GPT-J
  m.rotary_interleaved = true;
  m.parallel_residual = true;
  m.tie_word_embeddings = c.flag("tie_word_embeddings", false);
  check_rotary(c, m);
  return m;
}

namespace {

struct GptjBlock {
  at::Tensor ln_w, ln_b, q_w, k_w, v_w, o_w, fc_in_w, fc_in_b, fc_out_w, fc_out_b;
};

class Gptj final : public DecoderModel {
 public:
  Gptj(const ModelConfig& c, const WeightSource& src, at::Device device, at::ScalarType dtype)
      : DecoderModel(c, device, dtype) {
    const WeightLoader w(src, {"transformer.", ""}, device, dtype);
    const int64_t D = c.hidden_size, F = c.intermediate_size;
    wte_ = w.get("wte.weight", {c.vocab_size, D});
    for (int64_t i = 0; i < c.num_layers; ++i) {
      const std::string p = "h." + std::to_string(i) + ".";
      blocks_.push_back({w.get(p + "ln_1.weight", {D}), w.get(p + "ln_1.bias", {D}),
                         w.get(p + "attn.q_proj.weight", {D, D}), w.get(p + "attn.k_proj.weight", {D, D}),
                         w.get(p + "attn.v_proj.weight", {D, D}), w.get(p + "attn.out_proj.weight", {D, D}),
                         w.get(p + "mlp.fc_in.weight", {F, D}), w.get(p + "mlp.fc_in.bias", {F}),
                         w.get(p + "mlp.fc_out.weight", {D, F}), w.get(p + "mlp.fc_out.bias", {D})});
    }
    lnf_w_ = w.get("ln_f.weight", {D});
    lnf_b_ = w.get("ln_f.bias", {D});
    if (c.tie_word_embeddings) {
      head_w_ = wte_;
    } else {
      head_w_ = w.get_unprefixed("lm_head.weight", {c.vocab_size, D});
      if (w.has_unprefixed("lm_head.bias")) head_b_ = w.get_unprefixed("lm_head.bias", {c.vocab_size});
    }
  }

 protected:
  at::Tensor embed(const at::Tensor& ids) const override { return wte_.index_select(0, ids); }
  at::Tensor run_block(const at::Tensor& x, const BlockContext& ctx) const override {
    const GptjBlock& b = blocks_[ctx.block];
    const int64_t H = config_.num_heads;
    const at::Tensor n = layer_norm(x, b.ln_w, b.ln_b, config_.norm_eps);
    const at::Tensor q = apply_rotary(split_heads(dense(n, b.q_w), H), ctx.rotary);
    const at::Tensor k = apply_rotary(split_heads(dense(n, b.k_w), H), ctx.rotary);
    const double scale = 1.0 / std::sqrt(static_cast<double>(config_.head_dim));
    const at::Tensor a = attention(q, k, split_heads(dense(n, b.v_w), H), scale, ctx.block, ctx.observer, ctx.plan);
    const at::Tensor mlp = dense(activate(config_.activation, dense(n, b.fc_in_w, b.fc_in_b)), b.fc_out_w, b.fc_out_b);
    return x + dense(a, b.o_w) + mlp;
  }
  at::Tensor final_norm(const at::Tensor& x) const override { return layer_norm(x, lnf_w_, lnf_b_, config_.norm_eps); }
  at::Tensor lm_head(const at::Tensor& h) const override { return dense(h, head_w_, head_b_); }

 private:
  at::Tensor wte_, lnf_w_, lnf_b_, head_w_, head_b_;
  std::vector<GptjBlock> blocks_;
};

}  // namespace

std::unique_ptr<CausalLM> make_gptj(const ModelConfig& c, const WeightSource& src, at::Device device,
                                    at::ScalarType dtype) {
  return std::make_unique<Gptj>(c, src, device, dtype);
}

}  // namespace cascade::models
