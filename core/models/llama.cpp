// Llama (HF LlamaForCausalLM; Llama 1/2/3.x): the plain rotary decoder. RoPE with rope_theta, scaled
// by rope_scaling of type linear or llama3 (Llama 3.1/3.2/3.3); attention_bias and mlp_bias switch
// every projection's bias; Llama 3's untied and 3.2's tied heads.
#include "core/models/config_reader.h"
#include "core/models/rotary_decoder.h"

namespace cascade::models {

// config.json keys of LlamaConfig, its class defaults for the absent ones.
ModelConfig llama_config(const ConfigReader& c) {
  ModelConfig m = rotary_decoder_config(c, RotaryDefaults{});
  m.attention_bias = c.flag("attention_bias", false);
  m.mlp_bias = c.flag("mlp_bias", false);
  return m;
}

std::unique_ptr<CausalLM> make_llama(const ModelConfig& c, const WeightSource& src, at::Device device,
                                     at::ScalarType dtype) {
  RotaryLayout layout;
  layout.qkv_bias = layout.o_bias = c.attention_bias;
  layout.mlp_bias = c.mlp_bias;
  return make_rotary_decoder(c, src, device, dtype, layout);
}

}  // namespace cascade::models
