#pragma once
// A sentencepiece tokenizer.model through the sentencepiece library (BPE and unigram models, the
// model's own normalization rules, byte fallback, user-defined pieces), which lives in the module
// libcascade_spm.so (spm_backend.h says why). BOS is added by encode(text, true) where set.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/tokenizer.h"

namespace cascade::data {

class SentencePieceModelTokenizer final : public Tokenizer {
 public:
  // Throws InputError(path, ...) when the file is not a sentencepiece model, or when the module is
  // missing (looked for: $CASCADE_SPM_MODULE, beside the executable, ../lib/cascadelens/, the build tree).
  explicit SentencePieceModelTokenizer(const std::string& path);
  ~SentencePieceModelTokenizer() override;

  std::vector<int64_t> encode(const std::string& text, bool add_special = true) const override;
  Encoding encode_detailed(const std::string& text, bool add_special = true) const override;
  std::string decode(const std::vector<int64_t>& ids) const override;  // control pieces left out
  // "▁" -> ' ', byte pieces as the byte made visible, control pieces trimmed ("<s>").
  std::string display(int64_t id) const override;
  int64_t vocab_size() const override;

  std::optional<int64_t> model_bos_id() const;  // the model's bos_id, if it has one
  std::optional<int64_t> piece_id(const std::string& piece) const;
  std::optional<int64_t> add_bos_id() const { return add_bos_id_; }
  void set_add_bos_id(std::optional<int64_t> id) { add_bos_id_ = id; }

 private:
  void check(int64_t id) const;

  std::unique_ptr<class SpmBackend> backend_;
  std::optional<int64_t> add_bos_id_;
};

}  // namespace cascade::data
