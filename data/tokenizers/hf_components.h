#pragma once
// The pipeline stages of an HF tokenizer.json, one function per JSON "type" (Sequences
// flattened): normalizers edit the text, pre-tokenizers split it into words, decoders turn token
// strings back into text. A component we do not implement is an InputError naming it.
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "data/tokenizers/normalized_text.h"

namespace cascade::data {

using NormalizeStep = std::function<void(NormalizedText&)>;
using PreTokenizeStep = std::function<void(std::vector<NormalizedText>&)>;

struct DecodeStep {
  std::function<void(std::vector<std::string>&)> decode;  // HF's decode_chain
  std::function<void(std::string&)> display;              // the same for one token shown alone; may be empty
};

// The stages of tokenizer.json's "normalizer" / "pre_tokenizer" / "decoder" (null: none).
// `source` names the file in errors.
std::vector<NormalizeStep> parse_normalizer(const nlohmann::json& j, const std::string& source);
std::vector<PreTokenizeStep> parse_pre_tokenizer(const nlohmann::json& j, const std::string& source);
std::vector<DecodeStep> parse_decoder(const nlohmann::json& j, const std::string& source);

// {"String": s} or {"Regex": r}.
TextPattern parse_pattern(const nlohmann::json& j, const std::string& source);

// A vocabulary object (token -> id), as tokenizer.json's model.vocab and vocab.json hold it;
// `where` prefixes the error ("model.vocab: " or nothing).
std::unordered_map<std::string, int64_t> parse_vocab(const nlohmann::json& j, const std::string& source,
                                                     const std::string& where = "");

}  // namespace cascade::data
