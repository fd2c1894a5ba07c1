#pragma once
// What a transformer architecture needs to know, filled from an HF config.json (each model_type's
// keys and defaults in core/models/<arch>.cpp, the JSON in data/hf/hf_config.cpp). No Torch, no JSON here.
#include <cstdint>
#include <optional>
#include <string>

namespace cascade {

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
  bool parallel_residual = false;   // gpt_neox use_parallel_residual (gptj is always parallel)
  bool tie_word_embeddings = false;
  bool scale_attn_by_inverse_layer_idx = false;  // gpt2
  bool do_layer_norm_before = true;              // opt (post-LN variants are refused)
  bool attention_bias = false;                   // llama attention_bias
  bool mlp_bias = false;                         // llama mlp_bias
  std::optional<int64_t> bos_token_id, eos_token_id, pad_token_id;
};

}  // namespace cascade
