// GPT-2's byte alphabet and pre-tokenizer (the regex through Oniguruma).
#include "data/tokenizers/byte_level.h"

#include <array>

#include "data/tokenizers/onig_regex.h"
#include "data/tokenizers/unicode_props.h"

namespace cascade::data {
namespace {

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

}  // namespace

char32_t byte_to_unicode(uint8_t b) { return byte_tables().to_unicode[b]; }

int unicode_to_byte(char32_t cp) { return cp < 512 ? byte_tables().to_byte[cp] : -1; }

bool byte_level_bytes(std::string_view token, std::string& out) {
  std::string bytes;
  for (size_t pos = 0; pos < token.size();) {
    const unicode::Utf8Char c = unicode::next_utf8(token, pos);
    const int b = c.valid ? unicode_to_byte(c.cp) : -1;
    if (b < 0) return false;
    bytes += static_cast<char>(b);
    pos += c.length;
  }
  out += bytes;
  return true;
}

std::vector<std::pair<size_t, size_t>> gpt2_pretokenize(std::string_view text) {
  static const OnigRegex regex(kGpt2Regex, "GPT-2's pre-tokenizer");
  std::vector<std::pair<size_t, size_t>> pieces;
  size_t prev = 0;
  for (const auto& [b, e] : regex.find_all(text)) {
    if (b > prev) pieces.emplace_back(prev, b);  // not reached: the regex matches every character
    if (e > b) pieces.emplace_back(b, e);
    prev = e;
  }
  if (text.size() > prev) pieces.emplace_back(prev, text.size());
  return pieces;
}

}  // namespace cascade::data
