// Phi-3 / Phi-4-mini (HF Phi3ForCausalLM): the Llama skeleton with fused projections, qkv_proj rows
// q (H·hd) | k (KV·hd) | v (KV·hd) and gate_up_proj rows gate | up, partial_rotary_factor rotating
// the first int(hd·factor) dims, and a window on every layer when sliding_window is set.
#include "core/models/config_reader.h"
#include "core/models/rotary_decoder.h"

namespace cascade::models {

// config.json keys of Phi3Config, its class defaults for the absent ones.
ModelConfig phi3_config(const ConfigReader& c) {
  RotaryDefaults d;
  d.max_positions = 4096;
  d.rms_norm_eps = 1e-5;
  ModelConfig m = rotary_decoder_config(c, d);
  const auto rope = c.object("rope_parameters");
  const double fraction = rope_number(c, rope.get(), "partial_rotary_factor", {"partial_rotary_factor"}, 1.0);
  if (!(fraction > 0 && fraction <= 1)) c.fail("partial_rotary_factor must be in (0, 1]");
  m.rotary_dim = static_cast<int64_t>(static_cast<double>(m.head_dim) * fraction);  // Python's int()
  check_rotary(c, m);
  set_sliding_layers(c, m, window_key(c, "sliding_window", 0), [](int64_t) { return true; });
  return m;
}

std::unique_ptr<CausalLM> make_phi3(const ModelConfig& c, const WeightSource& src, at::Device device,
                                    at::ScalarType dtype) {
  RotaryLayout layout;
  layout.fused_qkv = layout.fused_gate_up = true;
  return make_rotary_decoder(c, src, device, dtype, layout);
}

}  // namespace cascade::models
