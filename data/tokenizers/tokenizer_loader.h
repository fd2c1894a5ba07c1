#pragma once
// Reading tokenizers from files: HF tokenizer.json (the general pipeline, hf_tokenizer.h), GPT-2's
// vocab.json + merges.txt or OpenAI's encoder.json + vocab.bpe (the same pipeline, byte-level),
// sentencepiece tokenizer.model (the sentencepiece library), llama2.c's tokens.json, and a loader
// that picks the files in a model folder and applies the model's BOS rule. Malformed files throw
// InputError naming the file; an unsupported tokenizer.json component is one line naming it.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/tokenizer.h"
#include "data/tokenizers/hf_tokenizer.h"
#include "data/tokenizers/sp_model_tokenizer.h"
#include "data/tokenizers/sp_tokenizer.h"

namespace cascade::data {

// vocab_path: a JSON object token -> id (vocab.json / encoder.json); merges_path: one "A B" pair per
// line in rank order, a leading "#version" line and empty lines skipped (merges.txt / vocab.bpe).
// "<|endoftext|>" is matched verbatim in the text when the vocabulary has it, as are `added`.
std::unique_ptr<HfTokenizer> load_gpt2_bpe(const std::string& vocab_path, const std::string& merges_path,
                                           std::vector<AddedToken> added = {},
                                           std::optional<int64_t> add_bos_id = std::nullopt);

// An HF tokenizer.json as transformers 4.x uses it: its post-processor, and a tokenizer_config.json
// beside it (LlamaTokenizer(Fast) / GemmaTokenizer(Fast): add_bos_token, default true, and
// add_eos_token, default false, replace the post-processor's template).
std::unique_ptr<HfTokenizer> load_hf_tokenizer(const std::string& path);
// The same file with only `add_bos_id` added by encode(text, true) (nullopt: nothing).
std::unique_ptr<Tokenizer> load_hf_tokenizer_json(const std::string& path, std::optional<int64_t> add_bos_id);

// llama2.c's tokenizer as JSON: a list of {"id", "piece", "score"} covering ids 0..n-1, pieces with
// plain spaces, 0 = <unk>, 1 = BOS, 2 = EOS (control), "<0xNN>" = byte pieces. Encodes as
// llama2.c's encode() (BOS, dummy prefix " ", score-ordered merges, byte fallback).
std::unique_ptr<SentencePieceTokenizer> load_llama2c_tokens(const std::string& path,
                                                            std::optional<int64_t> add_bos_id = 1);

// A sentencepiece tokenizer.model (BPE or unigram). add_bos_id: as given; nullopt = the model's bos_id.
std::unique_ptr<SentencePieceModelTokenizer> load_sentencepiece_model(const std::string& path,
                                                                      std::optional<int64_t> add_bos_id = std::nullopt);

// The tokenizer in a model folder, the first of: tokenizer.json, vocab.json + merges.txt,
// encoder.json + vocab.bpe, tokens.json, tokenizer.model. encode(text, true) adds:
//   tokenizer.json: what HF adds (load_hf_tokenizer), whatever the model_type;
//   otherwise by config.json's "model_type": opt: "</s>" (id 2 in OPT's vocabulary); llama,
//   mistral, mixtral and any SentencePiece-style file: BOS = config.json's bos_token_id, else the
//   tokenizer's "<s>", else 1 (none if tokenizer_config.json says "add_bos_token": false); other
//   byte-level files (gpt2, gptj, gpt_neox, ...): nothing.
// Throws InputError naming the folder and the files looked for when there is no tokenizer.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& model_dir, const std::string& model_type);

// The same files, with BOS given explicitly (nullopt: encode never adds one).
std::unique_ptr<Tokenizer> load_tokenizer_with_bos(const std::string& model_dir, std::optional<int64_t> add_bos_id);

// A folder (as load_tokenizer, model_type from a config.json there), a tokenizer.json
// (load_hf_tokenizer) or a sentencepiece .model file.
std::unique_ptr<Tokenizer> load_tokenizer_path(const std::string& path);

}  // namespace cascade::data
