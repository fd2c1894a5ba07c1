// Unicode classification (range tables generated from Python's unicodedata) and UTF-8 helpers.
#include "data/tokenizers/unicode_props.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iterator>

namespace cascade::data::unicode {
namespace {

struct CodeRange {
  char32_t first, last;
};

#include "data/tokenizers/unicode_tables.inc"

template <size_t N>
bool in_ranges(const CodeRange (&table)[N], char32_t cp) {
  // The first range whose last >= cp; cp is inside iff that range starts at or before it.
  const auto* it = std::lower_bound(std::begin(table), std::end(table), cp,
                                    [](const CodeRange& r, char32_t c) { return r.last < c; });
  return it != std::end(table) && it->first <= cp;
}

}  // namespace

bool is_letter(char32_t cp) {
  if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  return in_ranges(kLetterRanges, cp);
}

bool is_number(char32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  return in_ranges(kNumberRanges, cp);
}

bool is_whitespace(char32_t cp) {
  switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0x85: case 0xA0:
    case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

Utf8Char next_utf8(std::string_view s, size_t pos) {
  const Utf8Char bad{0xFFFD, 1, false};
  const auto b0 = static_cast<uint8_t>(s[pos]);
  if (b0 < 0x80) return {b0, 1, true};
  size_t len;
  char32_t cp, min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return bad;
  }
  if (pos + len > s.size()) return bad;
  for (size_t i = 1; i < len; ++i) {
    const auto b = static_cast<uint8_t>(s[pos + i]);
    if ((b & 0xC0) != 0x80) return bad;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return bad;
  return {cp, len, true};
}

std::string encode_utf8(char32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

std::string visible(std::string_view bytes) {
  std::string out;
  for (size_t pos = 0; pos < bytes.size();) {
    const Utf8Char c = next_utf8(bytes, pos);
    if (c.valid && c.cp == '\n') {
      out += "\u23CE";  // ⏎
    } else if (c.valid && c.cp == '\t') {
      out += "\u21E5";  // ⇥
    } else if (c.valid && c.cp == '\r') {
      out += "\u240D";  // ␍
    } else if (c.valid && c.cp >= 0x20 && c.cp != 0x7F) {
      out.append(bytes.substr(pos, c.length));
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "<0x%02X>", static_cast<unsigned>(static_cast<uint8_t>(bytes[pos])));
      out += hex;
    }
    pos += c.length;
  }
  return out;
}

}  // namespace cascade::data::unicode
