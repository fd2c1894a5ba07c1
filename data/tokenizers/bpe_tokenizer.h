#pragma once
// GPT-2 byte-level BPE (GPT-2, GPT-J, GPT-NeoX/Pythia, OPT): the text is split by GPT-2's
// pre-tokenizer regex, every piece's UTF-8 bytes are mapped through bytes_to_unicode, and each
// piece is merged by lowest merge rank. Files are read by data/tokenizer_loader.h.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/tokenizer.h"
#include "data/tokenizers/bpe_common.h"

namespace cascade::data {

// GPT-2's bytes_to_unicode(): byte b -> the code point that stands for it in the vocabulary
// ('!'..'~', '¡'..'¬', '®'..'ÿ' map to themselves, the other 68 bytes to U+0100.. in order;
// e.g. space -> 'Ġ' U+0120, '\n' -> 'Ċ' U+010A).
char32_t byte_to_unicode(uint8_t b);
// The inverse: the byte a code point stands for, or -1 when it is not in the byte alphabet.
int unicode_to_byte(char32_t cp);

// GPT-2's pre-tokenizer, as a leftmost-first alternation at each position:
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// Returns the pieces as byte ranges [begin, end) of `text`, covering it.
std::vector<std::pair<size_t, size_t>> gpt2_pretokenize(std::string_view text);

class ByteLevelBpeTokenizer final : public Tokenizer {
 public:
  // vocab: token (in the byte alphabet) -> id. merges: pairs in rank order (rank = index). Every
  // merge's parts and result must be in the vocabulary, and so must all 256 byte symbols; `source`
  // names the files in the InputError otherwise. add_bos_id: prepended by encode(text, true).
  // add_prefix_space: a space is put before each text stretch that does not start with one (HF
  // ByteLevel add_prefix_space; false for GPT-2).
  ByteLevelBpeTokenizer(const std::unordered_map<std::string, int64_t>& vocab,
                        const std::vector<std::pair<std::string, std::string>>& merges,
                        std::vector<AddedToken> added, std::optional<int64_t> add_bos_id,
                        const std::string& source, bool add_prefix_space = false);

  std::vector<int64_t> encode(const std::string& text, bool add_special = true) const override;
  std::string decode(const std::vector<int64_t>& ids) const override;
  // The token's bytes made visible: "Ġthe" -> " the", "Ċ" -> "⏎", '\t' -> "⇥"; bytes of an
  // incomplete UTF-8 sequence -> "<0xE2>"; added tokens as written.
  std::string display(int64_t id) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(tokens_.size()); }

  // The token's string in the byte alphabet ("Ġthe"), or its content for an added token.
  const std::string& token(int64_t id) const;
  std::optional<int64_t> token_id(const std::string& token) const;
  std::optional<int64_t> add_bos_id() const { return add_bos_id_; }
  void set_add_bos_id(std::optional<int64_t> id) { add_bos_id_ = id; }

 private:
  void encode_word(std::string_view piece, std::vector<int64_t>& out) const;
  std::string token_bytes(int64_t id) const;  // raw bytes of the token (added: content)

  std::unordered_map<std::string, int64_t> vocab_;
  std::vector<std::string> tokens_;     // id -> string ("" for holes)
  std::vector<char> is_added_;          // id -> added token
  std::unordered_map<uint64_t, BpeMerge> merges_;  // (left id << 32 | right id) -> rank, result
  int64_t byte_ids_[256];
  std::vector<AddedToken> added_;
  std::optional<int64_t> add_bos_id_;
  bool add_prefix_space_ = false;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int64_t>> cache_;  // piece -> ids
};

}  // namespace cascade::data
