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
  const bool sliding = c.flag("use_sliding_window", false);
  const int64_t first_sliding = c.optional_size("max_window_layers").value_or(28);
  set_sliding_layers(c, m, sliding ? window_key(c, "sliding_window", 4096) : 0,
                     [first_sliding](int64_t i) { return i >= first_sliding; });
  return m;
}

std::unique_ptr<CausalLM> make_qwen2(const ModelConfig& c, const WeightSource& src, at::Device device,
                                     at::ScalarType dtype) {
  RotaryLayout layout;
  layout.qkv_bias = true;
  return make_rotary_decoder(c, src, device, dtype, layout);
}

}  // namespace cascade::models
