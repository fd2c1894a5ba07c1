// Qwen 2 / 2.5 (HF Qwen2ForCausalLM): the Llama skeleton with q/k/v biases that the class hard-codes
// (no config key; o_proj has none). The sliding_window number hub files carry means nothing unless
// use_sliding_window is true; then layers i >= max_window_layers slide.
#include "core/models/config_reader.h"
#include "core/models/rotary_decoder.h"

namespace cascade::models {

// config.json keys of Qwen2Config, its class defaults for the absent ones.
ModelConfig qwen2_config(const ConfigReader& c) {
  RotaryDefaults d;
  d.max_positions = 32768;
  ModelConfig m = rotary_decoder_config(c, d);
  set_qwen_sliding_layers(c, m);
  return m;
}

std::unique_ptr<CausalLM> make_qwen2(const ModelConfig& c, const WeightSource& src, at::Device device,
                                     at::ScalarType dtype) {
  RotaryLayout layout;
  layout.qkv_bias = true;
  return make_rotary_decoder(c, src, device, dtype, layout);
}

}  // namespace cascade::models
