// Gemma 3 text (HF Gemma3ForCausalLM, model_type gemma3_text) and the text tower of a multimodal
// Gemma 3 checkpoint (Gemma3ForConditionalGeneration, model_type gemma3: keys under text_config,
// tensors under language_model.model.* or model.language_model.*, vision tensors ignored).
// Gemma 2's block with (1 + w) q/k norms before RoPE and no attention soft-capping; local (sliding)
// layers use their own plain RoPE table (rope_local_base_freq), global layers rope_theta with
// rope_scaling; layer i is local iff (i + 1) % sliding_window_pattern != 0 unless layer_types says.
#include <cmath>

#include "core/models/config_reader.h"
#include "core/models/rotary_decoder.h"

namespace cascade::models {

RotaryDefaults gemma_defaults();  // gemma.cpp

// config.json keys of Gemma3TextConfig, its class defaults for the absent ones (multimodal hub
// files write only a few keys in text_config).
ModelConfig gemma3_text_config(const ConfigReader& c) {
  RotaryDefaults d = gemma_defaults();
  d.hidden_size = 2304, d.num_layers = 26, d.num_heads = 8, d.num_kv_heads = 4, d.intermediate_size = 9216;
  d.max_positions = 131072;
  d.rope_theta = 1000000.0;
  ModelConfig m = rotary_decoder_config(c, d);
  m.vocab_size = 262208;  // read_hf_config takes the file's value when present
  m.attention_bias = c.flag("attention_bias", false);
  const double scalar = c.number("query_pre_attn_scalar", 256);
  if (!(scalar > 0)) c.fail("query_pre_attn_scalar must be positive");
  m.attention_scale = 1.0 / std::sqrt(scalar);
  m.final_logit_softcap = softcap_key(c, "final_logit_softcapping", 0.0);
  // HF's Gemma3Attention never applies attn_logit_softcapping, whatever the file says.

  // Two RoPE tables: v5 writes rope_parameters per layer type, v4 rope_theta + rope_scaling for
  // the global layers and rope_local_base_freq for the local ones.
  m.local_rope_theta = c.number("rope_local_base_freq", 10000.0);
  if (const auto rope = c.object("rope_parameters"); rope && rope->written("full_attention")) {
    if (const auto full = rope->object("full_attention")) {
      m.rope_scaling = rope_scaling_of(c, full.get(), "rope_parameters.full_attention");
      m.rope_theta = rope_number(c, full.get(), "rope_theta", {}, m.rope_theta);
    }
    if (const auto local = rope->object("sliding_attention")) {
      if (!rope_scaling_of(c, local.get(), "rope_parameters.sliding_attention").type.empty())
        c.fail("rope_parameters.sliding_attention: scaled RoPE on the local layers is not supported");
      m.local_rope_theta = rope_number(c, local.get(), "rope_theta", {}, m.local_rope_theta);
    }
  }
  if (!(m.local_rope_theta > 0)) c.fail("rope_local_base_freq must be positive");

  const int64_t pattern = c.optional_size("sliding_window_pattern")
                              .value_or(c.optional_size("_sliding_window_pattern").value_or(6));
  set_sliding_layers(c, m, window_key(c, "sliding_window", 4096),
                     [pattern](int64_t i) { return (i + 1) % pattern != 0; });
  check_rotary(c, m);
  return m;
}

std::unique_ptr<CausalLM> make_gemma3(const ModelConfig& c, const WeightSource& src, at::Device device,
                                      at::ScalarType dtype) {
  RotaryLayout layout;
  layout.prefixes = {"model.", "language_model.model.", "model.language_model.", ""};
  layout.head_names = {"lm_head.weight", "language_model.lm_head.weight"};
  layout.qkv_bias = layout.o_bias = c.attention_bias;
  layout.qk_norm = layout.gemma = layout.sandwich_norms = true;
  return make_rotary_decoder(c, src, device, dtype, layout);
}

}  // namespace cascade::models
