// HF BPE: initial symbols, the rank-ordered merge loop of bpe_common.h, a cache for short words.
#include "data/tokenizers/bpe_model.h"

#include <cstdio>

#include "core/errors.h"
#include "data/tokenizers/unicode_props.h"

namespace cascade::data {
namespace {

constexpr int64_t kMaxId = int64_t{1} << 31;
constexpr size_t kCachedWordBytes = 64;

uint64_t pair_key(int64_t a, int64_t b) { return (static_cast<uint64_t>(a) << 32) | static_cast<uint64_t>(b); }

}  // namespace

BpeModel::BpeModel(BpeOptions options, const std::string& source) : options_(std::move(options)) {
  for (const auto& [tok, id] : options_.vocab)
    if (id < 0 || id >= kMaxId) throw InputError(source, "token id " + std::to_string(id) + " out of range");
  if (options_.unk_token) {
    const auto it = options_.vocab.find(*options_.unk_token);
    if (it != options_.vocab.end()) unk_id_ = it->second;
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    const auto it = options_.vocab.find(name);
    byte_ids_[b] = it == options_.vocab.end() ? -1 : it->second;
  }
  const size_t prefix = options_.continuing_subword_prefix.size();
  merges_.reserve(options_.merges.size());
  for (size_t rank = 0; rank < options_.merges.size(); ++rank) {
    const auto& [a, b] = options_.merges[rank];
    const std::string joined = a + (b.compare(0, prefix, options_.continuing_subword_prefix) == 0 ? b.substr(prefix) : b);
    const auto ia = options_.vocab.find(a), ib = options_.vocab.find(b), ir = options_.vocab.find(joined);
    if (ia == options_.vocab.end() || ib == options_.vocab.end() || ir == options_.vocab.end())
      throw InputError(source, "merge " + std::to_string(rank + 1) + " '" + a + " " + b +
                                   "' uses a token that is not in the vocabulary");
    merges_.emplace(pair_key(ia->second, ib->second), BpeMerge{static_cast<double>(rank), ir->second});  // first rank wins
  }
}

std::optional<int64_t> BpeModel::token_id(const std::string& token) const {
  const auto it = options_.vocab.find(token);
  return it == options_.vocab.end() ? std::nullopt : std::optional<int64_t>(it->second);
}

std::vector<BpeToken> BpeModel::merge_word(std::string_view word) const {
  std::vector<BpeSymbol> symbols;
  symbols.reserve(word.size());
  std::optional<BpeSymbol> unk;  // a pending unknown, grown while fuse_unk joins neighbours
  for (size_t pos = 0; pos < word.size();) {
    const size_t len = unicode::next_utf8(word, pos).length;
    std::string s(word.substr(pos, len));
    if (pos > 0) s.insert(0, options_.continuing_subword_prefix);
    if (pos + len == word.size()) s += options_.end_of_word_suffix;
    const auto it = options_.vocab.find(s);
    if (it != options_.vocab.end()) {
      if (unk) symbols.push_back(*unk), unk.reset();
      symbols.push_back({it->second, pos, pos + len, true});
    } else {
      bool bytes = options_.byte_fallback;
      for (const char c : s) bytes = bytes && byte_ids_[static_cast<uint8_t>(c)] >= 0;
      if (bytes) {
        // As HF: a pending unknown is not flushed here (it follows these bytes).
        for (size_t i = 0; i < s.size(); ++i) {
          const size_t at = std::min(pos + i, pos + len - 1);
          symbols.push_back({byte_ids_[static_cast<uint8_t>(s[i])], at, at + 1, true});
        }
      } else if (unk_id_) {
        if (unk && options_.fuse_unk) {
          unk->end = pos + len;
        } else {
          if (unk) symbols.push_back(*unk);
          unk = BpeSymbol{*unk_id_, pos, pos + len, true};
        }
      }  // no unknown token: HF drops the character
    }
    pos += len;
  }
  if (unk) symbols.push_back(*unk);
  bpe_merge(symbols, [this](const BpeSymbol& a, const BpeSymbol& b) -> std::optional<BpeMerge> {
    const auto it = merges_.find(pair_key(a.id, b.id));
    if (it == merges_.end()) return std::nullopt;
    return it->second;
  });
  std::vector<BpeToken> out;
  out.reserve(symbols.size());
  for (const BpeSymbol& s : symbols) out.push_back({s.id, s.begin, s.end});
  return out;
}

std::vector<BpeToken> BpeModel::tokenize(std::string_view word) const {
  if (word.empty()) return {};
  if (options_.ignore_merges) {
    const auto it = options_.vocab.find(std::string(word));
    if (it != options_.vocab.end()) return {{it->second, 0, word.size()}};
  }
  const bool cached = word.size() <= kCachedWordBytes;
  if (cached) {
    std::lock_guard lock(cache_mutex_);
    const auto it = cache_.find(std::string(word));
    if (it != cache_.end()) return it->second;
  }
  std::vector<BpeToken> tokens = merge_word(word);
  if (cached) {
    std::lock_guard lock(cache_mutex_);
    if (cache_.size() >= 100000) cache_.clear();
    cache_.emplace(std::string(word), tokens);
  }
  return tokens;
}

}  // namespace cascade::data
