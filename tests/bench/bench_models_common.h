#pragma once
// The GPT-2-124M-sized configs the CPU benchmarks build with random weights (bench_models: the
// forward per architecture; bench_study: a study's documents/s at a realistic size), in one place
// so that both measure the same shape.
#include <string>

#include "core/model_config.h"

namespace cascade::bench {

// GPT-2 124M's shape (12 × 768, 12 heads, 3072 MLP, vocabulary 50257) in architecture `type`, with
// that architecture's own activation, rotary and tying so that each runs its real code path.
inline ModelConfig gpt2_124m_like(const std::string& type) {
  ModelConfig c;
  c.model_type = type;
  c.name = type + "-124M-random";
  c.vocab_size = 50257;
  c.hidden_size = 768;
  c.num_layers = 12;
  c.num_heads = c.num_kv_heads = 12;
  c.head_dim = 64;
  c.intermediate_size = 3072;
  c.max_positions = 2048;
  c.activation = "gelu_new";
  c.tie_word_embeddings = true;
  if (type == "opt") c.activation = "relu";
  if (type == "gptj") c.rotary_dim = 32, c.rotary_interleaved = true, c.tie_word_embeddings = false;
  if (type == "gpt_neox") c.rotary_dim = 16, c.parallel_residual = true, c.activation = "gelu";
  if (type == "llama") c.rotary_dim = 64, c.activation = "silu", c.intermediate_size = 2048, c.num_kv_heads = 4;
  return c;
}

}  // namespace cascade::bench
