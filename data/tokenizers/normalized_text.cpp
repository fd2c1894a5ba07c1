// NormalizedText: edits that keep every byte's original span.
#include "data/tokenizers/normalized_text.h"

#include <algorithm>

#include "data/tokenizers/byte_level.h"

namespace cascade::data {
namespace {

// Chunks of the text that normalize independently: each starts at a starter (combining class 0)
// that cannot compose with what precedes it (conjoining Hangul vowels and trailing consonants can).
std::vector<std::pair<size_t, size_t>> normalization_chunks(std::string_view text) {
  std::vector<std::pair<size_t, size_t>> chunks;
  size_t begin = 0;
  for (size_t pos = 0; pos < text.size();) {
    const unicode::Utf8Char c = unicode::next_utf8(text, pos);
    const bool jamo_tail = (c.cp >= 0x1161 && c.cp <= 0x1175) || (c.cp >= 0x11A8 && c.cp <= 0x11C2);
    if (pos > begin && c.valid && !jamo_tail && unicode::combining_class(c.cp) == 0) {
      chunks.emplace_back(begin, pos);
      begin = pos;
    }
    pos += c.length;
  }
  if (text.size() > begin) chunks.emplace_back(begin, text.size());
  return chunks;
}

}  // namespace

std::vector<std::pair<size_t, size_t>> TextPattern::find_all(std::string_view text) const {
  if (regex) return regex->find_all(text);
  std::vector<std::pair<size_t, size_t>> out;
  if (literal.empty()) return out;
  for (size_t pos = text.find(literal); pos != std::string_view::npos; pos = text.find(literal, pos + literal.size()))
    out.emplace_back(pos, pos + literal.size());
  return out;
}

NormalizedText::NormalizedText(std::string_view slice, size_t offset) : text_(slice), anchor_(offset) {
  align_.reserve(slice.size());
  for (size_t i = 0; i < slice.size(); ++i) align_.push_back({offset + i, offset + i + 1});
}

Span NormalizedText::origin(size_t begin, size_t end) const {
  if (align_.empty()) return {anchor_, anchor_};
  if (begin >= end) {
    const size_t at = begin < align_.size() ? align_[begin].begin : align_.back().end;
    return {at, at};
  }
  Span s{align_[begin].begin, align_[begin].end};
  for (size_t i = begin; i < end && i < align_.size(); ++i) {
    s.begin = std::min(s.begin, align_[i].begin);
    s.end = std::max(s.end, align_[i].end);
  }
  return s;
}

NormalizedText NormalizedText::slice(size_t begin, size_t end) const {
  NormalizedText out;
  out.text_ = text_.substr(begin, end - begin);
  out.align_.assign(align_.begin() + static_cast<long>(begin), align_.begin() + static_cast<long>(end));
  out.anchor_ = origin(begin, begin).begin;
  return out;
}

void NormalizedText::assign(const std::vector<std::pair<std::string, Span>>& pieces) {
  std::string text;
  std::vector<Span> align;
  for (const auto& [s, span] : pieces) {
    text += s;
    align.insert(align.end(), s.size(), span);
  }
  if (text_.empty() == false && text.empty()) anchor_ = origin(0, 0).begin;
  text_ = std::move(text);
  align_ = std::move(align);
}

void NormalizedText::replace(const TextPattern& pattern, const std::string& content) {
  const auto matches = pattern.find_all(text_);
  if (matches.empty()) return;
  std::vector<std::pair<std::string, Span>> pieces;
  size_t prev = 0;
  for (const auto& [b, e] : matches) {
    if (e == b) continue;
    for (size_t i = prev; i < b; ++i) pieces.emplace_back(std::string(1, text_[i]), align_[i]);
    pieces.emplace_back(content, origin(b, e));
    prev = e;
  }
  for (size_t i = prev; i < text_.size(); ++i) pieces.emplace_back(std::string(1, text_[i]), align_[i]);
  assign(pieces);
}

void NormalizedText::prepend(const std::string& s) {
  if (text_.empty() || s.empty()) return;
  const Span first = origin(0, unicode::next_utf8(text_, 0).length);
  text_.insert(0, s);
  align_.insert(align_.begin(), s.size(), first);
}

void NormalizedText::append(const std::string& s) {
  if (text_.empty() || s.empty()) return;
  const Span last = align_.back();
  text_ += s;
  align_.insert(align_.end(), s.size(), last);
}

void NormalizedText::normalize(unicode::Form form) {
  const std::string whole = unicode::normalize(text_, form);
  if (whole == text_) return;
  std::vector<std::pair<std::string, Span>> pieces;
  std::string joined;
  for (const auto& [b, e] : normalization_chunks(text_)) {
    pieces.emplace_back(unicode::normalize(std::string_view(text_).substr(b, e - b), form), origin(b, e));
    joined += pieces.back().first;
  }
  if (joined != whole) pieces = {{whole, origin(0, text_.size())}};  // chunks interact: one span
  assign(pieces);
}

void NormalizedText::lowercase() {
  std::vector<std::pair<std::string, Span>> pieces;
  for (size_t pos = 0; pos < text_.size();) {
    const unicode::Utf8Char c = unicode::next_utf8(text_, pos);
    pieces.emplace_back(c.valid ? unicode::encode_utf8(unicode::to_lower(c.cp)) : text_.substr(pos, c.length),
                        origin(pos, pos + c.length));
    pos += c.length;
  }
  assign(pieces);
}

void NormalizedText::strip(bool left, bool right) {
  size_t begin = 0, end = text_.size();
  while (left && begin < end) {
    const unicode::Utf8Char c = unicode::next_utf8(text_, begin);
    if (!c.valid || !unicode::is_whitespace(c.cp)) break;
    begin += c.length;
  }
  while (right && end > begin) {
    size_t start = end - 1;
    while (start > begin && (static_cast<uint8_t>(text_[start]) & 0xC0) == 0x80) --start;
    const unicode::Utf8Char c = unicode::next_utf8(text_, start);
    if (!c.valid || c.length != end - start || !unicode::is_whitespace(c.cp)) break;
    end = start;
  }
  if (begin == 0 && end == text_.size()) return;
  *this = slice(begin, end);
}

void NormalizedText::strip_accents() {
  std::vector<std::pair<std::string, Span>> pieces;
  for (size_t pos = 0; pos < text_.size();) {
    const unicode::Utf8Char c = unicode::next_utf8(text_, pos);
    if (!(c.valid && unicode::is_nonspacing_mark(c.cp)))
      pieces.emplace_back(text_.substr(pos, c.length), origin(pos, pos + c.length));
    pos += c.length;
  }
  assign(pieces);
}

void NormalizedText::to_byte_level() {
  std::vector<std::pair<std::string, Span>> pieces;
  pieces.reserve(text_.size());
  for (size_t i = 0; i < text_.size(); ++i)
    pieces.emplace_back(unicode::encode_utf8(byte_to_unicode(static_cast<uint8_t>(text_[i]))), align_[i]);
  assign(pieces);
}

std::vector<NormalizedText> NormalizedText::split(const TextPattern& pattern, SplitBehavior behavior, bool invert) const {
  // (range, is_match) covering the text, as HF's Pattern::find_matches.
  std::vector<std::pair<std::pair<size_t, size_t>, bool>> parts;
  size_t prev = 0;
  for (const auto& [b, e] : pattern.find_all(text_)) {
    if (prev != b) parts.push_back({{prev, b}, invert});
    parts.push_back({{b, e}, !invert});
    prev = e;
  }
  if (prev != text_.size()) parts.push_back({{prev, text_.size()}, invert});

  std::vector<std::pair<size_t, size_t>> ranges;
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::kRemoved:
      for (const auto& [r, m] : parts)
        if (!m) ranges.push_back(r);
      break;
    case SplitBehavior::kIsolated:
      for (const auto& [r, m] : parts) ranges.push_back(r);
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const auto& [r, m] : parts) {
        if (m && !previous_match && !ranges.empty()) ranges.back().second = r.second;
        else ranges.push_back(r);
        previous_match = m;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        if (it->second && !previous_match && !ranges.empty()) ranges.back().first = it->first.first;
        else ranges.push_back(it->first);
        previous_match = it->second;
      }
      std::reverse(ranges.begin(), ranges.end());
      break;
    case SplitBehavior::kContiguous:
      for (size_t i = 0; i < parts.size(); ++i) {
        if (i > 0 && parts[i].second == previous_match) ranges.back().second = parts[i].first.second;
        else ranges.push_back(parts[i].first);
        previous_match = parts[i].second;
      }
      break;
  }
  std::vector<NormalizedText> out;
  for (const auto& [b, e] : ranges)
    if (e > b) out.push_back(slice(b, e));
  return out;
}

}  // namespace cascade::data
