#pragma once
// An HF tokenizer.json as its pipeline defines it: added tokens split first (leftmost, longest;
// lstrip / rstrip / single_word / normalized), then the normalizer, the pre-tokenizer, the BPE
// model, and the post-processor's special tokens; decode runs the decoder chain. GPT-2's
// vocab.json + merges.txt is the same pipeline with ByteLevel pre-tokenizer and decoder.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/tokenizer.h"
#include "data/tokenizers/bpe_model.h"
#include "data/tokenizers/hf_components.h"

namespace cascade::data {

struct HfAddedToken {
  std::string content;
  int64_t id = 0;
  bool special = false;      // dropped by decode(ids, skip_special = true)
  bool lstrip = false;       // the match takes the whitespace on its left
  bool rstrip = false;       // ... and on its right
  bool normalized = false;   // matched in the normalized text (else in the raw input)
  bool single_word = false;  // only where no word character touches it
};

class HfTokenizer final : public Tokenizer {
 public:
  // `root` is a parsed tokenizer.json; `source` names it in InputErrors. The post-processor's
  // special tokens are added by encode(text, true) (replace them with set_special_tokens).
  HfTokenizer(const nlohmann::json& root, const std::string& source);

  std::vector<int64_t> encode(const std::string& text, bool add_special = true) const override;
  Encoding encode_detailed(const std::string& text, bool add_special = true) const override;
  // HF's decode without clean_up_tokenization_spaces; special added tokens are written back by
  // byte-level decoders (as GPT-2's tokenizer does) and left out by SentencePiece-style ones (as
  // sentencepiece leaves out control pieces). Invalid UTF-8 stays as bytes (HF writes U+FFFD).
  std::string decode(const std::vector<int64_t>& ids) const override;
  std::string decode(const std::vector<int64_t>& ids, bool skip_special) const;
  // The token through the decoder alone, made visible ("Ġthe" and "▁the" -> " the", "<0x0A>" ->
  // "⏎"); special tokens as written, trimmed.
  std::string display(int64_t id) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(tokens_.size()); }

  // The token's string in the vocabulary ("Ġthe"), or an added token's content; "" for a hole.
  const std::string& token(int64_t id) const;
  std::optional<int64_t> token_id(const std::string& token) const;
  // What encode(text, true) puts before and after the text's tokens (the post-processor's single
  // template, or tokenizer_config.json's add_bos_token / add_eos_token).
  void set_special_tokens(std::vector<int64_t> prefix, std::vector<int64_t> suffix);
  const std::vector<int64_t>& prefix_ids() const { return prefix_; }
  const std::vector<int64_t>& suffix_ids() const { return suffix_; }
  void set_add_bos_id(std::optional<int64_t> id);  // prefix = {id} (or nothing), suffix = nothing

 private:
  struct Piece {
    int64_t id;
    size_t begin, end;  // bytes of the input
  };
  struct Match {
    size_t begin, end;
    const HfAddedToken* token;  // null: plain text
  };
  std::vector<Match> split_added(std::string_view text, const std::vector<const HfAddedToken*>& candidates) const;
  void encode_plain(const NormalizedText& text, std::vector<Piece>& out) const;
  std::vector<Piece> encode_pieces(const std::string& text) const;

  std::string source_;
  BpeModel model_;
  std::vector<HfAddedToken> added_;
  std::vector<const HfAddedToken*> raw_added_, normalized_added_;  // matched before / after normalizing
  std::vector<std::string> normalized_content_;                   // per added_: content as normalized
  std::vector<NormalizeStep> normalizer_;
  std::vector<PreTokenizeStep> pre_tokenizer_;
  std::vector<DecodeStep> decoder_;
  bool byte_level_decoder_ = false;
  std::vector<std::string> tokens_;      // id -> string
  std::vector<int> added_index_;         // id -> index in added_, or -1
  std::vector<int64_t> prefix_, suffix_;
};

// BpeOptions from tokenizer.json's "model" object (type BPE; other types are an InputError).
BpeOptions parse_bpe_model(const nlohmann::json& model, const std::string& source);
// model.merges as "A B" strings or [A, B] pairs.
std::vector<std::pair<std::string, std::string>> parse_json_merges(const nlohmann::json& j, const std::string& source);

}  // namespace cascade::data
