// The shared rotary decoder (see rotary_decoder.h); each family's file holds its config keys and
// its RotaryLayout.
#include "core/models/rotary_decoder.h"

#include <cmath>

#include "core/models/common.h"
#include "core/models/config_reader.h"

namespace cascade::models {

ModelConfig rotary_decoder_config(const ConfigReader& c, const RotaryDefaults& d) {
  auto size = [&](const std::string& key, int64_t fallback) {
    return fallback ? c.optional_size(key).value_or(fallback) : c.size(key);
  };
  ModelConfig m;
  m.hidden_size = size("hidden_size", d.hidden_size);
  m.num_layers = size("num_hidden_layers", d.num_layers);
  m.num_heads = size("num_attention_heads", d.num_heads);
  m.num_kv_heads = c.optional_size("num_key_value_heads").value_or(d.num_kv_heads ? d.num_kv_heads : m.num_heads);
  if (m.num_heads % m.num_kv_heads != 0)
    c.fail(std::to_string(m.num_heads) + " attention heads cannot share " + std::to_string(m.num_kv_heads) +
           " key/value heads evenly");
  const auto explicit_head_dim = c.optional_size("head_dim");
  m.head_dim = explicit_head_dim ? *explicit_head_dim
               : d.head_dim  ? d.head_dim
                             : head_dim_of(c, m.hidden_size, m.num_heads);
  m.intermediate_size = size("intermediate_size", d.intermediate_size);
  m.max_positions = c.optional_size("max_position_embeddings").value_or(d.max_positions);
  m.norm_eps = c.number("rms_norm_eps", d.rms_norm_eps);
  m.activation = activation(c, d.activation_key, d.activation);
  // v5 rope_parameters carries theta and scaling together; v4 has rope_theta + rope_scaling.
  if (const auto rope = c.object("rope_parameters")) {
    m.rope_scaling = rope_scaling_of(c, rope.get(), "rope_parameters");
    m.rope_theta = rope_number(c, rope.get(), "rope_theta", {"rope_theta"}, d.rope_theta);
  } else {
    m.rope_scaling = rope_scaling_of(c, c.object("rope_scaling").get(), "rope_scaling");
    m.rope_theta = c.number("rope_theta", d.rope_theta);
  }
  m.rotary_dim = m.head_dim;
  m.tie_word_embeddings = c.flag("tie_word_embeddings", d.tie_word_embeddings);
  check_rotary(c, m);
  return m;
}

void set_sliding_layers(const ConfigReader& c, ModelConfig& m, int64_t window,
                        const std::function<bool(int64_t)>& slides) {
  m.sliding_window = window;
  m.sliding_layers.assign(static_cast<size_t>(m.num_layers), false);
  if (window <= 0) return;
  const auto types = c.text_list("layer_types");
  if (types && static_cast<int64_t>(types->size()) != m.num_layers)
    c.fail("layer_types has " + std::to_string(types->size()) + " entries for " + std::to_string(m.num_layers) +
           " layers");
  for (int64_t i = 0; i < m.num_layers; ++i) {
    if (!types) {
      m.sliding_layers[i] = slides(i);
      continue;
    }
    const std::string& type = (*types)[i];
    if (type != "sliding_attention" && type != "full_attention")
      c.fail("layer_types[" + std::to_string(i) + "] '" + type +
             "' is not supported (supported: sliding_attention, full_attention)");
    m.sliding_layers[i] = type == "sliding_attention";
  }
}

int64_t window_key(const ConfigReader& c, const std::string& key, int64_t class_default) {
  if (!c.written(key)) return class_default;
  return c.optional_size(key).value_or(0);  // null: no window
}

double softcap_key(const ConfigReader& c, const std::string& key, double class_default) {
  if (!c.written(key)) return class_default;
  const double cap = c.number(key, 0);  // null: off
  if (cap < 0) c.fail(key + " must be positive or null");
  return cap;
}

namespace {

struct RotaryBlock {
  at::Tensor attn_norm, q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b, q_norm, k_norm;
  at::Tensor post_attn_norm;  // sandwich only
  at::Tensor mlp_norm, gate_w, gate_b, up_w, up_b, down_w, down_b;
  at::Tensor post_mlp_norm;  // sandwich only
};

class RotaryDecoder final : public DecoderModel {
 public:
  RotaryDecoder(const ModelConfig& c, const WeightSource& src, at::Device device, at::ScalarType dtype,
                RotaryLayout layout)
      : DecoderModel(c, device, dtype), layout_(std::move(layout)) {
    const WeightLoader w(src, layout_.prefixes, device, dtype);
    const int64_t D = c.hidden_size, F = c.intermediate_size, hd = c.head_dim, Q = c.num_heads * hd,
                  KV = c.num_kv_heads * hd;
    auto bias = [&](bool present, const std::string& name, int64_t n) {
      return present ? w.get(name, {n}) : at::Tensor();
    };
    embed_ = w.get("embed_tokens.weight", {c.vocab_size, D});
    for (int64_t i = 0; i < c.num_layers; ++i) {
      const std::string p = "layers." + std::to_string(i) + ".";
      const std::string a = p + "self_attn.", m = p + "mlp.";
      RotaryBlock b;
      b.attn_norm = w.get(p + "input_layernorm.weight", {D});
      if (layout_.fused_qkv) {
        const at::Tensor qkv = w.get(a + "qkv_proj.weight", {Q + 2 * KV, D});
        b.q_w = qkv.narrow(0, 0, Q).contiguous();
        b.k_w = qkv.narrow(0, Q, KV).contiguous();
        b.v_w = qkv.narrow(0, Q + KV, KV).contiguous();
      } else {
        b.q_w = w.get(a + "q_proj.weight", {Q, D});
        b.k_w = w.get(a + "k_proj.weight", {KV, D});
        b.v_w = w.get(a + "v_proj.weight", {KV, D});
        b.q_b = bias(layout_.qkv_bias, a + "q_proj.bias", Q);
        b.k_b = bias(layout_.qkv_bias, a + "k_proj.bias", KV);
        b.v_b = bias(layout_.qkv_bias, a + "v_proj.bias", KV);
      }
      b.o_w = w.get(a + "o_proj.weight", {D, Q});
      b.o_b = bias(layout_.o_bias, a + "o_proj.bias", D);
      if (layout_.qk_norm) {
        b.q_norm = w.get(a + "q_norm.weight", {hd});
        b.k_norm = w.get(a + "k_norm.weight", {hd});
      }
      if (layout_.sandwich_norms) {
        b.post_attn_norm = w.get(p + "post_attention_layernorm.weight", {D});
        b.mlp_norm = w.get(p + "pre_feedforward_layernorm.weight", {D});
        b.post_mlp_norm = w.get(p + "post_feedforward_layernorm.weight", {D});
      } else {
        b.mlp_norm = w.get(p + "post_attention_layernorm.weight", {D});
      }
      if (layout_.fused_gate_up) {
        const at::Tensor gate_up = w.get(m + "gate_up_proj.weight", {2 * F, D});
        b.gate_w = gate_up.narrow(0, 0, F).contiguous();
        b.up_w = gate_up.narrow(0, F, F).contiguous();
      } else {
        b.gate_w = w.get(m + "gate_proj.weight", {F, D});
        b.up_w = w.get(m + "up_proj.weight", {F, D});
        b.gate_b = bias(layout_.mlp_bias, m + "gate_proj.bias", F);
        b.up_b = bias(layout_.mlp_bias, m + "up_proj.bias", F);
      }
      b.down_w = w.get(m + "down_proj.weight", {D, F});
      b.down_b = bias(layout_.mlp_bias, m + "down_proj.bias", D);
      blocks_.push_back(std::move(b));
    }
    norm_w_ = w.get("norm.weight", {D});
    head_ = c.tie_word_embeddings ? embed_ : untied_head(w);
    // HF: torch.tensor(sqrt(hidden_size), dtype=hidden dtype), so bf16 rounds it (55.43 → 55.5).
    if (layout_.gemma) embed_scale_ = at::scalar_tensor(std::sqrt(static_cast<double>(D)), at::kFloat).to(device, dtype);
  }

 protected:
  at::Tensor embed(const at::Tensor& ids) const override {
    const at::Tensor x = embed_.index_select(0, ids);
    return embed_scale_.defined() ? x * embed_scale_ : x;
  }
  at::Tensor run_block(const at::Tensor& x, const BlockContext& ctx) const override {
    const RotaryBlock& b = blocks_[ctx.block];
    const int64_t H = config_.num_heads, KVH = config_.num_kv_heads, rep = H / KVH;
    const at::Tensor n = norm(x, b.attn_norm);
    at::Tensor q = split_heads(dense(n, b.q_w, b.q_b), H), k = split_heads(dense(n, b.k_w, b.k_b), KVH);
    if (layout_.qk_norm) q = norm(q, b.q_norm), k = norm(k, b.k_norm);  // per head, before RoPE
    q = apply_rotary(q, ctx.rotary);
    // repeat_interleave on the head axis (HF repeat_kv), not tiling.
    k = apply_rotary(k, ctx.rotary).repeat_interleave(rep, 0);
    const at::Tensor v = split_heads(dense(n, b.v_w, b.v_b), KVH).repeat_interleave(rep, 0);
    const AttentionShape shape{config_.attention_scale > 0 ? config_.attention_scale
                                                          : 1.0 / std::sqrt(static_cast<double>(config_.head_dim)),
                               config_.window_of(ctx.block), config_.attn_logit_softcap};
    at::Tensor attn = dense(attention(q, k, v, shape, ctx.block, ctx.observer, ctx.plan), b.o_w, b.o_b);
    if (layout_.sandwich_norms) attn = norm(attn, b.post_attn_norm);
    const at::Tensor h = x + attn;
    const at::Tensor m = norm(h, b.mlp_norm);
    at::Tensor mlp = dense(activate(config_.activation, dense(m, b.gate_w, b.gate_b)) * dense(m, b.up_w, b.up_b),
                           b.down_w, b.down_b);
    if (layout_.sandwich_norms) mlp = norm(mlp, b.post_mlp_norm);
    return h + mlp;
  }
  at::Tensor final_norm(const at::Tensor& x) const override { return norm(x, norm_w_); }
  at::Tensor lm_head(const at::Tensor& h) const override {
    return soft_cap(dense(h, head_), config_.final_logit_softcap);
  }

 private:
  at::Tensor norm(const at::Tensor& x, const at::Tensor& w) const {
    return layout_.gemma ? rms_norm_offset(x, w, config_.norm_eps) : rms_norm(x, w, config_.norm_eps);
  }
  at::Tensor untied_head(const WeightLoader& w) const {
    for (const auto& name : layout_.head_names)
      if (w.has_unprefixed(name)) return w.get_unprefixed(name, {config_.vocab_size, config_.hidden_size});
    return w.get_unprefixed(layout_.head_names.front(), {config_.vocab_size, config_.hidden_size});  // throws
  }

  RotaryLayout layout_;
  at::Tensor embed_, embed_scale_, norm_w_, head_;
  std::vector<RotaryBlock> blocks_;
};

}  // namespace

std::unique_ptr<CausalLM> make_rotary_decoder(const ModelConfig& c, const WeightSource& src, at::Device device,
                                              at::ScalarType dtype, const RotaryLayout& layout) {
  return std::make_unique<RotaryDecoder>(c, src, device, dtype, layout);
}

void set_qwen_sliding_layers(const ConfigReader& c, ModelConfig& m) {
  const bool sliding = c.flag("use_sliding_window", false);
  const int64_t first_sliding = c.optional_size("max_window_layers").value_or(28);
  set_sliding_layers(c, m, sliding ? window_key(c, "sliding_window", 4096) : 0,
                     [first_sliding](int64_t i) { return i >= first_sliding; });
}

}  // namespace cascade::models
