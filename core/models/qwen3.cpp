// Qwen 3 (HF Qwen3ForCausalLM): the Llama skeleton with an RMSNorm over each head's head_dim on q and
// k before RoPE, head_dim explicit (class default 128, not hidden / heads), biases only with
// attention_bias; sliding window as Qwen 2 (use_sliding_window, layers >= max_window_layers).
#include "core/models/config_reader.h"
#include "core/models/rotary_decoder.h"

namespace cascade::models {

// config.json keys of Qwen3Config, its class defaults for the absent ones.
ModelConfig qwen3_config(const ConfigReader& c) {
  RotaryDefaults d;
  d.head_dim = 128;
  d.max_positions = 32768;
  ModelConfig m = rotary_decoder_config(c, d);
  m.attention_bias = c.flag("attention_bias", false);
  set_qwen_sliding_layers(c, m);
  return m;
}

std::unique_ptr<CausalLM> make_qwen3(const ModelConfig& c, const WeightSource& src, at::Device device,
                                     at::ScalarType dtype) {
  RotaryLayout layout;
  layout.qkv_bias = layout.o_bias = c.attention_bias;
  layout.qk_norm = true;
  return make_rotary_decoder(c, src, device, dtype, layout);
}

}  // namespace cascade::models
