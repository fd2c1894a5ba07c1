#pragma once
// HF's BPE model: a word's characters (or their <0xNN> bytes with byte_fallback, else unk) merged
// by lowest merge rank, the leftmost pair on ties; ignore_merges emits a word that is itself in the
// vocabulary whole. Used for byte-level (GPT-2, Llama 3, Qwen) and SentencePiece-style
// (Llama 2, Mistral, Gemma) tokenizer.json files alike.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "data/tokenizers/bpe_common.h"

namespace cascade::data {

struct BpeOptions {
  std::unordered_map<std::string, int64_t> vocab;
  std::vector<std::pair<std::string, std::string>> merges;  // rank order
  std::optional<std::string> unk_token;
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
  std::string continuing_subword_prefix;  // put before every character but a word's first
  std::string end_of_word_suffix;         // put after a word's last character
};

struct BpeToken {
  int64_t id;
  size_t begin, end;  // bytes of the word
};

class BpeModel {
 public:
  // Throws InputError(source, ...) when a merge names a token outside the vocabulary.
  BpeModel(BpeOptions options, const std::string& source);

  std::vector<BpeToken> tokenize(std::string_view word) const;
  std::optional<int64_t> token_id(const std::string& token) const;
  const std::unordered_map<std::string, int64_t>& vocab() const { return options_.vocab; }

 private:
  std::vector<BpeToken> merge_word(std::string_view word) const;

  BpeOptions options_;
  std::unordered_map<uint64_t, BpeMerge> merges_;  // (left id << 32 | right id) -> rank, result
  std::optional<int64_t> unk_id_;
  int64_t byte_ids_[256];
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<BpeToken>> cache_;  // short words -> tokens
};

}  // namespace cascade::data
