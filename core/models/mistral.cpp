// Mistral (HF MistralForCausalLM): the Llama skeleton with GQA, an explicit head_dim, no biases and a
// sliding window on every layer whenever sliding_window is not null (class default 4096; Mistral
// v0.2+ files write null = plain causal).
#include "core/models/config_reader.h"
#include "core/models/rotary_decoder.h"

namespace cascade::models {

// config.json keys of MistralConfig, its class defaults for the absent ones.
ModelConfig mistral_config(const ConfigReader& c) {
  RotaryDefaults d;
  d.max_positions = 4096 * 32;
  ModelConfig m = rotary_decoder_config(c, d);
  set_sliding_layers(c, m, window_key(c, "sliding_window", 4096), [](int64_t) { return true; });
  return m;
}

std::unique_ptr<CausalLM> make_mistral(const ModelConfig& c, const WeightSource& src, at::Device device,
                                       at::ScalarType dtype) {
  return make_rotary_decoder(c, src, device, dtype, RotaryLayout{});
}

}  // namespace cascade::models
