#pragma once
// Text ↔ token ids, and a display string per token (byte-level 'Ġ' shown as a space, newlines
// visible as ⏎). Implemented in data/ (HF tokenizer.json pipelines, sentencepiece .model files,
// llama2.c's tokens.json).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cascade {

// One tokenized text: the ids, the tokens as the vocabulary spells them ("Ġworld", "▁Hello",
// "<0x0A>"), and for each the bytes [begin, end) of the input it came from (special tokens the
// post-processor adds: [0, 0)).
struct Encoding {
  std::vector<int64_t> ids;
  std::vector<std::string> tokens;
  std::vector<std::pair<size_t, size_t>> offsets;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // As HF's tokenizer(text).input_ids does for the model: add_special = true adds what the model's
  // tokenizer adds (Llama <s>, OPT </s>; GPT-2/GPT-J/NeoX nothing); false is add_special_tokens=False.
  virtual std::vector<int64_t> encode(const std::string& text, bool add_special = true) const = 0;
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;  // exact text
  virtual std::string display(int64_t id) const = 0;                       // one token, for views
  virtual int64_t vocab_size() const = 0;

  // The ids with their tokens and byte offsets. This fallback spells tokens with display() and
  // takes offsets from the decoded prefixes (exact where decode(encode(text)) == text).
  virtual Encoding encode_detailed(const std::string& text, bool add_special = true) const {
    Encoding e;
    e.ids = encode(text, add_special);
    std::vector<int64_t> prefix;
    size_t at = 0;
    for (const int64_t id : e.ids) {
      prefix.push_back(id);
      const size_t end = std::max(at, std::min(decode(prefix).size(), text.size()));
      e.tokens.push_back(display(id));
      e.offsets.emplace_back(at, end);
      at = end;
    }
    return e;
  }
};

}  // namespace cascade
