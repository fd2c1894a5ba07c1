#include "train_demo/bpe_trainer.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <queue>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "data/tokenizers/byte_level.h"

namespace cascade::data {
namespace {

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {  // the byte alphabet stays below U+0200
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

uint64_t pair_key(int32_t a, int32_t b) { return (static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b); }
int32_t key_left(uint64_t k) { return static_cast<int32_t>(k >> 32); }
int32_t key_right(uint64_t k) { return static_cast<int32_t>(k & 0xFFFFFFFFu); }

struct Word {
  std::vector<int32_t> symbols;
  int64_t count = 0;
  int64_t stamp = -1;  // last merge that rewrote it (dedupes the pair -> words lists)
};

struct HeapEntry {
  int64_t count;
  uint64_t pair;
};

// Counts the pre-tokens of one text (split on the special tokens first, so they are never learned).
void count_pieces(const std::string& text, const std::vector<std::string>& specials,
                  std::unordered_map<std::string, int64_t>& counts) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t next = std::string::npos, len = 0;
    for (const std::string& s : specials) {
      if (s.empty()) continue;
      const size_t at = text.find(s, pos);
      if (at < next || (at == next && at != std::string::npos && s.size() > len)) {
        next = at;
        len = s.size();
      }
    }
    const size_t end = next == std::string::npos ? text.size() : next;
    const std::string_view stretch(text.data() + pos, end - pos);
    for (const auto& [b, e] : gpt2_pretokenize(stretch)) ++counts[std::string(stretch.substr(b, e - b))];
    if (next == std::string::npos) break;
    pos = next + len;
  }
}

}  // namespace

BpeVocabulary train_byte_level_bpe(const std::vector<std::string>& texts, const BpeTrainOptions& options,
                                   const std::function<void(int64_t, int64_t)>& progress) {
  const auto n_special = static_cast<int64_t>(options.special_tokens.size());
  if (options.vocab_size < 256 + n_special)
    throw UsageError("BPE training: vocab_size " + std::to_string(options.vocab_size) +
                     " is below 256 byte symbols + " + std::to_string(n_special) + " special tokens");
  const int64_t target = options.vocab_size - n_special;  // tokens before the specials
  const int64_t min_freq = std::max<int64_t>(1, options.min_frequency);

  BpeVocabulary out;
  // Base alphabet: GPT-2's encoder.json order = the bytes sorted by their code point.
  std::vector<int> order(256);
  for (int b = 0; b < 256; ++b) order[b] = b;
  std::sort(order.begin(), order.end(), [](int x, int y) {
    return byte_to_unicode(static_cast<uint8_t>(x)) < byte_to_unicode(static_cast<uint8_t>(y));
  });
  int32_t byte_id[256];
  std::unordered_map<std::string, int32_t> ids;
  for (int i = 0; i < 256; ++i) {
    byte_id[order[i]] = i;
    std::string s;
    append_utf8(s, byte_to_unicode(static_cast<uint8_t>(order[i])));
    ids.emplace(s, i);
    out.tokens.push_back(std::move(s));
  }

  // Pre-token frequencies, sorted so that everything below is independent of hash order.
  std::vector<Word> words;
  {
    std::unordered_map<std::string, int64_t> counts;
    for (const std::string& t : texts) count_pieces(t, options.special_tokens, counts);
    std::vector<std::pair<std::string, int64_t>> sorted(counts.begin(), counts.end());
    std::sort(sorted.begin(), sorted.end());
    words.reserve(sorted.size());
    for (const auto& [piece, count] : sorted) {
      Word w;
      w.count = count;
      w.symbols.reserve(piece.size());
      for (unsigned char c : piece) w.symbols.push_back(byte_id[c]);
      words.push_back(std::move(w));
    }
  }

  std::unordered_map<uint64_t, int64_t> pair_count;
  std::unordered_map<uint64_t, std::vector<int32_t>> where;  // pair -> words (may repeat / be stale)
  for (size_t wi = 0; wi < words.size(); ++wi) {
    const Word& w = words[wi];
    for (size_t i = 0; i + 1 < w.symbols.size(); ++i) {
      const uint64_t k = pair_key(w.symbols[i], w.symbols[i + 1]);
      pair_count[k] += w.count;
      auto& list = where[k];
      if (list.empty() || list.back() != static_cast<int32_t>(wi)) list.push_back(static_cast<int32_t>(wi));
    }
  }

  const std::vector<std::string>& tok = out.tokens;
  auto worse = [&tok](const HeapEntry& x, const HeapEntry& y) {  // true when x ranks below y
    if (x.count != y.count) return x.count < y.count;
    const std::string& xl = tok[key_left(x.pair)];
    const std::string& yl = tok[key_left(y.pair)];
    if (xl != yl) return xl > yl;
    return tok[key_right(x.pair)] > tok[key_right(y.pair)];
  };
  std::priority_queue<HeapEntry, std::vector<HeapEntry>, decltype(worse)> heap(worse);
  {
    std::vector<uint64_t> keys;
    keys.reserve(pair_count.size());
    for (const auto& [k, c] : pair_count) keys.push_back(k);
    std::sort(keys.begin(), keys.end());
    for (uint64_t k : keys) heap.push({pair_count[k], k});
  }

  const int64_t total = std::max<int64_t>(0, target - 256);
  std::unordered_map<uint64_t, int64_t> delta;
  std::vector<int32_t> merged;
  int64_t merge_index = 0;
  while (static_cast<int64_t>(out.tokens.size()) < target && !heap.empty()) {
    const HeapEntry top = heap.top();
    heap.pop();
    const auto it = pair_count.find(top.pair);
    if (it == pair_count.end() || it->second != top.count) continue;  // stale entry
    if (top.count < min_freq) break;

    const int32_t a = key_left(top.pair), b = key_right(top.pair);
    std::string joined = out.tokens[a] + out.tokens[b];
    out.merges.emplace_back(out.tokens[a], out.tokens[b]);
    int32_t c;
    if (const auto found = ids.find(joined); found != ids.end()) {
      c = found->second;  // the same string from another merge order: GPT-2 keeps one id
    } else {
      c = static_cast<int32_t>(out.tokens.size());
      ids.emplace(joined, c);
      out.tokens.push_back(std::move(joined));
    }

    delta.clear();
    std::vector<int32_t> affected = std::move(where[top.pair]);
    where.erase(top.pair);
    for (int32_t wi : affected) {
      Word& w = words[wi];
      if (w.stamp == merge_index) continue;
      w.stamp = merge_index;
      const std::vector<int32_t>& s = w.symbols;
      bool present = false;
      for (size_t i = 0; i + 1 < s.size(); ++i)
        if (s[i] == a && s[i + 1] == b) { present = true; break; }
      if (!present) continue;
      for (size_t i = 0; i + 1 < s.size(); ++i) delta[pair_key(s[i], s[i + 1])] -= w.count;
      merged.clear();
      for (size_t i = 0; i < s.size();) {
        if (i + 1 < s.size() && s[i] == a && s[i + 1] == b) {
          merged.push_back(c);
          i += 2;
        } else {
          merged.push_back(s[i]);
          ++i;
        }
      }
      for (size_t i = 0; i + 1 < merged.size(); ++i) {
        const uint64_t k = pair_key(merged[i], merged[i + 1]);
        delta[k] += w.count;
        if (merged[i] == c || merged[i + 1] == c) {
          auto& list = where[k];
          if (list.empty() || list.back() != wi) list.push_back(wi);
        }
      }
      w.symbols.assign(merged.begin(), merged.end());
    }
    std::vector<uint64_t> changed;
    changed.reserve(delta.size());
    for (const auto& [k, d] : delta)
      if (d != 0) changed.push_back(k);
    std::sort(changed.begin(), changed.end());
    for (uint64_t k : changed) {
      int64_t& cnt = pair_count[k];
      cnt += delta[k];
      if (cnt <= 0) {
        pair_count.erase(k);
      } else {
        heap.push({cnt, k});
      }
    }
    pair_count.erase(top.pair);  // every occurrence was merged
    ++merge_index;
    if (progress) progress(static_cast<int64_t>(out.tokens.size()) - 256, total);
  }

  for (const std::string& s : options.special_tokens)
    if (ids.emplace(s, static_cast<int32_t>(out.tokens.size())).second) out.tokens.push_back(s);
  return out;
}

void write_hf_bpe(const BpeVocabulary& vocab, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw InputError(dir, "cannot create the folder: " + ec.message());
  nlohmann::ordered_json v = nlohmann::ordered_json::object();
  for (size_t i = 0; i < vocab.tokens.size(); ++i) v[vocab.tokens[i]] = static_cast<int64_t>(i);
  const std::string vocab_path = (std::filesystem::path(dir) / "vocab.json").string();
  {
    std::ofstream f(vocab_path, std::ios::binary);
    f << v.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::strict);
    if (!f) throw InputError(vocab_path, "cannot write");
  }
  const std::string merges_path = (std::filesystem::path(dir) / "merges.txt").string();
  std::ofstream f(merges_path, std::ios::binary);
  f << "#version: 0.2\n";
  for (const auto& [l, r] : vocab.merges) f << l << ' ' << r << '\n';
  if (!f) throw InputError(merges_path, "cannot write");
}

}  // namespace cascade::data
