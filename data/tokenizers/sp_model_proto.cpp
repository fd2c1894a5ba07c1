// Minimal protobuf wire-format reader for sentencepiece's ModelProto.
#include "data/tokenizers/sp_model_proto.h"

#include <cstring>
#include <string_view>

#include "core/errors.h"

namespace cascade::data {
namespace {

class Reader {
 public:
  Reader(std::string_view bytes, const std::string& source) : s_(bytes), source_(source) {}
  bool done() const { return pos_ >= s_.size(); }

  uint64_t varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= s_.size()) fail("truncated varint");
      const auto b = static_cast<uint8_t>(s_[pos_++]);
      value |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return value;
    }
    fail("varint longer than 10 bytes");
  }
  // (field number, wire type)
  std::pair<uint32_t, int> key() {
    const uint64_t k = varint();
    return {static_cast<uint32_t>(k >> 3), static_cast<int>(k & 7)};
  }
  std::string_view bytes() {
    const uint64_t n = varint();
    if (n > s_.size() - pos_) fail("length-delimited field runs past the end");
    const std::string_view out = s_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  float fixed32_float() {
    if (s_.size() - pos_ < 4) fail("truncated fixed32");
    uint32_t bits = 0;
    for (int i = 0; i < 4; ++i) bits |= static_cast<uint32_t>(static_cast<uint8_t>(s_[pos_ + i])) << (8 * i);
    pos_ += 4;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  void skip(int wire) {
    switch (wire) {
      case 0: varint(); return;
      case 1: advance(8); return;
      case 2: bytes(); return;
      case 5: advance(4); return;
      default: fail("unsupported wire type " + std::to_string(wire));
    }
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(source_, "not a sentencepiece model (" + what + " at byte " + std::to_string(pos_) + ")");
  }

 private:
  void advance(size_t n) {
    if (s_.size() - pos_ < n) fail("truncated field");
    pos_ += n;
  }
  std::string_view s_;
  const std::string& source_;
  size_t pos_ = 0;
};

SpPiece parse_piece(std::string_view bytes, const std::string& source) {
  Reader r(bytes, source);
  SpPiece p;
  while (!r.done()) {
    const auto [field, wire] = r.key();
    if (field == 1 && wire == 2) {
      p.piece = std::string(r.bytes());
    } else if (field == 2 && wire == 5) {
      p.score = r.fixed32_float();
    } else if (field == 3 && wire == 0) {
      const uint64_t t = r.varint();
      if (t < 1 || t > 6) r.fail("unknown piece type " + std::to_string(t));
      p.type = static_cast<SpPiece::Type>(t);
    } else {
      r.skip(wire);
    }
  }
  return p;
}

}  // namespace

SentencePieceModel parse_sentencepiece_model(const std::string& bytes, const std::string& source) {
  SentencePieceModel m;
  Reader r(bytes, source);
  while (!r.done()) {
    const auto [field, wire] = r.key();
    if (field == 1 && wire == 2) {
      m.pieces.push_back(parse_piece(r.bytes(), source));
    } else if (field == 2 && wire == 2) {
      Reader t(r.bytes(), source);
      while (!t.done()) {
        const auto [f, w] = t.key();
        if (w != 0) {
          t.skip(w);
          continue;
        }
        const auto v = static_cast<int64_t>(static_cast<int32_t>(t.varint()));  // int32 / enum / bool
        if (f == 3) m.model_type = static_cast<int>(v);
        else if (f == 35) m.byte_fallback = v != 0;
        else if (f == 40) m.unk_id = v;
        else if (f == 41) m.bos_id = v;
        else if (f == 42) m.eos_id = v;
        else if (f == 43) m.pad_id = v;
      }
    } else if (field == 3 && wire == 2) {
      Reader n(r.bytes(), source);
      while (!n.done()) {
        const auto [f, w] = n.key();
        if (f == 1 && w == 2) m.normalizer_name = std::string(n.bytes());
        else if (f == 3 && w == 0) m.add_dummy_prefix = n.varint() != 0;
        else if (f == 4 && w == 0) m.remove_extra_whitespaces = n.varint() != 0;
        else n.skip(w);
      }
    } else {
      r.skip(wire);
    }
  }
  if (m.pieces.empty()) throw InputError(source, "not a sentencepiece model (no pieces)");
  return m;
}

}  // namespace cascade::data
