#pragma once
// Pieces shared by the tokenizers in data/: added (special) tokens matched verbatim in the text,
// and the greedy BPE merge loop (best pair first, leftmost on ties) used by every BPE variant.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

namespace cascade::data {

// A token matched verbatim in the input before any normalization or pre-tokenization (HF
// added_tokens, e.g. "<|endoftext|>", "<s>"). special = true: a control token, which decode()
// of a SentencePiece tokenizer leaves out (the GPT-2 tokenizer writes every added token back).
struct AddedToken {
  std::string content;
  int64_t id = 0;
  bool special = true;
};

// A stretch of the input: either plain text [begin, end) or one added token.
struct TextSegment {
  size_t begin = 0, end = 0;
  std::optional<int64_t> added_id;
};

// Splits `text` at occurrences of the added tokens (leftmost match first, the longest one where
// several start at the same byte). Plain stretches are never empty.
std::vector<TextSegment> split_on_added(std::string_view text, const std::vector<AddedToken>& added);

// One symbol of a word being merged: the bytes [begin, end) of the word and its token id (-1 while
// it has none). Symbols with mergeable = false never take part in a merge (byte-fallback tokens of
// llama2.c's algorithm).
struct BpeSymbol {
  int64_t id = -1;
  size_t begin = 0, end = 0;
  bool mergeable = true;
};

struct BpeMerge {
  double priority;  // lower merges first (a merge rank, or minus a piece score)
  int64_t id;       // the merged token
};

// Repeatedly merges the adjacent pair with the lowest priority, the leftmost one on ties, until no
// adjacent pair has a merge. `candidate(left, right)` returns the merge for a pair or nullopt.
// A heap with lazy invalidation: O(n log n) for a word of n symbols.
template <class Candidate>
void bpe_merge(std::vector<BpeSymbol>& symbols, Candidate&& candidate) {
  const size_t n = symbols.size();
  if (n < 2) return;
  constexpr size_t kNone = static_cast<size_t>(-1);
  std::vector<size_t> prev(n), next(n);
  std::vector<uint32_t> version(n, 0);
  std::vector<char> alive(n, 1);
  for (size_t i = 0; i < n; ++i) {
    prev[i] = i == 0 ? kNone : i - 1;
    next[i] = i + 1 == n ? kNone : i + 1;
  }
  struct Item {
    double priority;
    size_t left, right;
    uint32_t left_version, right_version;
    int64_t id;
  };
  const auto later = [](const Item& a, const Item& b) {
    return a.priority != b.priority ? a.priority > b.priority : a.left > b.left;
  };
  std::priority_queue<Item, std::vector<Item>, decltype(later)> queue(later);
  const auto consider = [&](size_t left, size_t right) {
    if (left == kNone || right == kNone) return;
    const BpeSymbol& a = symbols[left];
    const BpeSymbol& b = symbols[right];
    if (!a.mergeable || !b.mergeable) return;
    if (const std::optional<BpeMerge> m = candidate(a, b))
      queue.push({m->priority, left, right, version[left], version[right], m->id});
  };
  for (size_t i = 0; i + 1 < n; ++i) consider(i, i + 1);
  while (!queue.empty()) {
    const Item top = queue.top();
    queue.pop();
    if (!alive[top.left] || !alive[top.right] || next[top.left] != top.right ||
        version[top.left] != top.left_version || version[top.right] != top.right_version)
      continue;  // stale: one side has merged since this pair was queued
    symbols[top.left].end = symbols[top.right].end;
    symbols[top.left].id = top.id;
    ++version[top.left];
    alive[top.right] = 0;
    next[top.left] = next[top.right];
    if (next[top.right] != kNone) prev[next[top.right]] = top.left;
    consider(prev[top.left], top.left);
    consider(top.left, next[top.left]);
  }
  size_t kept = 0;
  for (size_t i = 0; i < n; ++i)
    if (alive[i]) symbols[kept++] = symbols[i];
  symbols.resize(kept);
}

}  // namespace cascade::data
