// Gemma 2 (HF Gemma2ForCausalLM): Gemma's (1 + w) norms, embedding scale and tied head, plus norms
// after attention and around the MLP, scores scaled by query_pre_attn_scalar^-½ and soft-capped
// (tanh(s / cap)·cap before the mask), final logits soft-capped, and a sliding window on layers
// 0, 2, 4, ... (or as layer_types says).
#include <cmath>

#include "core/models/config_reader.h"
#include "core/models/rotary_decoder.h"

namespace cascade::models {

RotaryDefaults gemma_defaults();  // gemma.cpp

// config.json keys of Gemma2Config, its class defaults for the absent ones.
ModelConfig gemma2_config(const ConfigReader& c) {
  ModelConfig m = rotary_decoder_config(c, gemma_defaults());
  m.attention_bias = c.flag("attention_bias", false);
  const double scalar = c.number("query_pre_attn_scalar", 256);
  if (!(scalar > 0)) c.fail("query_pre_attn_scalar must be positive");
  m.attention_scale = 1.0 / std::sqrt(scalar);
  m.attn_logit_softcap = softcap_key(c, "attn_logit_softcapping", 50.0);
  m.final_logit_softcap = softcap_key(c, "final_logit_softcapping", 30.0);
  set_sliding_layers(c, m, window_key(c, "sliding_window", 4096), [](int64_t i) { return (i + 1) % 2 != 0; });
  return m;
}

std::unique_ptr<CausalLM> make_gemma2(const ModelConfig& c, const WeightSource& src, at::Device device,
                                      at::ScalarType dtype) {
  RotaryLayout layout;
  layout.qkv_bias = layout.o_bias = c.attention_bias;
  layout.gemma = layout.sandwich_norms = true;
  return make_rotary_decoder(c, src, device, dtype, layout);
}

}  // namespace cascade::models
