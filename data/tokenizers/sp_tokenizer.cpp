// Llama-style SentencePiece BPE (score-ordered or rank-ordered merges, byte fallback).
#include "data/tokenizers/sp_tokenizer.h"

#include <algorithm>

#include "core/errors.h"
#include "data/tokenizers/unicode_props.h"

namespace cascade::data {
namespace {

constexpr int64_t kMaxId = int64_t{1} << 31;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  if (from.empty()) return std::string(s);
  for (size_t pos = 0;;) {
    const size_t hit = s.find(from, pos);
    if (hit == std::string_view::npos) {
      out.append(s.substr(pos));
      return out;
    }
    out.append(s.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
}

// sentencepiece's remove_extra_whitespaces: no leading or trailing spaces, runs of spaces -> one.
std::string collapse_spaces(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

uint64_t pair_key(int64_t a, int64_t b) { return (static_cast<uint64_t>(a) << 32) | static_cast<uint64_t>(b); }

}  // namespace

std::optional<uint8_t> byte_piece_value(const std::string& piece) {
  if (piece.size() != 6 || piece.compare(0, 3, "<0x") != 0 || piece[5] != '>') return std::nullopt;
  const int hi = hex_digit(piece[3]), lo = hex_digit(piece[4]);
  if (hi < 0 || lo < 0) return std::nullopt;
  return static_cast<uint8_t>(hi * 16 + lo);
}

SentencePieceTokenizer::SentencePieceTokenizer(std::vector<SpPiece> pieces, SpOptions options,
                                               const std::string& source)
    : pieces_(std::move(pieces)), options_(std::move(options)) {
  if (pieces_.size() >= static_cast<size_t>(kMaxId)) throw InputError(source, "too many pieces");
  for (const AddedToken& t : options_.added) {
    if (t.id < 0 || t.id >= kMaxId) throw InputError(source, "added token id " + std::to_string(t.id) + " out of range");
    if (t.id >= vocab_size()) pieces_.resize(static_cast<size_t>(t.id) + 1, SpPiece{"", 0, SpPiece::Type::kUnused});
    SpPiece& p = pieces_[static_cast<size_t>(t.id)];
    if (p.piece.empty() || p.type == SpPiece::Type::kUnused) p.piece = t.content;
    if (t.special) p.type = SpPiece::Type::kControl;
  }
  std::fill(std::begin(byte_ids_), std::end(byte_ids_), int64_t{-1});
  for (size_t id = 0; id < pieces_.size(); ++id) {
    const SpPiece& p = pieces_[id];
    const auto i = static_cast<int64_t>(id);
    all_ids_.emplace(p.piece, i);
    switch (p.type) {
      case SpPiece::Type::kNormal:
      case SpPiece::Type::kUserDefined:
        merge_ids_.emplace(p.piece, i);
        break;
      case SpPiece::Type::kUnknown:
        if (!unk_id_) unk_id_ = i;
        break;
      case SpPiece::Type::kByte:
        if (const auto b = byte_piece_value(p.piece)) {
          if (byte_ids_[*b] < 0) byte_ids_[*b] = i;
        } else {
          throw InputError(source, "byte piece " + std::to_string(id) + " is not spelled <0xNN>: '" + p.piece + "'");
        }
        break;
      default:
        break;
    }
  }
  for (size_t rank = 0; rank < options_.merges.size(); ++rank) {
    const auto& [a, b] = options_.merges[rank];
    const auto ia = all_ids_.find(a), ib = all_ids_.find(b), ir = all_ids_.find(a + b);
    if (ia == all_ids_.end() || ib == all_ids_.end() || ir == all_ids_.end())
      throw InputError(source, "merge " + std::to_string(rank + 1) + " '" + a + " " + b +
                                   "' uses a piece that is not in the vocabulary");
    rank_merges_.emplace(pair_key(ia->second, ib->second), BpeMerge{static_cast<double>(rank), ir->second});
  }
}

const SpPiece& SentencePieceTokenizer::piece(int64_t id) const {
  if (id < 0 || id >= vocab_size())
    throw UsageError("token id " + std::to_string(id) + " out of range [0, " + std::to_string(vocab_size()) + ")");
  return pieces_[static_cast<size_t>(id)];
}

std::optional<int64_t> SentencePieceTokenizer::piece_id(const std::string& p) const {
  const auto it = all_ids_.find(p);
  return it == all_ids_.end() ? std::nullopt : std::optional<int64_t>(it->second);
}

void SentencePieceTokenizer::encode_plain(std::string text, bool first_stretch, std::vector<int64_t>& out) const {
  if (options_.remove_extra_whitespaces) text = collapse_spaces(text);
  if (text.empty()) return;
  if (options_.add_dummy_prefix && (first_stretch || options_.dummy_prefix_every_segment)) text.insert(0, " ");
  const std::string norm = replace_all(text, " ", options_.space);

  const bool by_rank = options_.merge_order == SpOptions::MergeOrder::kRank;
  std::vector<BpeSymbol> symbols;
  symbols.reserve(norm.size());
  for (size_t pos = 0; pos < norm.size();) {
    const size_t len = unicode::next_utf8(norm, pos).length;
    const auto it = merge_ids_.find(norm.substr(pos, len));
    if (it != merge_ids_.end()) {
      symbols.push_back({it->second, pos, pos + len, true});
    } else {
      bool all_bytes = options_.byte_fallback;
      for (size_t i = pos; i < pos + len && all_bytes; ++i) all_bytes = byte_ids_[static_cast<uint8_t>(norm[i])] >= 0;
      if (all_bytes) {
        // llama2.c never merges byte-fallback tokens (their piece strings are "<0xNN>"); HF BPE
        // merges them only where a merge rule names them.
        for (size_t i = pos; i < pos + len; ++i)
          symbols.push_back({byte_ids_[static_cast<uint8_t>(norm[i])], i, i + 1, by_rank});
      } else {
        if (!unk_id_) throw UsageError("the tokenizer has neither a piece nor an unknown token for this text");
        symbols.push_back({*unk_id_, pos, pos + len, false});
      }
    }
    pos += len;
  }
  if (by_rank) {
    bpe_merge(symbols, [this](const BpeSymbol& a, const BpeSymbol& b) -> std::optional<BpeMerge> {
      const auto it = rank_merges_.find(pair_key(a.id, b.id));
      if (it == rank_merges_.end()) return std::nullopt;
      return it->second;
    });
  } else {
    bpe_merge(symbols, [this, &norm](const BpeSymbol& a, const BpeSymbol& b) -> std::optional<BpeMerge> {
      const auto it = merge_ids_.find(norm.substr(a.begin, b.end - a.begin));
      if (it == merge_ids_.end()) return std::nullopt;
      return BpeMerge{-static_cast<double>(pieces_[static_cast<size_t>(it->second)].score), it->second};
    });
  }
  for (const BpeSymbol& s : symbols) out.push_back(s.id);
}

std::vector<int64_t> SentencePieceTokenizer::encode(const std::string& text, bool add_special) const {
  std::vector<int64_t> ids;
  if (add_special && options_.add_bos_id) ids.push_back(*options_.add_bos_id);
  for (const TextSegment& seg : split_on_added(text, options_.added)) {
    if (seg.added_id)
      ids.push_back(*seg.added_id);
    else
      encode_plain(text.substr(seg.begin, seg.end - seg.begin), seg.begin == 0, ids);
  }
  return ids;
}

std::string SentencePieceTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  bool at_start = true;
  for (const int64_t id : ids) {
    const SpPiece& p = piece(id);
    switch (p.type) {
      case SpPiece::Type::kControl:
        continue;  // BOS, EOS, special added tokens: no text
      case SpPiece::Type::kByte:
        out += static_cast<char>(*byte_piece_value(p.piece));
        break;
      default: {
        std::string text = replace_all(p.piece, options_.space, " ");
        if (at_start && options_.add_dummy_prefix && !text.empty() && text.front() == ' ') text.erase(0, 1);
        out += text;
      }
    }
    at_start = false;
  }
  return out;
}

std::string SentencePieceTokenizer::display(int64_t id) const {
  const SpPiece& p = piece(id);
  switch (p.type) {
    case SpPiece::Type::kControl: {
      const size_t first = p.piece.find_first_not_of(" \t\r\n");
      const size_t last = p.piece.find_last_not_of(" \t\r\n");
      return first == std::string::npos ? p.piece : p.piece.substr(first, last - first + 1);
    }
    case SpPiece::Type::kByte:
      return unicode::visible(std::string(1, static_cast<char>(*byte_piece_value(p.piece))));
    case SpPiece::Type::kUnknown:
      return p.piece;
    default:
      return unicode::visible(replace_all(p.piece, options_.space, " "));
  }
}

}  // namespace cascade::data
