#pragma once
// GPT-2's byte-level alphabet (HF's ByteLevel pre-tokenizer and decoder) and its pre-tokenizer
// regex, as used by every byte-level BPE (GPT-2, GPT-J, NeoX, OPT, Llama 3, Qwen, DeepSeek).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cascade::data {

// GPT-2's bytes_to_unicode(): byte b -> the code point that stands for it in the vocabulary
// ('!'..'~', '¡'..'¬', '®'..'ÿ' map to themselves, the other 68 bytes to U+0100.. in order;
// e.g. space -> 'Ġ' U+0120, '\n' -> 'Ċ' U+010A).
char32_t byte_to_unicode(uint8_t b);
// The inverse: the byte a code point stands for, or -1 when it is not in the byte alphabet.
int unicode_to_byte(char32_t cp);
// A token in the byte alphabet -> its bytes; nullopt-like: false when a character is not in it.
bool byte_level_bytes(std::string_view token, std::string& out);

// GPT-2's pre-tokenizer regex (ByteLevel use_regex = true).
inline constexpr const char* kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// The pieces of `text` under kGpt2Regex, as byte ranges [begin, end) covering it.
std::vector<std::pair<size_t, size_t>> gpt2_pretokenize(std::string_view text);

}  // namespace cascade::data
