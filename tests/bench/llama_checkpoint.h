#pragma once
// A Llama-3.2-1B-shaped checkpoint with random weights, written as save_pretrained writes one (bf16
// safetensors shards and model.safetensors.index.json), for the benchmarks that run a real
// checkpoint folder: bench_llama_cpu (the 1B shape) and bench_remote (32 thin layers at T = 8192).
#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "data/formats/activation_io.h"

namespace cascade::bench {

namespace fs = std::filesystem;

struct Shape {
  int64_t vocab = 128256, hidden = 2048, layers = 16, heads = 32, kv_heads = 8, head_dim = 64, inter = 8192;
};

// Llama-3.2-1B's config.json, with `layers` blocks.
inline nlohmann::json llama_1b_config(const Shape& s) {
  return {{"architectures", {"LlamaForCausalLM"}},
          {"model_type", "llama"},
          {"vocab_size", s.vocab},
          {"hidden_size", s.hidden},
          {"num_hidden_layers", s.layers},
          {"num_attention_heads", s.heads},
          {"num_key_value_heads", s.kv_heads},
          {"head_dim", s.head_dim},
          {"intermediate_size", s.inter},
          {"hidden_act", "silu"},
          {"max_position_embeddings", 131072},
          {"rms_norm_eps", 1e-5},
          {"rope_theta", 500000.0},
          {"rope_scaling",
           {{"rope_type", "llama3"}, {"factor", 32.0}, {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0},
            {"original_max_position_embeddings", 8192}}},
          {"tie_word_embeddings", true},
          {"attention_bias", false},
          {"mlp_bias", false},
          {"bos_token_id", std::min<int64_t>(128000, s.vocab - 2)},
          {"eos_token_id", std::min<int64_t>(128001, s.vocab - 1)},
          {"torch_dtype", "bfloat16"}};
}

inline at::Tensor random_bf16(std::vector<int64_t> shape, double scale) { return (at::randn(shape) * scale).to(at::kBFloat16); }

// Sharded like save_pretrained: the embeddings and final norm in one shard, then 4 blocks per shard,
// and model.safetensors.index.json naming them. Peak memory while writing: one shard.
inline void write_checkpoint(const fs::path& dir, const Shape& s) {
  fs::create_directories(dir);
  at::manual_seed(2024);
  std::ofstream(dir / "config.json") << llama_1b_config(s).dump(2);
  nlohmann::json weight_map = nlohmann::json::object();
  int shard_index = 0;
  const int64_t shards = 1 + (s.layers + 3) / 4;
  auto write_shard = [&](const std::vector<std::pair<std::string, at::Tensor>>& tensors) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05d-of-%05lld.safetensors", ++shard_index, static_cast<long long>(shards));
    data::write_safetensors((dir / name).string(), tensors);
    for (const auto& [tensor, _] : tensors) weight_map[tensor] = name;
  };
  write_shard({{"model.embed_tokens.weight", random_bf16({s.vocab, s.hidden}, 0.02)},
               {"model.norm.weight", (1 + 0.1 * at::randn({s.hidden})).to(at::kBFloat16)}});
  for (int64_t first = 0; first < s.layers; first += 4) {
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (int64_t l = first; l < std::min(first + 4, s.layers); ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      const int64_t q = s.heads * s.head_dim, kv = s.kv_heads * s.head_dim;
      tensors.emplace_back(p + "input_layernorm.weight", (1 + 0.1 * at::randn({s.hidden})).to(at::kBFloat16));
      tensors.emplace_back(p + "post_attention_layernorm.weight", (1 + 0.1 * at::randn({s.hidden})).to(at::kBFloat16));
      tensors.emplace_back(p + "self_attn.q_proj.weight", random_bf16({q, s.hidden}, 0.02));
      tensors.emplace_back(p + "self_attn.k_proj.weight", random_bf16({kv, s.hidden}, 0.02));
      tensors.emplace_back(p + "self_attn.v_proj.weight", random_bf16({kv, s.hidden}, 0.02));
      tensors.emplace_back(p + "self_attn.o_proj.weight", random_bf16({s.hidden, q}, 0.02));
      tensors.emplace_back(p + "mlp.gate_proj.weight", random_bf16({s.inter, s.hidden}, 0.02));
      tensors.emplace_back(p + "mlp.up_proj.weight", random_bf16({s.inter, s.hidden}, 0.02));
      tensors.emplace_back(p + "mlp.down_proj.weight", random_bf16({s.hidden, s.inter}, 0.02));
    }
    write_shard(tensors);
  }
  nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", weight_map}};
  std::ofstream(dir / "model.safetensors.index.json") << index.dump(2);
}

inline bool checkpoint_matches(const fs::path& dir, const Shape& s) {
  std::ifstream in(dir / "config.json");
  if (!in || !fs::exists(dir / "model.safetensors.index.json")) return false;
  const auto config = nlohmann::json::parse(in, nullptr, false);
  return !config.is_discarded() && config == llama_1b_config(s);
}

}  // namespace cascade::bench
