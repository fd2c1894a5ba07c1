#pragma once
// Text being normalized and pre-tokenized, with the byte range of the original input that every
// byte came from (HF's NormalizedString), so that tokens keep byte offsets into the input.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "data/tokenizers/onig_regex.h"
#include "data/tokenizers/unicode_props.h"

namespace cascade::data {

struct Span {
  size_t begin = 0, end = 0;  // bytes of the original input
};

// What a Replace / Split matches: a literal string or an Oniguruma regex (HF's {"String": ...} or
// {"Regex": ...}).
struct TextPattern {
  std::string literal;
  std::shared_ptr<const OnigRegex> regex;  // set: a regex; else the literal
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const;
};

// HF's SplitDelimiterBehavior: what happens to the matched delimiters.
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

class NormalizedText {
 public:
  NormalizedText() = default;
  // `slice` is input[offset, offset + slice.size()), each byte aligned to itself.
  NormalizedText(std::string_view slice, size_t offset);

  const std::string& text() const { return text_; }
  bool empty() const { return text_.empty(); }
  // The original bytes that normalized bytes [begin, end) came from (an empty range: where it is).
  Span origin(size_t begin, size_t end) const;
  size_t original_begin() const { return origin(0, 0).begin; }

  NormalizedText slice(size_t begin, size_t end) const;
  // Every match of `pattern` -> content, aligned to the matched bytes.
  void replace(const TextPattern& pattern, const std::string& content);
  void prepend(const std::string& s);  // aligned to the first byte; nothing on empty text
  void append(const std::string& s);   // aligned to the last byte; nothing on empty text
  void normalize(unicode::Form form);
  void lowercase();
  void strip(bool left, bool right);   // White_Space
  void strip_accents();                // drops combining marks (Mn), as after NFD
  void to_byte_level();                // each byte -> its GPT-2 byte-alphabet character

  // HF's NormalizedString::split: the pieces, empty ones dropped.
  std::vector<NormalizedText> split(const TextPattern& pattern, SplitBehavior behavior, bool invert = false) const;

 private:
  // Rebuilds from pieces of new text, each aligned as a whole to one original span.
  void assign(const std::vector<std::pair<std::string, Span>>& pieces);

  std::string text_;
  std::vector<Span> align_;  // per byte of text_
  size_t anchor_ = 0;        // where an empty text sits in the original
};

}  // namespace cascade::data
