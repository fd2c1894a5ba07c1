#pragma once
// The architectures Cascade Lens runs, one row each in core/models/architectures.cpp: the HF
// model_type, the function that reads that model_type's config.json keys (with its transformers
// class defaults) and the one that builds the model. make_model, data::read_hf_config and the
// "supported: ..." messages all read this table.
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <memory>
#include <string>
#include <vector>

#include "core/model_config.h"

namespace cascade {

class CausalLM;
class ConfigReader;
class WeightSource;

struct Architecture {
  std::string model_type;
  // The architecture's own keys; data/ adds model_type, name, vocab_size (unless the file lacks it
  // and the reader set its class default) and the token ids.
  ModelConfig (*read_config)(const ConfigReader&);
  std::unique_ptr<CausalLM> (*make)(const ModelConfig&, const WeightSource&, at::Device, at::ScalarType);
  // Where the text model's keys are, when not at the top level (multimodal gemma3: "text_config").
  std::string text_config = {};
};

const std::vector<Architecture>& architectures();
const Architecture* find_architecture(const std::string& model_type);  // nullptr when not in the table
// "unsupported model_type 'bert' (supported: gpt2, ...)"
std::string unsupported_model_type(const std::string& model_type);

}  // namespace cascade
