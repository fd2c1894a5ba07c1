// GPT-2 byte-level BPE: pre-tokenizer regex by hand, bytes_to_unicode, rank-ordered merges.
#include "data/tokenizers/bpe_tokenizer.h"

#include <array>

#include "core/errors.h"
#include "data/tokenizers/unicode_props.h"

namespace cascade::data {
namespace {

constexpr int64_t kMaxId = int64_t{1} << 31;

struct ByteTables {
  std::array<char32_t, 256> to_unicode{};
  std::array<int, 512> to_byte{};  // every mapped code point is < 512
  ByteTables() {
    to_byte.fill(-1);
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_unicode[b] = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + extra++);
      to_byte[to_unicode[b]] = b;
    }
  }
};

const ByteTables& byte_tables() {
  static const ByteTables tables;
  return tables;
}

enum class CharClass { kLetter, kNumber, kSpace, kOther };

struct CodePoint {
  char32_t cp;
  size_t begin;  // byte offset in the text
  CharClass cls;
};

CharClass classify(char32_t cp, bool valid) {
  if (!valid) return CharClass::kOther;
  if (unicode::is_letter(cp)) return CharClass::kLetter;
  if (unicode::is_number(cp)) return CharClass::kNumber;
  if (unicode::is_whitespace(cp)) return CharClass::kSpace;
  return CharClass::kOther;
}

}  // namespace

char32_t byte_to_unicode(uint8_t b) { return byte_tables().to_unicode[b]; }

int unicode_to_byte(char32_t cp) { return cp < 512 ? byte_tables().to_byte[cp] : -1; }

std::vector<std::pair<size_t, size_t>> gpt2_pretokenize(std::string_view text) {
  std::vector<CodePoint> cps;
  for (size_t pos = 0; pos < text.size();) {
    const unicode::Utf8Char c = unicode::next_utf8(text, pos);
    cps.push_back({c.cp, pos, classify(c.cp, c.valid)});
    pos += c.length;
  }
  const size_t n = cps.size();
  const auto byte_at = [&](size_t i) { return i < n ? cps[i].begin : text.size(); };
  const auto cls_at = [&](size_t i, CharClass c) { return i < n && cps[i].cls == c; };
  const auto cp_at = [&](size_t i) { return i < n ? cps[i].cp : char32_t{0}; };
  std::vector<std::pair<size_t, size_t>> pieces;
  size_t i = 0;
  while (i < n) {
    size_t end = i;  // one past the last code point of the match
    // 's|'t|'re|'ve|'m|'ll|'d (case-sensitive)
    if (cp_at(i) == U'\'') {
      const char32_t a = cp_at(i + 1), b = cp_at(i + 2);
      if (a == U's' || a == U't' || a == U'm' || a == U'd')
        end = i + 2;
      else if ((a == U'r' && b == U'e') || (a == U'v' && b == U'e') || (a == U'l' && b == U'l'))
        end = i + 3;
    }
    //  ?\p{L}+ |  ?\p{N}+ |  ?[^\s\p{L}\p{N}]+
    for (const CharClass c : {CharClass::kLetter, CharClass::kNumber, CharClass::kOther}) {
      if (end != i) break;
      size_t j = i;
      if (cp_at(j) == U' ' && cls_at(j + 1, c)) ++j;
      if (!cls_at(j, c)) continue;
      while (cls_at(j, c)) ++j;
      end = j;
    }
    if (end == i && cls_at(i, CharClass::kSpace)) {
      size_t j = i;
      while (cls_at(j, CharClass::kSpace)) ++j;
      // \s+(?!\S): the whole run at the end of the text; otherwise the run less its last char,
      // which needs at least two chars. \s+: a single whitespace char before a non-space.
      end = (j == n || j - i == 1) ? j : j - 1;
    }
    if (end == i) end = i + 1;  // not reached: every char is in one of the classes above
    pieces.emplace_back(byte_at(i), byte_at(end));
    i = end;
  }
  return pieces;
}

ByteLevelBpeTokenizer::ByteLevelBpeTokenizer(const std::unordered_map<std::string, int64_t>& vocab,
                                             const std::vector<std::pair<std::string, std::string>>& merges,
                                             std::vector<AddedToken> added, std::optional<int64_t> add_bos_id,
                                             const std::string& source, bool add_prefix_space)
    : vocab_(vocab), added_(std::move(added)), add_bos_id_(add_bos_id), add_prefix_space_(add_prefix_space) {
  int64_t size = 0;
  for (const auto& [tok, id] : vocab_) {
    if (id < 0 || id >= kMaxId) throw InputError(source, "token id " + std::to_string(id) + " out of range");
    size = std::max(size, id + 1);
  }
  for (const AddedToken& t : added_) {
    if (t.id < 0 || t.id >= kMaxId) throw InputError(source, "added token id " + std::to_string(t.id) + " out of range");
    size = std::max(size, t.id + 1);
  }
  tokens_.assign(static_cast<size_t>(size), std::string());
  is_added_.assign(static_cast<size_t>(size), 0);
  for (const auto& [tok, id] : vocab_) tokens_[static_cast<size_t>(id)] = tok;
  for (const AddedToken& t : added_) {
    tokens_[static_cast<size_t>(t.id)] = t.content;
    is_added_[static_cast<size_t>(t.id)] = 1;
  }
  for (int b = 0; b < 256; ++b) {
    const auto it = vocab_.find(unicode::encode_utf8(byte_to_unicode(static_cast<uint8_t>(b))));
    if (it == vocab_.end())
      throw InputError(source, "the vocabulary lacks the byte symbol for byte " + std::to_string(b));
    byte_ids_[b] = it->second;
  }
  merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    const auto ia = vocab_.find(a), ib = vocab_.find(b), ir = vocab_.find(a + b);
    if (ia == vocab_.end() || ib == vocab_.end() || ir == vocab_.end())
      throw InputError(source, "merge " + std::to_string(rank + 1) + " '" + a + " " + b +
                                   "' uses a token that is not in the vocabulary");
    const uint64_t key = (static_cast<uint64_t>(ia->second) << 32) | static_cast<uint64_t>(ib->second);
    merges_.emplace(key, BpeMerge{static_cast<double>(rank), ir->second});  // the first rank wins
  }
}

const std::string& ByteLevelBpeTokenizer::token(int64_t id) const {
  if (id < 0 || id >= vocab_size())
    throw UsageError("token id " + std::to_string(id) + " out of range [0, " + std::to_string(vocab_size()) + ")");
  return tokens_[static_cast<size_t>(id)];
}

std::optional<int64_t> ByteLevelBpeTokenizer::token_id(const std::string& tok) const {
  for (const AddedToken& t : added_)
    if (t.content == tok) return t.id;
  const auto it = vocab_.find(tok);
  return it == vocab_.end() ? std::nullopt : std::optional<int64_t>(it->second);
}

void ByteLevelBpeTokenizer::encode_word(std::string_view piece, std::vector<int64_t>& out) const {
  std::string key(piece);
  {
    std::lock_guard lock(cache_mutex_);
    const auto it = cache_.find(key);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<BpeSymbol> symbols;
  symbols.reserve(piece.size());
  for (size_t i = 0; i < piece.size(); ++i)
    symbols.push_back({byte_ids_[static_cast<uint8_t>(piece[i])], i, i + 1, true});
  bpe_merge(symbols, [this](const BpeSymbol& a, const BpeSymbol& b) -> std::optional<BpeMerge> {
    const auto it = merges_.find((static_cast<uint64_t>(a.id) << 32) | static_cast<uint64_t>(b.id));
    if (it == merges_.end()) return std::nullopt;
    return it->second;
  });
  std::vector<int64_t> ids;
  ids.reserve(symbols.size());
  for (const BpeSymbol& s : symbols) ids.push_back(s.id);
  out.insert(out.end(), ids.begin(), ids.end());
  std::lock_guard lock(cache_mutex_);
  if (cache_.size() >= 100000) cache_.clear();
  cache_.emplace(std::move(key), std::move(ids));
}

std::vector<int64_t> ByteLevelBpeTokenizer::encode(const std::string& text, bool add_special) const {
  std::vector<int64_t> ids;
  if (add_special && add_bos_id_) ids.push_back(*add_bos_id_);
  for (const TextSegment& seg : split_on_added(text, added_)) {
    if (seg.added_id) {
      ids.push_back(*seg.added_id);
      continue;
    }
    std::string_view plain(text.data() + seg.begin, seg.end - seg.begin);
    std::string prefixed;
    if (add_prefix_space_ && plain.front() != ' ') {
      prefixed = " " + std::string(plain);
      plain = prefixed;
    }
    for (const auto& [begin, end] : gpt2_pretokenize(plain)) encode_word(plain.substr(begin, end - begin), ids);
  }
  return ids;
}

std::string ByteLevelBpeTokenizer::token_bytes(int64_t id) const {
  const std::string& tok = token(id);
  if (is_added_[static_cast<size_t>(id)]) return tok;
  std::string out;
  for (size_t pos = 0; pos < tok.size();) {
    const unicode::Utf8Char c = unicode::next_utf8(tok, pos);
    const int b = c.valid ? unicode_to_byte(c.cp) : -1;
    if (b >= 0)
      out += static_cast<char>(b);
    else
      out.append(tok, pos, c.length);  // not in the byte alphabet: kept as written
    pos += c.length;
  }
  return out;
}

std::string ByteLevelBpeTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  for (const int64_t id : ids) out += token_bytes(id);
  return out;
}

std::string ByteLevelBpeTokenizer::display(int64_t id) const {
  const std::string& tok = token(id);  // range-checked
  if (is_added_[static_cast<size_t>(id)]) return tok;
  return unicode::visible(token_bytes(id));
}

}  // namespace cascade::data
