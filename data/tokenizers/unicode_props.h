#pragma once
// Unicode classification, normalization forms and UTF-8 helpers for the tokenizers (utf8proc).
#include <cstddef>
#include <string>
#include <string_view>

namespace cascade::data::unicode {

bool is_letter(char32_t cp);      // general category L* (Lu, Ll, Lt, Lm, Lo)
bool is_number(char32_t cp);      // general category N* (Nd, Nl, No)
bool is_whitespace(char32_t cp);  // the White_Space property (what \s matches in the GPT-2 regex)
bool is_mark(char32_t cp);        // M* (Mn, Mc, Me)
bool is_nonspacing_mark(char32_t cp);  // Mn
bool is_punctuation(char32_t cp); // P*
int combining_class(char32_t cp); // canonical combining class (0 for starters)
char32_t to_lower(char32_t cp);   // simple lowercase mapping

enum class Form { kNfc, kNfd, kNfkc, kNfkd };
// The text in normalization form `form`; invalid UTF-8 is returned unchanged.
std::string normalize(std::string_view text, Form form);

// One UTF-8 sequence at s[pos]. An invalid, overlong, surrogate or truncated sequence decodes as
// {U+FFFD, length 1, valid = false}, so every byte of the input belongs to exactly one char.
struct Utf8Char {
  char32_t cp;
  size_t length;
  bool valid;
};
Utf8Char next_utf8(std::string_view s, size_t pos);

std::string encode_utf8(char32_t cp);

// Text for a token view: valid UTF-8 kept as is, '\n' -> "⏎", '\t' -> "⇥", '\r' -> "␍", other
// control bytes and every byte of an incomplete or invalid sequence -> "<0xNN>".
std::string visible(std::string_view bytes);

}  // namespace cascade::data::unicode
