#pragma once
// The rotary decoder that Llama, Mistral, Qwen 2/3, Gemma 1/2/3 and Phi-3 share: RMSNorm, rotate_half
// RoPE, grouped-query attention (kv head j serves query heads j·n_rep … j·n_rep + n_rep − 1), gated
// MLP. What config.json says lives in ModelConfig; what each HF class hard-codes (biases, fused
// projections, q/k norms, Gemma's norms and embedding scale, sandwich norms, tensor names) is its
// RotaryLayout, set in the family's own file. Internal to core/models/.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/model.h"

namespace cascade {
class ConfigReader;
}

namespace cascade::models {

struct RotaryLayout {
  std::vector<std::string> prefixes = {"model.", ""};      // tried in order for every non-head tensor
  std::vector<std::string> head_names = {"lm_head.weight"};  // an untied head, first one present
  bool qkv_bias = false, o_bias = false, mlp_bias = false;
  bool fused_qkv = false;      // phi3 qkv_proj: rows q (H·hd) | k (KV·hd) | v (KV·hd)
  bool fused_gate_up = false;  // phi3 gate_up_proj: rows gate | up
  bool qk_norm = false;        // qwen3, gemma3: RMSNorm over each head's head_dim before RoPE
  bool gemma = false;          // every norm (1 + w); embeddings × sqrt(hidden) in the model dtype
  bool sandwich_norms = false; // gemma2/3: norms after attention and around the MLP
};

std::unique_ptr<CausalLM> make_rotary_decoder(const ModelConfig& c, const WeightSource& src, at::Device device,
                                              at::ScalarType dtype, const RotaryLayout& layout);

// The transformers class defaults a family's reader starts from. A size of 0 means required.
struct RotaryDefaults {
  int64_t hidden_size = 0, num_layers = 0, num_heads = 0, intermediate_size = 0;
  int64_t num_kv_heads = 0;  // 0: = num_attention_heads
  int64_t head_dim = 0;      // 0: hidden_size / num_attention_heads
  int64_t max_positions = 2048;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  bool tie_word_embeddings = false;
  std::string activation_key = "hidden_act", activation = "silu";
};

// The keys every rotary decoder shares: sizes, heads, head_dim, norm eps, activation, rope_theta
// and rope scaling (v4 rope_theta + rope_scaling, or v5 rope_parameters), tied head.
ModelConfig rotary_decoder_config(const ConfigReader& c, const RotaryDefaults& d);

// Marks every layer as sliding when `window` > 0, or only those named by layer_types
// ("sliding_attention" / "full_attention") when the file has that list, else those `slides` picks.
void set_sliding_layers(const ConfigReader& c, ModelConfig& m, int64_t window,
                        const std::function<bool(int64_t layer)>& slides);

// Qwen 2/3: a window only with use_sliding_window, then on layers >= max_window_layers (the
// sliding_window number hub files carry means nothing by itself).
void set_qwen_sliding_layers(const ConfigReader& c, ModelConfig& m);

// A window key whose absence means the class default but whose null means "no window".
int64_t window_key(const ConfigReader& c, const std::string& key, int64_t class_default);
// Gemma 2/3's soft-capping keys: absent = class default, null = off.
double softcap_key(const ConfigReader& c, const std::string& key, double class_default);

}  // namespace cascade::models
