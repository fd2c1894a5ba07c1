// libcascade_spm.so: SpmBackend over sentencepiece::SentencePieceProcessor (see spm_backend.h).
#include <sentencepiece_processor.h>

#include <exception>
#include <memory>
#include <string>

#include "data/tokenizers/spm_backend.h"

namespace cascade::data {
namespace {

class Backend final : public SpmBackend {
 public:
  explicit Backend(std::unique_ptr<sentencepiece::SentencePieceProcessor> p) : p_(std::move(p)) {}

  bool encode(const std::string& text, std::vector<int>& ids, std::vector<std::string>& pieces,
              std::vector<std::pair<size_t, size_t>>& spans, std::string& error) const override try {
    const sentencepiece::ImmutableSentencePieceText spt = p_->EncodeAsImmutableProto(text);
    if (!text.empty() && spt.pieces_size() == 0 && !p_->status().ok()) {
      error = p_->status().ToString();
      return false;
    }
    for (size_t i = 0; i < spt.pieces_size(); ++i) {
      const auto piece = spt.pieces(static_cast<int>(i));
      ids.push_back(static_cast<int>(piece.id()));
      pieces.push_back(piece.piece());
      spans.emplace_back(piece.begin(), piece.end());
    }
    return true;
  } catch (const std::exception& e) {  // nothing may escape the module (a damaged model: tests/fuzz)
    error = std::string("sentencepiece: ") + e.what();
    return false;
  }
  bool decode(const std::vector<int>& ids, std::string& text, std::string& error) const override try {
    const auto status = p_->Decode(ids, &text);
    if (!status.ok()) error = status.ToString();
    return status.ok();
  } catch (const std::exception& e) {
    error = std::string("sentencepiece: ") + e.what();
    return false;
  }
  int size() const override { return p_->GetPieceSize(); }
  int bos_id() const override { return p_->bos_id(); }
  const std::string& piece(int id) const override { return p_->IdToPiece(id); }
  PieceType type(int id) const override {
    if (p_->IsControl(id)) return PieceType::kControl;
    if (p_->IsUnknown(id)) return PieceType::kUnknown;
    if (p_->IsByte(id)) return PieceType::kByte;
    if (p_->IsUnused(id)) return PieceType::kUnused;
    return PieceType::kNormal;
  }
  int piece_to_id(const std::string& piece) const override { return p_->PieceToId(piece); }
  int unk_id() const override { return p_->unk_id(); }

 private:
  std::unique_ptr<sentencepiece::SentencePieceProcessor> p_;
};

}  // namespace
}  // namespace cascade::data

extern "C" __attribute__((visibility("default"))) cascade::data::SpmBackend* cascade_spm_create(const char* path,
                                                                                                 std::string* error) try {
  auto p = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto status = p->Load(path);
  if (!status.ok()) {
    *error = status.ToString();
    return nullptr;
  }
  return new cascade::data::Backend(std::move(p));
} catch (const std::exception& e) {
  // sentencepiece's darts_clone throws on a damaged model (a zero-length piece: found by
  // tests/fuzz, corpora/tokenizer_model/found_zero_length_piece); it must not end the program.
  *error = std::string("sentencepiece cannot build its index: ") + e.what();
  return nullptr;
}
