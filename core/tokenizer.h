#pragma once
// Text ↔ token ids, and a display string per token (byte-level 'Ġ' shown as a space, newlines
// visible as ⏎). Implemented in data/ (GPT-2 byte-level BPE, Llama SentencePiece).
#include <cstdint>
#include <string>
#include <vector>

namespace cascade {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // As HF's tokenizer(text).input_ids does for the model: add_special = true prepends BOS where the
  // model's tokenizer does (Llama <s>, OPT </s>; GPT-2/GPT-J/NeoX add nothing).
  virtual std::vector<int64_t> encode(const std::string& text, bool add_special = true) const = 0;
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;  // exact text
  virtual std::string display(int64_t id) const = 0;                       // one token, for views
  virtual int64_t vocab_size() const = 0;
};

}  // namespace cascade
