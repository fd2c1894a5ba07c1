#pragma once
// A minimal reader for sentencepiece's tokenizer.model (a serialized ModelProto), enough for
// Llama-style BPE models without linking libsentencepiece:
//   ModelProto     { repeated SentencePiece pieces = 1; TrainerSpec trainer_spec = 2;
//                    NormalizerSpec normalizer_spec = 3; }
//   SentencePiece  { string piece = 1; float score = 2; Type type = 3 (NORMAL = 1 default); }
//   TrainerSpec    { ModelType model_type = 3 (UNIGRAM = 1 default, BPE = 2); bool byte_fallback = 35;
//                    int32 unk_id = 40; bos_id = 41 (default 1); eos_id = 42; pad_id = 43; }
//   NormalizerSpec { string name = 1; bool add_dummy_prefix = 3 (default true);
//                    bool remove_extra_whitespaces = 4 (default true); }
// Other fields are skipped by wire type. Normalization rules (precompiled_charsmap, e.g. NFKC) are
// not applied: Llama's normalizer is "identity".
#include <cstdint>
#include <string>
#include <vector>

#include "data/tokenizers/sp_tokenizer.h"

namespace cascade::data {

struct SentencePieceModel {
  std::vector<SpPiece> pieces;
  int model_type = 1;  // 1 unigram, 2 BPE, 3 word, 4 char
  bool byte_fallback = false;
  int64_t unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;
  std::string normalizer_name;
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
};

// Throws InputError(source, ...) on a malformed message.
SentencePieceModel parse_sentencepiece_model(const std::string& bytes, const std::string& source);

}  // namespace cascade::data
