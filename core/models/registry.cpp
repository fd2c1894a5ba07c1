// One table from model_type to architecture: the only place that lists them.
#include <functional>
#include <map>

#include "core/errors.h"
#include "core/models/common.h"

namespace cascade {

std::unique_ptr<CausalLM> make_model(const ModelConfig& config, const WeightSource& weights, at::Device device,
                                     at::ScalarType dtype) {
  using Factory = std::function<std::unique_ptr<CausalLM>(const ModelConfig&, const WeightSource&, at::Device,
                                                          at::ScalarType)>;
  static const std::map<std::string, Factory> factories = {{"gpt2", models::make_gpt2},
                                                           {"opt", models::make_opt},
                                                           {"gptj", models::make_gptj},
                                                           {"gpt_neox", models::make_gpt_neox},
                                                           {"llama", models::make_llama}};
  const auto it = factories.find(config.model_type);
  if (it == factories.end())
    throw InputError(weights.describe(), "unsupported model_type '" + config.model_type +
                                             "' (supported: gpt2, opt, gptj, gpt_neox, llama)");
  if (dtype != at::kFloat && dtype != at::kBFloat16 && dtype != at::kHalf)
    throw UsageError("dtype must be float32, bfloat16 or float16");
  if (dtype == at::kHalf && device.is_cpu())
    throw UsageError("float16 needs a GPU (LibTorch's CPU kernels lack it); use --dtype bfloat16 or float32 on the CPU");
  if (config.num_heads <= 0 || config.num_kv_heads <= 0 || config.num_heads % config.num_kv_heads != 0)
    throw InputError(weights.describe(), "num_attention_heads must be a multiple of num_key_value_heads");
  return it->second(config, weights, device, dtype);
}

}  // namespace cascade
