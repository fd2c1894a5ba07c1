#include "train_demo/demo_corpus.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

#include "core/errors.h"

namespace cascade::data {
namespace {

std::string read_file_bytes(const CorpusSource& src) {
  if (!std::filesystem::is_regular_file(src.path))
    throw InputError(src.path, "missing (" + src.name + " from the Debian package " + src.package +
                                   "; install it with: apt-get install -y " + src.package + ")");
  std::ifstream f(src.path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  if (!f && !f.eof()) throw InputError(src.path, "cannot read");
  return ss.str();
}

uint32_t be32(const std::string& d, size_t at) {
  const auto* p = reinterpret_cast<const unsigned char*>(d.data() + at);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// One window of BRS's data file: the LZW stream of compress(1) without its 3-byte header (16-bit
// maximum codes, block mode: code 256 clears the table). Codes come in groups of n_bits bytes
// (8 codes); a code-width change or a CLEAR skips the rest of the group, as compress does.
std::string lzw_decompress(const unsigned char* in, size_t size, const std::string& where) {
  constexpr int kMaxBits = 16;
  constexpr int32_t kMaxMaxCode = 1 << kMaxBits;
  std::vector<uint16_t> prefix(kMaxMaxCode, 0);
  std::vector<unsigned char> suffix(kMaxMaxCode, 0);
  for (int i = 0; i < 256; ++i) suffix[i] = static_cast<unsigned char>(i);
  int n_bits = 9;
  int32_t maxcode = (1 << n_bits) - 1;
  int32_t free_ent = 257;
  bool clear = false;
  size_t pos = 0;
  unsigned char group[kMaxBits];
  int64_t offset = 0, group_bits = 0;

  auto getcode = [&]() -> int32_t {
    if (clear || offset >= group_bits || free_ent > maxcode) {
      if (free_ent > maxcode) {
        ++n_bits;
        maxcode = n_bits == kMaxBits ? kMaxMaxCode : (1 << n_bits) - 1;
      }
      if (clear) {
        n_bits = 9;
        maxcode = (1 << n_bits) - 1;
        clear = false;
      }
      const size_t n = std::min<size_t>(static_cast<size_t>(n_bits), size - pos);
      if (n == 0) return -1;
      std::memcpy(group, in + pos, n);
      std::memset(group + n, 0, sizeof(group) - n);
      pos += n;
      offset = 0;
      group_bits = static_cast<int64_t>(n) * 8 - (n_bits - 1);
      if (group_bits <= 0) return -1;
    }
    int32_t code = 0;
    for (int i = 0; i < n_bits; ++i) {
      const int64_t bit = offset + i;
      if ((group[bit >> 3] >> (bit & 7)) & 1) code |= 1 << i;
    }
    offset += n_bits;
    return code;
  };

  std::string out;
  int32_t oldcode = getcode();
  if (oldcode < 0) return out;
  if (oldcode > 255) throw InputError(where, "corrupt compressed text (first code " + std::to_string(oldcode) + ")");
  unsigned char finchar = static_cast<unsigned char>(oldcode);
  out += static_cast<char>(finchar);
  std::string stack;
  for (int32_t code; (code = getcode()) >= 0;) {
    if (code == 256) {
      clear = true;
      free_ent = 256;
      if ((code = getcode()) < 0) break;
    }
    const int32_t incode = code;
    stack.clear();
    if (code >= free_ent) {
      if (code > free_ent) throw InputError(where, "corrupt compressed text (code " + std::to_string(code) + ")");
      stack += static_cast<char>(finchar);
      code = oldcode;
    }
    while (code >= 256) {
      stack += static_cast<char>(suffix[code]);
      code = prefix[code];
    }
    finchar = suffix[code];
    stack += static_cast<char>(finchar);
    out.append(stack.rbegin(), stack.rend());
    if (free_ent < kMaxMaxCode) {
      prefix[free_ent] = static_cast<uint16_t>(oldcode);
      suffix[free_ent] = finchar;
      ++free_ent;
    }
    oldcode = incode;
  }
  return out;
}

// BRS data file (tsl.h): "EC" "02", an 80-byte description, window size and count (big-endian),
// count + 1 window offsets, then the compressed windows.
std::string decode_brs(const std::string& d, const std::string& where) {
  if (d.size() < 92 || d.compare(0, 4, "EC02") != 0) throw InputError(where, "not a BRS data file (magic EC02)");
  const uint32_t wsize = be32(d, 84), wnum = be32(d, 88);
  if (wsize == 0 || wnum == 0 || wnum > 100000 || 92 + 4 * (size_t{wnum} + 1) > d.size())
    throw InputError(where, "bad BRS header");
  std::string text;
  for (uint32_t w = 0; w < wnum; ++w) {
    const uint32_t b = be32(d, 92 + 4 * w), e = be32(d, 96 + 4 * w);
    if (b > e || e > d.size()) throw InputError(where, "bad BRS window table");
    std::string win = lzw_decompress(reinterpret_cast<const unsigned char*>(d.data()) + b, e - b, where);
    if (w + 1 < wnum && win.size() != wsize)
      throw InputError(where, "BRS window " + std::to_string(w) + " decodes to " + std::to_string(win.size()) +
                                  " bytes, expected " + std::to_string(wsize));
    text += win;
  }
  return text;
}

std::string normalise_newlines(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string rstrip(std::string_view s) {
  size_t e = s.size();
  while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(0, e));
}

std::vector<std::string_view> lines_of(std::string_view s) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t nl = s.find('\n', pos);
    if (nl == std::string_view::npos) nl = s.size();
    lines.push_back(s.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

// "Ge1:1 In the beginning..." -> chapter key "Ge1", text. Lines without a reference are dropped
// (the file's title line).
void clean_bible(const std::string& raw, std::string& out) {
  std::string chapter, para;
  const std::string text = normalise_newlines(raw);
  for (std::string_view line : lines_of(text)) {
    size_t i = 0;
    if (i < line.size() && line[i] >= '1' && line[i] <= '3') ++i;
    const size_t book_begin = i;
    while (i < line.size() && ((line[i] >= 'A' && line[i] <= 'Z') || (line[i] >= 'a' && line[i] <= 'z'))) ++i;
    if (i == book_begin) continue;
    const size_t chap_begin = i;
    while (i < line.size() && line[i] >= '0' && line[i] <= '9') ++i;
    if (i == chap_begin || i >= line.size() || line[i] != ':') continue;
    const std::string key(line.substr(0, i));
    ++i;
    const size_t verse_begin = i;
    while (i < line.size() && line[i] >= '0' && line[i] <= '9') ++i;
    if (i == verse_begin) continue;
    while (i < line.size() && line[i] == ' ') ++i;
    const std::string verse = rstrip(line.substr(i));
    if (verse.empty()) continue;
    if (key != chapter && !para.empty()) {
      out += para;
      out += '\n';
      para.clear();
    }
    chapter = key;
    para += verse;
    para += '\n';
  }
  if (!para.empty()) out += para + '\n';
}

// fortune files: cookies separated by lines holding only "%"; blank lines inside a cookie dropped.
void clean_fortunes(const std::string& raw, std::string& out) {
  std::string para;
  auto flush = [&] {
    if (!para.empty()) out += para + '\n';
    para.clear();
  };
  const std::string text = normalise_newlines(raw);
  for (std::string_view line : lines_of(text)) {
    const std::string l = rstrip(line);
    if (l == "%") {
      flush();
      continue;
    }
    if (l.empty()) continue;
    para += l;
    para += '\n';
  }
  flush();
}

}  // namespace

std::vector<CorpusSource> demo_corpus_sources() {
  const std::string fortune_licence =
      "BSD-3-Clause (fortune-mod, Copyright (c) 1991 The Regents of the University of California; "
      "/usr/share/doc/fortunes-min/copyright)";
  std::vector<CorpusSource> sources = {
      {"King James Bible", "bible-kjv-text",
       "public domain (KJV text of 1611; BRS data file for unrestricted use; /usr/share/doc/bible-kjv-text/copyright)",
       "/usr/lib/bible.data"},
      {"fortunes", "fortunes-min", fortune_licence, "/usr/share/games/fortunes/fortunes"},
      {"fortunes: literature", "fortunes-min", fortune_licence, "/usr/share/games/fortunes/literature"},
      {"fortunes: riddles", "fortunes-min", fortune_licence, "/usr/share/games/fortunes/riddles"},
  };
  // The prose collections of the full fortunes package (the same BSD fortune-mod licence). Left out:
  // ASCII art, program code (perl, linux, debian), chat logs (knghtbrd), and the ethnic, drugs and
  // men-women jar, which a teaching tool should not learn to continue.
  const std::string full_licence =
      "BSD-3-Clause (fortune-mod, Copyright (c) 1991 The Regents of the University of California; "
      "/usr/share/doc/fortunes/copyright)";
  for (const char* jar : {"computers", "cookie", "definitions", "education", "food", "humorists", "kids", "law",
                          "love", "magic", "medicine", "miscellaneous", "news", "paradoxum", "people", "pets",
                          "platitudes", "politics", "science", "songs-poems", "sports", "tao", "wisdom", "work"})
    sources.push_back({std::string("fortunes: ") + jar, "fortunes", full_licence,
                       std::string("/usr/share/games/fortunes/") + jar});
  return sources;
}

bool corpus_available(const std::vector<CorpusSource>& sources) {
  for (const CorpusSource& s : sources)
    if (!std::filesystem::is_regular_file(s.path)) return false;
  return true;
}

std::string read_corpus(const std::vector<CorpusSource>& sources) {
  std::string out;
  for (const CorpusSource& src : sources) {
    const std::string raw = read_file_bytes(src);
    if (raw.compare(0, 4, "EC02") == 0) {
      clean_bible(decode_brs(raw, src.path), out);
    } else {
      if (raw.find('\0') != std::string::npos) throw InputError(src.path, "binary data, expected a text file");
      clean_fortunes(raw, out);
    }
  }
  // One empty line between paragraphs, none at the end.
  while (out.size() >= 2 && out[out.size() - 1] == '\n' && out[out.size() - 2] == '\n') out.pop_back();
  return out;
}

CorpusSplit split_corpus(const std::string& text, int64_t every) {
  if (every < 2) throw UsageError("split_corpus: every must be at least 2, got " + std::to_string(every));
  CorpusSplit split;
  size_t pos = 0;
  int64_t index = 0;
  while (pos < text.size()) {
    size_t end = text.find("\n\n", pos);
    const size_t next = end == std::string::npos ? text.size() : end + 2;
    if (end == std::string::npos) end = text.size();
    std::string& dst = (index % every == every - 1) ? split.validation : split.train;
    if (!dst.empty()) dst += "\n\n";
    dst.append(text, pos, end - pos);
    pos = next;
    ++index;
  }
  return split;
}

}  // namespace cascade::data
