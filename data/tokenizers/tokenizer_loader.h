#pragma once
// Reading tokenizers from files: GPT-2 byte-level BPE (vocab.json + merges.txt, or OpenAI's
// encoder.json + vocab.bpe, or an HF tokenizer.json), Llama SentencePiece BPE (HF tokenizer.json,
// sentencepiece tokenizer.model, llama2.c's tokens.json), and a loader that picks the files in a
// model folder and applies the model's BOS rule. Malformed files throw InputError naming the file.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/tokenizer.h"
#include "data/tokenizers/bpe_tokenizer.h"
#include "data/tokenizers/sp_tokenizer.h"

namespace cascade::data {

// vocab_path: a JSON object token -> id (vocab.json / encoder.json); merges_path: one "A B" pair per
// line in rank order, a leading "#version" line and empty lines skipped (merges.txt / vocab.bpe).
// "<|endoftext|>" is matched verbatim in the text when the vocabulary has it, as are `added`.
std::unique_ptr<ByteLevelBpeTokenizer> load_gpt2_bpe(const std::string& vocab_path, const std::string& merges_path,
                                                     std::vector<AddedToken> added = {},
                                                     std::optional<int64_t> add_bos_id = std::nullopt);

// An HF fast-tokenizer file with model.type "BPE": byte-level (pre_tokenizer or decoder ByteLevel,
// GPT-2's regex) or Llama style (byte_fallback, "▁" via a Prepend/Replace normalizer or a Metaspace
// pre-tokenizer). model.merges as "A B" strings or [A, B] pairs; added_tokens matched verbatim.
// add_bos_id as given (load_tokenizer applies the model's rule).
std::unique_ptr<Tokenizer> load_hf_tokenizer_json(const std::string& path, std::optional<int64_t> add_bos_id);

// llama2.c's tokenizer as JSON: a list of {"id", "piece", "score"} covering ids 0..n-1, pieces with
// plain spaces, 0 = <unk>, 1 = BOS, 2 = EOS (control), "<0xNN>" = byte pieces. Encodes as
// llama2.c's encode() (BOS, dummy prefix " ", score-ordered merges, byte fallback).
std::unique_ptr<SentencePieceTokenizer> load_llama2c_tokens(const std::string& path,
                                                            std::optional<int64_t> add_bos_id = 1);

// A sentencepiece tokenizer.model (BPE models; unigram ones are refused). add_bos_id: as given;
// nullopt = the model's bos_id.
std::unique_ptr<SentencePieceTokenizer> load_sentencepiece_model(const std::string& path,
                                                                 std::optional<int64_t> add_bos_id = std::nullopt);

// The tokenizer in a model folder, the first of: tokenizer.json, vocab.json + merges.txt,
// encoder.json + vocab.bpe, tokens.json, tokenizer.model. encode(text, true) prepends BOS as HF does
// for the model_type (config.json's "model_type"):
//   gpt2, gptj, gpt_neo, gpt_neox, ...: nothing;  opt: "</s>" (id 2 in OPT's vocabulary);
//   llama, mistral, mixtral (and any SentencePiece-style tokenizer of an unknown model_type): BOS =
//   config.json's bos_token_id, else the tokenizer's "<s>", else 1 (none if tokenizer_config.json
//   says "add_bos_token": false);  other types: the tokenizer.json post-processor's leading
//   special token, if any.
// Throws InputError naming the folder and the files looked for when there is no tokenizer.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& model_dir, const std::string& model_type);

// The same files, with BOS given explicitly (nullopt: encode never adds one).
std::unique_ptr<Tokenizer> load_tokenizer_with_bos(const std::string& model_dir, std::optional<int64_t> add_bos_id);

}  // namespace cascade::data
