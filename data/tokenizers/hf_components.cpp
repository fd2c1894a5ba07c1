// tokenizer.json's normalizers, pre-tokenizers and decoders (semantics of HF tokenizers' Rust
// crate, read from its documentation and source).
#include "data/tokenizers/hf_components.h"

#include <nlohmann/json.hpp>

#include <memory>

#include "core/errors.h"
#include "data/tokenizers/byte_level.h"
#include "data/tokenizers/sp_tokenizer.h"

namespace cascade::data {
namespace {

using json = nlohmann::json;

std::string type_of(const json& j) { return j.is_object() ? j.value("type", "") : ""; }

[[noreturn]] void unsupported(const char* stage, const json& j, const std::string& source) {
  throw InputError(source, std::string(stage) + " '" + type_of(j) + "' is not supported (" + j.dump() + ")");
}

// Sequences flattened into their parts, in order.
void flatten(const json& j, const char* list_key, std::vector<const json*>& out) {
  if (j.is_null()) return;
  if (type_of(j) == "Sequence" && j.contains(list_key) && j[list_key].is_array()) {
    for (const json& part : j[list_key]) flatten(part, list_key, out);
    return;
  }
  out.push_back(&j);
}

SplitBehavior parse_behavior(const std::string& name, const std::string& source) {
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  throw InputError(source, "split behavior '" + name + "' is not one of Removed, Isolated, MergedWithPrevious, "
                           "MergedWithNext, Contiguous");
}

TextPattern regex_pattern(const std::string& regex, const std::string& source) {
  TextPattern p;
  p.regex = std::make_shared<const OnigRegex>(regex, source);
  return p;
}

// Splits every piece by `pattern` with `behavior`.
PreTokenizeStep split_step(TextPattern pattern, SplitBehavior behavior, bool invert) {
  return [pattern = std::move(pattern), behavior, invert](std::vector<NormalizedText>& pieces) {
    std::vector<NormalizedText> out;
    for (const NormalizedText& piece : pieces)
      for (NormalizedText& part : piece.split(pattern, behavior, invert)) out.push_back(std::move(part));
    pieces = std::move(out);
  };
}

std::string metaspace_scheme(const json& c) {
  if (c.contains("prepend_scheme") && c["prepend_scheme"].is_string()) return c["prepend_scheme"].get<std::string>();
  return c.value("add_prefix_space", true) ? "always" : "never";
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) s.replace(pos, from.size(), to);
  return s;
}

NormalizeStep normalize_step(const json& c, const std::string& source) {
  const std::string type = type_of(c);
  if (type == "NFC") return [](NormalizedText& t) { t.normalize(unicode::Form::kNfc); };
  if (type == "NFD") return [](NormalizedText& t) { t.normalize(unicode::Form::kNfd); };
  if (type == "NFKC") return [](NormalizedText& t) { t.normalize(unicode::Form::kNfkc); };
  if (type == "NFKD") return [](NormalizedText& t) { t.normalize(unicode::Form::kNfkd); };
  if (type == "Lowercase") return [](NormalizedText& t) { t.lowercase(); };
  if (type == "StripAccents") return [](NormalizedText& t) { t.strip_accents(); };
  if (type == "Strip") {
    const bool left = c.value("strip_left", true), right = c.value("strip_right", true);
    return [left, right](NormalizedText& t) { t.strip(left, right); };
  }
  if (type == "Replace") {
    const TextPattern pattern = parse_pattern(c.at("pattern"), source);
    const std::string content = c.value("content", "");
    return [pattern, content](NormalizedText& t) { t.replace(pattern, content); };
  }
  if (type == "Prepend") {
    const std::string prepend = c.value("prepend", "");
    return [prepend](NormalizedText& t) { t.prepend(prepend); };
  }
  if (type == "ByteLevel") return [](NormalizedText& t) { t.to_byte_level(); };
  unsupported("normalizer", c, source);
}

PreTokenizeStep pre_tokenize_step(const json& c, const std::string& source) {
  const std::string type = type_of(c);
  if (type == "Split") {
    return split_step(parse_pattern(c.at("pattern"), source), parse_behavior(c.value("behavior", "Isolated"), source),
                      c.value("invert", false));
  }
  if (type == "ByteLevel") {
    const bool prefix = c.value("add_prefix_space", true);
    const bool use_regex = c.value("use_regex", true);
    PreTokenizeStep regex;
    if (use_regex) regex = split_step(regex_pattern(kGpt2Regex, source), SplitBehavior::kIsolated, false);
    return [prefix, regex](std::vector<NormalizedText>& pieces) {
      if (prefix)
        for (NormalizedText& p : pieces)
          if (!p.empty() && p.text().front() != ' ') p.prepend(" ");
      if (regex) regex(pieces);
      for (NormalizedText& p : pieces) p.to_byte_level();
    };
  }
  if (type == "Metaspace") {
    const std::string replacement = c.value("replacement", "\xE2\x96\x81");
    const std::string scheme = metaspace_scheme(c);
    if (scheme != "always" && scheme != "first" && scheme != "never")
      throw InputError(source, "Metaspace prepend_scheme '" + scheme + "' is not one of always, first, never");
    const bool split = c.value("split", true);
    TextPattern space, symbol;
    space.literal = " ";
    symbol.literal = replacement;
    return [=](std::vector<NormalizedText>& pieces) {
      std::vector<NormalizedText> out;
      for (NormalizedText& p : pieces) {
        p.replace(space, replacement);
        const bool starts = p.text().compare(0, replacement.size(), replacement) == 0;
        if (!starts && (scheme == "always" || (scheme == "first" && p.original_begin() == 0))) p.prepend(replacement);
        if (!split) {
          out.push_back(std::move(p));
          continue;
        }
        for (NormalizedText& part : p.split(symbol, SplitBehavior::kMergedWithNext)) out.push_back(std::move(part));
      }
      pieces = std::move(out);
    };
  }
  if (type == "Whitespace")
    return split_step(regex_pattern(R"(\w+|[^\w\s]+)", source), SplitBehavior::kRemoved, /*invert=*/true);
  if (type == "WhitespaceSplit") return split_step(regex_pattern(R"(\s+)", source), SplitBehavior::kRemoved, false);
  if (type == "Digits") {
    const bool individual = c.value("individual_digits", false);
    return split_step(regex_pattern(individual ? R"(\p{N})" : R"(\p{N}+)", source), SplitBehavior::kIsolated, false);
  }
  if (type == "Punctuation") {
    return split_step(regex_pattern(R"([\p{P}!-/:-@\[-`{-~])", source),
                      parse_behavior(c.value("behavior", "Isolated"), source), false);
  }
  unsupported("pre_tokenizer", c, source);
}

DecodeStep decode_step(const json& c, const std::string& source) {
  const std::string type = type_of(c);
  using Tokens = std::vector<std::string>;
  if (type == "ByteLevel") {
    const auto one = [](std::string& t) {
      std::string bytes;
      if (byte_level_bytes(t, bytes)) t = bytes;  // a token outside the alphabet stays as written
    };
    return {[one](Tokens& tokens) {
              for (std::string& t : tokens) one(t);
            },
            one};
  }
  if (type == "Replace") {
    const TextPattern pattern = parse_pattern(c.at("pattern"), source);
    const std::string content = c.value("content", "");
    const auto one = [pattern, content](std::string& t) {
      NormalizedText text(t, 0);
      text.replace(pattern, content);
      t = text.text();
    };
    return {[one](Tokens& tokens) {
              for (std::string& t : tokens) one(t);
            },
            one};
  }
  if (type == "ByteFallback") {
    // Runs of <0xNN> tokens become their bytes (kept as bytes where HF writes U+FFFD for invalid UTF-8).
    const auto one = [](std::string& t) {
      if (const auto b = byte_piece_value(t)) t = std::string(1, static_cast<char>(*b));
    };
    return {[](Tokens& tokens) {
              Tokens out;
              std::string bytes;
              for (std::string& t : tokens) {
                if (const auto b = byte_piece_value(t)) {
                  bytes += static_cast<char>(*b);
                  continue;
                }
                if (!bytes.empty()) out.push_back(std::move(bytes));
                bytes.clear();
                out.push_back(std::move(t));
              }
              if (!bytes.empty()) out.push_back(std::move(bytes));
              tokens = std::move(out);
            },
            one};
  }
  if (type == "Fuse") {
    return {[](Tokens& tokens) {
              std::string all;
              for (const std::string& t : tokens) all += t;
              tokens = {all};
            },
            nullptr};
  }
  if (type == "Strip") {
    const std::string content = c.value("content", " ");
    const size_t start = c.value("start", size_t{0}), stop = c.value("stop", size_t{0});
    // Only for the whole output: a token shown alone keeps its spaces.
    return {[content, start, stop](Tokens& tokens) {
              for (std::string& t : tokens) {
                for (size_t i = 0; i < start && t.compare(0, content.size(), content) == 0 && !content.empty(); ++i)
                  t.erase(0, content.size());
                for (size_t i = 0; i < stop && !content.empty() && t.size() >= content.size() &&
                                   t.compare(t.size() - content.size(), content.size(), content) == 0;
                     ++i)
                  t.erase(t.size() - content.size());
              }
            },
            nullptr};
  }
  if (type == "Metaspace") {
    const std::string replacement = c.value("replacement", "\xE2\x96\x81");
    const bool drop_first = metaspace_scheme(c) != "never";
    return {[replacement, drop_first](Tokens& tokens) {
              for (size_t i = 0; i < tokens.size(); ++i)
                tokens[i] = replace_all(tokens[i], replacement, i == 0 && drop_first ? "" : " ");
            },
            [replacement](std::string& t) { t = replace_all(t, replacement, " "); }};
  }
  if (type == "BPEDecoder") {
    const std::string suffix = c.value("suffix", "</w>");
    return {[suffix](Tokens& tokens) {
              for (size_t i = 0; i < tokens.size(); ++i)
                tokens[i] = replace_all(tokens[i], suffix, i + 1 == tokens.size() ? "" : " ");
            },
            [suffix](std::string& t) { t = replace_all(t, suffix, " "); }};
  }
  unsupported("decoder", c, source);
}

}  // namespace

TextPattern parse_pattern(const json& j, const std::string& source) {
  if (j.is_object() && j.contains("Regex") && j["Regex"].is_string()) return regex_pattern(j["Regex"].get<std::string>(), source);
  if (j.is_object() && j.contains("String") && j["String"].is_string()) {
    TextPattern p;
    p.literal = j["String"].get<std::string>();
    return p;
  }
  throw InputError(source, "pattern " + j.dump() + " is neither {\"String\": ...} nor {\"Regex\": ...}");
}

namespace {

// A component or its Sequence, flattened, each part made a step by `make`.
template <typename Step>
std::vector<Step> parse_steps(const json& j, const char* list_key, const std::string& source,
                              Step (*make)(const json&, const std::string&)) {
  std::vector<const json*> parts;
  flatten(j, list_key, parts);
  std::vector<Step> steps;
  for (const json* c : parts) steps.push_back(make(*c, source));
  return steps;
}

}  // namespace

std::vector<NormalizeStep> parse_normalizer(const json& j, const std::string& source) {
  return parse_steps(j, "normalizers", source, normalize_step);
}

std::vector<PreTokenizeStep> parse_pre_tokenizer(const json& j, const std::string& source) {
  return parse_steps(j, "pretokenizers", source, pre_tokenize_step);
}

std::vector<DecodeStep> parse_decoder(const json& j, const std::string& source) {
  return parse_steps(j, "decoders", source, decode_step);
}

std::unordered_map<std::string, int64_t> parse_vocab(const json& j, const std::string& source, const std::string& where) {
  if (!j.is_object()) throw InputError(source, where + "expected a JSON object mapping token -> id");
  std::unordered_map<std::string, int64_t> vocab;
  vocab.reserve(j.size());
  for (const auto& [tok, id] : j.items()) {
    if (!id.is_number_integer()) throw InputError(source, "token '" + tok + "' has a non-integer id");
    vocab.emplace(tok, id.get<int64_t>());
  }
  return vocab;
}

}  // namespace cascade::data
