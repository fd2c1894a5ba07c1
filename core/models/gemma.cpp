// Gemma 1 (HF GemmaForCausalLM): the Llama skeleton with (1 + w) RMSNorms, embeddings × sqrt(hidden)
// in the model dtype (the tied head uses the unscaled matrix), gelu_pytorch_tanh, explicit head_dim
// (class default 256), MQA in the 2B model, tied head unless stated otherwise.
#include "core/models/config_reader.h"
#include "core/models/rotary_decoder.h"

namespace cascade::models {

// Gemma's activation key. Gemma 1 hub files may carry a legacy hidden_act "gelu" next to it;
// the models were trained with the tanh approximation.
RotaryDefaults gemma_defaults() {
  RotaryDefaults d;
  d.head_dim = 256;
  d.max_positions = 8192;
  d.tie_word_embeddings = true;
  d.activation_key = "hidden_activation";
  d.activation = "gelu_pytorch_tanh";
  return d;
}

// config.json keys of GemmaConfig, its class defaults for the absent ones.
ModelConfig gemma_config(const ConfigReader& c) {
  ModelConfig m = rotary_decoder_config(c, gemma_defaults());
  m.attention_bias = c.flag("attention_bias", false);
  return m;
}

std::unique_ptr<CausalLM> make_gemma(const ModelConfig& c, const WeightSource& src, at::Device device,
                                     at::ScalarType dtype) {
  RotaryLayout layout;
  layout.qkv_bias = layout.o_bias = c.attention_bias;
  layout.gemma = true;
  return make_rotary_decoder(c, src, device, dtype, layout);
}

}  // namespace cascade::models
