#pragma once
// Training a GPT-2 style byte-level BPE vocabulary (the bundled demo model's), written as HF
// vocab.json + merges.txt so that it loads through load_gpt2_bpe like a real checkpoint's files.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace cascade::data {

struct BpeTrainOptions {
  int64_t vocab_size = 4096;     // including the 256 byte symbols and the special tokens
  int64_t min_frequency = 2;     // a pair seen fewer times than this is never merged
  std::vector<std::string> special_tokens = {"<|endoftext|>"};  // appended after the merges
};

struct BpeVocabulary {
  // Id order, in GPT-2's byte alphabet ("Ġthe"), as encoder.json: ids 0..255 are the byte symbols
  // in bytes_to_unicode order, then one token per merge (in merge order, when its string is new),
  // then the special tokens verbatim.
  std::vector<std::string> tokens;
  std::vector<std::pair<std::string, std::string>> merges;  // rank order
};

// GPT-2 style training: every text is split on the special tokens and pre-tokenized with
// gpt2_pretokenize; the pieces' frequencies are counted; then the most frequent adjacent pair
// (ties: the lexicographically smallest (left, right) by their byte-alphabet UTF-8 strings) is
// merged until vocab_size - |special_tokens| tokens exist or no pair occurs min_frequency times.
// Deterministic. progress(done, total) is called after merges (total = the merges wanted).
// Throws UsageError when vocab_size is below 256 + the special tokens.
BpeVocabulary train_byte_level_bpe(const std::vector<std::string>& texts, const BpeTrainOptions& options,
                                   const std::function<void(int64_t done, int64_t total)>& progress = {});

// Writes dir/vocab.json (token -> id, in id order) and dir/merges.txt ("#version: 0.2", then
// "A B" per line in rank order); creates dir. Throws InputError naming the file on failure.
void write_hf_bpe(const BpeVocabulary& vocab, const std::string& dir);

}  // namespace cascade::data
