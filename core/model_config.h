#pragma once
// What a transformer architecture needs to know, filled from an HF config.json (each model_type's
// keys and defaults in core/models/<arch>.cpp, the JSON in data/hf/hf_config.cpp). No Torch, no JSON here.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cascade {

// Scaled RoPE (HF rope_scaling / rope_parameters): changes the inverse frequencies, not the positions.
struct RopeScaling {
  std::string type;      // "" (plain) | "linear" (inv_freq / factor) | "llama3" (by wavelength, Llama 3.1+)
  double factor = 1.0;
  double low_freq_factor = 1.0, high_freq_factor = 4.0;  // llama3
  int64_t original_max_positions = 0;                    // llama3: the one inside rope_scaling
};

struct ModelConfig {
  std::string model_type;  // a row of core/models/architectures.cpp
  std::string name;        // for display: folder name or hub id
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;  // = num_heads unless GQA (llama num_key_value_heads)
  int64_t head_dim = 0;      // hidden_size / num_heads unless given explicitly (llama head_dim)
  int64_t intermediate_size = 0;  // MLP width (gpt2 n_inner or 4·d; opt ffn_dim; neox/llama intermediate_size)
  int64_t max_positions = 0;
  double norm_eps = 1e-5;    // layer_norm_epsilon / layer_norm_eps / rms_norm_eps (OPT: fixed 1e-5)
  std::string activation;    // "gelu_new" (tanh) | "gelu" (erf) | "relu" | "silu"
  // Rotary (gptj, gpt_neox, llama): number of rotated dims per head and base. 0 = no rotary.
  int64_t rotary_dim = 0;
  double rope_theta = 10000.0;
  bool rotary_interleaved = false;  // gptj: pairs (2i, 2i+1); neox/llama: rotate_half (i, i + n/2)
  RopeScaling rope_scaling;         // on the (global) table
  double local_rope_theta = 0;      // gemma3: the sliding layers' own plain table; 0 = one table for all
  // Sliding-window attention on the layers marked in sliding_layers: query t sees keys
  // t − sliding_window + 1 … t, itself included. 0 = every layer sees every earlier key.
  int64_t sliding_window = 0;
  std::vector<bool> sliding_layers;  // num_layers entries when sliding_window > 0
  double attention_scale = 0;        // scores × this; 0 = 1/sqrt(head_dim) (gemma2/3: query_pre_attn_scalar^-½)
  double attn_logit_softcap = 0;     // gemma2: scores = tanh(s / cap)·cap before the mask; 0 = off
  double final_logit_softcap = 0;    // gemma2/3: logits = tanh(l / cap)·cap; 0 = off
  bool parallel_residual = false;   // gpt_neox use_parallel_residual (gptj is always parallel)
  bool tie_word_embeddings = false;
  bool scale_attn_by_inverse_layer_idx = false;  // gpt2
  bool do_layer_norm_before = true;              // opt (post-LN variants are refused)
  bool attention_bias = false;                   // llama attention_bias
  bool mlp_bias = false;                         // llama mlp_bias
  std::optional<int64_t> bos_token_id, eos_token_id, pad_token_id;

  // The window of block `layer` (0 = full causal attention).
  int64_t window_of(int64_t layer) const {
    return sliding_window > 0 && layer < static_cast<int64_t>(sliding_layers.size()) && sliding_layers[layer]
               ? sliding_window
               : 0;
  }
};

}  // namespace cascade
