// The architecture table. A new architecture is its file in core/models/ (config keys, tensors,
// block; the rotary decoders share rotary_decoder.cpp) plus its two declarations and its row here.
#include "core/models/architectures.h"

#include "core/errors.h"
#include "core/model.h"

namespace cascade {

namespace models {
ModelConfig gpt2_config(const ConfigReader&);
ModelConfig opt_config(const ConfigReader&);
ModelConfig gptj_config(const ConfigReader&);
ModelConfig gpt_neox_config(const ConfigReader&);
ModelConfig llama_config(const ConfigReader&);
ModelConfig mistral_config(const ConfigReader&);
ModelConfig qwen2_config(const ConfigReader&);
ModelConfig qwen3_config(const ConfigReader&);
ModelConfig gemma_config(const ConfigReader&);
ModelConfig gemma2_config(const ConfigReader&);
ModelConfig gemma3_text_config(const ConfigReader&);
ModelConfig phi3_config(const ConfigReader&);
std::unique_ptr<CausalLM> make_gpt2(const ModelConfig&, const WeightSource&, at::Device, at::ScalarType);
std::unique_ptr<CausalLM> make_opt(const ModelConfig&, const WeightSource&, at::Device, at::ScalarType);
std::unique_ptr<CausalLM> make_gptj(const ModelConfig&, const WeightSource&, at::Device, at::ScalarType);
std::unique_ptr<CausalLM> make_gpt_neox(const ModelConfig&, const WeightSource&, at::Device, at::ScalarType);
std::unique_ptr<CausalLM> make_llama(const ModelConfig&, const WeightSource&, at::Device, at::ScalarType);
std::unique_ptr<CausalLM> make_mistral(const ModelConfig&, const WeightSource&, at::Device, at::ScalarType);
std::unique_ptr<CausalLM> make_qwen2(const ModelConfig&, const WeightSource&, at::Device, at::ScalarType);
std::unique_ptr<CausalLM> make_qwen3(const ModelConfig&, const WeightSource&, at::Device, at::ScalarType);
std::unique_ptr<CausalLM> make_gemma(const ModelConfig&, const WeightSource&, at::Device, at::ScalarType);
std::unique_ptr<CausalLM> make_gemma2(const ModelConfig&, const WeightSource&, at::Device, at::ScalarType);
std::unique_ptr<CausalLM> make_gemma3(const ModelConfig&, const WeightSource&, at::Device, at::ScalarType);
std::unique_ptr<CausalLM> make_phi3(const ModelConfig&, const WeightSource&, at::Device, at::ScalarType);
}  // namespace models

// In the order the "supported: ..." messages list them.
const std::vector<Architecture>& architectures() {
  static const std::vector<Architecture> kTable = {
      {"gpt2", models::gpt2_config, models::make_gpt2},
      {"opt", models::opt_config, models::make_opt},
      {"gptj", models::gptj_config, models::make_gptj},
      {"gpt_neox", models::gpt_neox_config, models::make_gpt_neox},
      {"llama", models::llama_config, models::make_llama},
      {"mistral", models::mistral_config, models::make_mistral},
      {"qwen2", models::qwen2_config, models::make_qwen2},
      {"qwen3", models::qwen3_config, models::make_qwen3},
      {"gemma", models::gemma_config, models::make_gemma},
      {"gemma2", models::gemma2_config, models::make_gemma2},
      {"gemma3_text", models::gemma3_text_config, models::make_gemma3},
      {"gemma3", models::gemma3_text_config, models::make_gemma3, "text_config"},  // multimodal: its text tower
      {"phi3", models::phi3_config, models::make_phi3},
  };
  return kTable;
}

const Architecture* find_architecture(const std::string& model_type) {
  for (const auto& architecture : architectures())
    if (architecture.model_type == model_type) return &architecture;
  return nullptr;
}

std::string unsupported_model_type(const std::string& model_type) {
  std::string known;
  for (const auto& architecture : architectures()) known += (known.empty() ? "" : ", ") + architecture.model_type;
  return "unsupported model_type '" + model_type + "' (supported: " + known + ")";
}

std::unique_ptr<CausalLM> make_model(const ModelConfig& config, const WeightSource& weights, at::Device device,
                                     at::ScalarType dtype) {
  const Architecture* architecture = find_architecture(config.model_type);
  if (!architecture) throw InputError(weights.describe(), unsupported_model_type(config.model_type));
  if (dtype != at::kFloat && dtype != at::kBFloat16 && dtype != at::kHalf)
    throw UsageError("dtype must be float32, bfloat16 or float16");
  if (dtype == at::kHalf && device.is_cpu())
    throw UsageError("float16 needs a GPU (LibTorch's CPU kernels lack it); use bfloat16 or float32 on the CPU");
  if (config.num_heads <= 0 || config.num_kv_heads <= 0 || config.num_heads % config.num_kv_heads != 0)
    throw InputError(weights.describe(), "num_attention_heads must be a multiple of num_key_value_heads");
  return architecture->make(config, weights, device, dtype);
}

}  // namespace cascade
