#pragma once
// Llama-style SentencePiece BPE: the text gets a dummy-prefix space, spaces are written as a
// space symbol ("▁" U+2581, or a plain space in llama2.c's tokens.json), it is split into UTF-8
// characters (unknown characters fall back to <0xNN> byte pieces) and adjacent pieces are merged,
// either by highest piece score (sentencepiece, llama2.c) or by lowest merge rank (HF
// tokenizer.json). Files are read by data/tokenizer_loader.h.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/tokenizer.h"
#include "data/tokenizers/bpe_common.h"

namespace cascade::data {

struct SpPiece {
  // sentencepiece's SentencePiece.Type values.
  enum class Type : uint8_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };
  std::string piece;
  float score = 0;
  Type type = Type::kNormal;
};

struct SpOptions {
  std::string space = "\xE2\x96\x81";  // how a space is written in pieces: "▁" (llama2.c: " ")
  bool add_dummy_prefix = true;         // one space before non-empty text; decode drops it again
  bool dummy_prefix_every_segment = true;  // before every stretch between added tokens (HF legacy
                                           // Prepend normalizer); false: only a stretch at offset 0
  bool remove_extra_whitespaces = false;   // sentencepiece: trim spaces, collapse runs to one
  bool byte_fallback = true;               // unknown characters -> their <0xNN> pieces (else unk)
  std::optional<int64_t> add_bos_id = 1;   // prepended by encode(text, add_special = true)
  // kScore: merge the pair whose concatenation is the piece with the highest score (sentencepiece
  // BPE, llama2.c). kRank: HF BPE, `merges` in rank order (each pair's parts and result are pieces).
  enum class MergeOrder { kScore, kRank } merge_order = MergeOrder::kScore;
  std::vector<std::pair<std::string, std::string>> merges;
  // Matched verbatim in the raw text before anything else (HF added_tokens, sentencepiece
  // user-defined pieces). Their ids may lie past the pieces; special ones decode to nothing.
  std::vector<AddedToken> added;
};

// The byte of a "<0xNN>" piece (two hex digits, either case), or nullopt.
std::optional<uint8_t> byte_piece_value(const std::string& piece);

class SentencePieceTokenizer final : public Tokenizer {
 public:
  // pieces[i] is the piece of id i. `source` names the file(s) in InputErrors.
  SentencePieceTokenizer(std::vector<SpPiece> pieces, SpOptions options, const std::string& source);

  std::vector<int64_t> encode(const std::string& text, bool add_special = true) const override;
  // Pieces concatenated with the space symbol as ' ', <0xNN> pieces as raw bytes, control pieces
  // (BOS, EOS) left out; the first piece of the output loses one leading space when
  // add_dummy_prefix is on (sentencepiece and HF do this at the start of the output; llama2.c
  // after BOS: the same for sequences that start with BOS).
  std::string decode(const std::vector<int64_t>& ids) const override;
  // A piece for views: space symbol -> ' ', <0x0A> and '\n' -> "⏎", <0x09> -> "⇥", other byte
  // pieces as the character when printable ASCII else "<0xNN>", control pieces trimmed ("<s>").
  std::string display(int64_t id) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(pieces_.size()); }

  const SpPiece& piece(int64_t id) const;
  std::optional<int64_t> piece_id(const std::string& piece) const;
  const SpOptions& options() const { return options_; }
  void set_add_bos_id(std::optional<int64_t> id) { options_.add_bos_id = id; }

 private:
  void encode_plain(std::string text, bool first_stretch, std::vector<int64_t>& out) const;

  std::vector<SpPiece> pieces_;
  SpOptions options_;
  std::unordered_map<std::string, int64_t> all_ids_;    // every piece -> id (first wins)
  std::unordered_map<std::string, int64_t> merge_ids_;  // normal and user-defined pieces -> id
  std::unordered_map<uint64_t, BpeMerge> rank_merges_;  // (left << 32 | right) -> rank, result
  int64_t byte_ids_[256];
  std::optional<int64_t> unk_id_;
};

}  // namespace cascade::data
