// The tokenizer.json pipeline: added tokens, normalizer, pre-tokenizer, BPE, post-processor, decoder.
#include "data/tokenizers/hf_tokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>

#include "core/errors.h"
#include "data/tokenizers/byte_level.h"
#include "data/tokenizers/unicode_props.h"

namespace cascade::data {
namespace {

using json = nlohmann::json;
constexpr int64_t kMaxId = int64_t{1} << 31;

std::string type_of(const json& j) { return j.is_object() ? j.value("type", "") : ""; }

std::vector<HfAddedToken> parse_added(const json& j, const std::string& source) {
  std::vector<HfAddedToken> added;
  if (j.is_null()) return added;
  if (!j.is_array()) throw InputError(source, "added_tokens is not a list");
  for (const json& t : j) {
    if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() || !t.contains("content") ||
        !t["content"].is_string())
      throw InputError(source, "added_tokens: every entry needs an integer \"id\" and a string \"content\"");
    HfAddedToken a;
    a.content = t["content"].get<std::string>();
    a.id = t["id"].get<int64_t>();
    a.special = t.value("special", false);
    a.lstrip = t.value("lstrip", false);
    a.rstrip = t.value("rstrip", false);
    a.normalized = t.value("normalized", !a.special);
    a.single_word = t.value("single_word", false);
    if (a.id < 0 || a.id >= kMaxId) throw InputError(source, "added token id " + std::to_string(a.id) + " out of range");
    added.push_back(std::move(a));
  }
  return added;
}

// The single-sequence template: ids before and after $A.
void parse_post_processor(const json& j, std::vector<int64_t>& prefix, std::vector<int64_t>& suffix,
                          const std::string& source) {
  const std::string type = type_of(j);
  if (j.is_null() || type == "ByteLevel") return;
  if (type == "Sequence") {
    for (const json& p : j.value("processors", json::array())) parse_post_processor(p, prefix, suffix, source);
    return;
  }
  if (type == "TemplateProcessing") {
    const json& specials = j.value("special_tokens", json::object());
    bool after = false;
    for (const json& item : j.value("single", json::array())) {
      if (item.contains("Sequence")) {
        after = true;
        continue;
      }
      const std::string name = item.contains("SpecialToken") ? item["SpecialToken"].value("id", "") : "";
      if (!specials.contains(name) || !specials[name].contains("ids"))
        throw InputError(source, "post_processor: special token '" + name + "' has no ids");
      for (const json& id : specials[name]["ids"]) (after ? suffix : prefix).push_back(id.get<int64_t>());
    }
    return;
  }
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    prefix.push_back(j.at("cls").at(1).get<int64_t>());
    suffix.push_back(j.at("sep").at(1).get<int64_t>());
    return;
  }
  throw InputError(source, "post_processor '" + type + "' is not supported (" + j.dump() + ")");
}

bool has_byte_level(const json& j, const char* list_key) {
  if (type_of(j) == "ByteLevel") return true;
  if (type_of(j) == "Sequence" && j.contains(list_key))
    for (const json& part : j[list_key])
      if (has_byte_level(part, list_key)) return true;
  return false;
}

bool is_word_char(char32_t cp) { return cp == '_' || unicode::is_letter(cp) || unicode::is_number(cp); }

// The code point that ends text[0, at) (or 0 when none).
char32_t char_before(std::string_view text, size_t at) {
  if (at == 0) return 0;
  size_t start = at - 1;
  while (start > 0 && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80) --start;
  return unicode::next_utf8(text, start).cp;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> parse_json_merges(const json& j, const std::string& path) {
  std::vector<std::pair<std::string, std::string>> merges;
  if (j.is_null()) return merges;
  if (!j.is_array()) throw InputError(path, "model.merges is not a list");
  merges.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    const json& m = j[i];
    if (m.is_string()) {
      const std::string& s = m.get_ref<const std::string&>();
      const size_t space = s.find(' ');
      if (space == std::string::npos || space == 0 || space + 1 == s.size() || s.find(' ', space + 1) != std::string::npos)
        throw InputError(path, "model.merges[" + std::to_string(i) + "]: expected 'A B', got '" + s + "'");
      merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      throw InputError(path, "model.merges[" + std::to_string(i) + "]: expected \"A B\" or [\"A\", \"B\"]");
    }
  }
  return merges;
}

BpeOptions parse_bpe_model(const json& model, const std::string& source) {
  if (!model.is_object()) throw InputError(source, "expected an HF tokenizer.json with a \"model\" object");
  const std::string type = model.value("type", "BPE");
  if (type != "BPE") throw InputError(source, "model type '" + type + "' is not supported (only BPE)");
  if (!model.contains("vocab")) throw InputError(source, "model.vocab is missing");
  if (model.contains("dropout") && model["dropout"].is_number() && model["dropout"].get<double>() > 0)
    throw InputError(source, "BPE dropout is not supported (it makes encoding random)");
  BpeOptions o;
  o.vocab = parse_vocab(model["vocab"], source, "model.vocab: ");
  o.merges = parse_json_merges(model.value("merges", json()), source);
  if (model.contains("unk_token") && model["unk_token"].is_string()) o.unk_token = model["unk_token"].get<std::string>();
  const auto text = [&](const char* key) {
    return model.contains(key) && model[key].is_string() ? model[key].get<std::string>() : std::string();
  };
  o.continuing_subword_prefix = text("continuing_subword_prefix");
  o.end_of_word_suffix = text("end_of_word_suffix");
  const auto flag = [&](const char* key) { return model.contains(key) && model[key].is_boolean() && model[key].get<bool>(); };
  o.fuse_unk = flag("fuse_unk");
  o.byte_fallback = flag("byte_fallback");
  o.ignore_merges = flag("ignore_merges");
  return o;
}

HfTokenizer::HfTokenizer(const json& root, const std::string& source)
    : source_(source), model_(parse_bpe_model(root.is_object() && root.contains("model") ? root["model"] : json(), source), source) {
  try {
    added_ = parse_added(root.value("added_tokens", json()), source);
    normalizer_ = parse_normalizer(root.value("normalizer", json()), source);
    pre_tokenizer_ = parse_pre_tokenizer(root.value("pre_tokenizer", json()), source);
    const json decoder = root.value("decoder", json());
    decoder_ = parse_decoder(decoder, source);
    byte_level_decoder_ = has_byte_level(decoder, "decoders");
    parse_post_processor(root.value("post_processor", json()), prefix_, suffix_, source);
    if (has_byte_level(root.value("pre_tokenizer", json()), "pretokenizers")) {
      for (int b = 0; b < 256; ++b)
        if (!model_.token_id(unicode::encode_utf8(byte_to_unicode(static_cast<uint8_t>(b)))))
          throw InputError(source, "the vocabulary lacks the byte symbol for byte " + std::to_string(b));
    }
  } catch (const json::exception& e) {
    throw InputError(source, std::string("unexpected structure (") + e.what() + ")");
  }
  int64_t size = 0;
  for (const auto& [tok, id] : model_.vocab()) size = std::max(size, id + 1);
  for (const HfAddedToken& t : added_) size = std::max(size, t.id + 1);
  tokens_.assign(static_cast<size_t>(size), std::string());
  added_index_.assign(static_cast<size_t>(size), -1);
  for (const auto& [tok, id] : model_.vocab()) tokens_[static_cast<size_t>(id)] = tok;
  for (size_t i = 0; i < added_.size(); ++i) {
    const HfAddedToken& t = added_[i];
    tokens_[static_cast<size_t>(t.id)] = t.content;
    added_index_[static_cast<size_t>(t.id)] = static_cast<int>(i);
  }
  for (const int64_t id : prefix_)
    if (id < 0 || id >= size) throw InputError(source, "post_processor id " + std::to_string(id) + " out of range");
  normalized_content_.resize(added_.size());
  for (size_t i = 0; i < added_.size(); ++i) {
    NormalizedText content(added_[i].content, 0);
    if (added_[i].normalized)
      for (const NormalizeStep& step : normalizer_) step(content);
    normalized_content_[i] = content.text();
    (added_[i].normalized ? normalized_added_ : raw_added_).push_back(&added_[i]);
  }
}

const std::string& HfTokenizer::token(int64_t id) const {
  if (id < 0 || id >= vocab_size())
    throw UsageError("token id " + std::to_string(id) + " out of range [0, " + std::to_string(vocab_size()) + ")");
  return tokens_[static_cast<size_t>(id)];
}

std::optional<int64_t> HfTokenizer::token_id(const std::string& tok) const {
  for (const HfAddedToken& t : added_)
    if (t.content == tok) return t.id;
  return model_.token_id(tok);
}

void HfTokenizer::set_special_tokens(std::vector<int64_t> prefix, std::vector<int64_t> suffix) {
  prefix_ = std::move(prefix);
  suffix_ = std::move(suffix);
}

void HfTokenizer::set_add_bos_id(std::optional<int64_t> id) {
  set_special_tokens(id ? std::vector<int64_t>{*id} : std::vector<int64_t>{}, {});
}

// Leftmost match, the longest at that position (aho-corasick LeftmostLongest, as HF), with the
// tokens' single_word / lstrip / rstrip rules.
std::vector<HfTokenizer::Match> HfTokenizer::split_added(std::string_view text,
                                                         const std::vector<const HfAddedToken*>& candidates) const {
  std::vector<Match> out;
  if (candidates.empty()) {
    if (!text.empty()) out.push_back({0, text.size(), nullptr});
    return out;
  }
  std::array<std::vector<std::pair<const std::string*, const HfAddedToken*>>, 256> by_first;
  for (const HfAddedToken* t : candidates) {
    const std::string& content = normalized_content_[static_cast<size_t>(t - added_.data())];
    if (!content.empty()) by_first[static_cast<uint8_t>(content[0])].emplace_back(&content, t);
  }
  for (auto& list : by_first)
    std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.first->size() > b.first->size(); });
  size_t plain_begin = 0;
  for (size_t pos = 0; pos < text.size();) {
    const std::pair<const std::string*, const HfAddedToken*>* hit = nullptr;
    for (const auto& c : by_first[static_cast<uint8_t>(text[pos])])
      if (text.compare(pos, c.first->size(), *c.first) == 0) {
        hit = &c;
        break;
      }
    if (!hit) {
      ++pos;
      continue;
    }
    size_t begin = pos, end = pos + hit->first->size();
    pos = end;
    const HfAddedToken& t = *hit->second;
    if (t.single_word) {
      const bool word_before = begin > 0 && is_word_char(char_before(text, begin));
      const bool word_after = end < text.size() && is_word_char(unicode::next_utf8(text, end).cp);
      if (word_before || word_after) continue;
    }
    if (t.lstrip) {
      while (begin > plain_begin && unicode::is_whitespace(char_before(text, begin))) {
        size_t start = begin - 1;
        while (start > 0 && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80) --start;
        begin = start;
      }
    }
    if (t.rstrip) {
      while (end < text.size()) {
        const unicode::Utf8Char c = unicode::next_utf8(text, end);
        if (!c.valid || !unicode::is_whitespace(c.cp)) break;
        end += c.length;
      }
      pos = end;
    }
    if (begin > plain_begin) out.push_back({plain_begin, begin, nullptr});
    out.push_back({begin, end, &t});
    plain_begin = end;
  }
  if (text.size() > plain_begin) out.push_back({plain_begin, text.size(), nullptr});
  return out;
}

void HfTokenizer::encode_plain(const NormalizedText& text, std::vector<Piece>& out) const {
  std::vector<NormalizedText> words{text};
  for (const PreTokenizeStep& step : pre_tokenizer_) step(words);
  for (const NormalizedText& word : words) {
    for (const BpeToken& t : model_.tokenize(word.text())) {
      const Span s = word.origin(t.begin, t.end);
      out.push_back({t.id, s.begin, s.end});
    }
  }
}

std::vector<HfTokenizer::Piece> HfTokenizer::encode_pieces(const std::string& text) const {
  std::vector<Piece> out;
  for (const Match& raw : split_added(text, raw_added_)) {
    if (raw.token) {
      out.push_back({raw.token->id, raw.begin, raw.end});
      continue;
    }
    NormalizedText normalized(std::string_view(text).substr(raw.begin, raw.end - raw.begin), raw.begin);
    for (const NormalizeStep& step : normalizer_) step(normalized);
    for (const Match& m : split_added(normalized.text(), normalized_added_)) {
      if (m.token) {
        const Span s = normalized.origin(m.begin, m.end);
        out.push_back({m.token->id, s.begin, s.end});
      } else {
        encode_plain(normalized.slice(m.begin, m.end), out);
      }
    }
  }
  return out;
}

std::vector<int64_t> HfTokenizer::encode(const std::string& text, bool add_special) const {
  std::vector<int64_t> ids;
  if (add_special) ids = prefix_;
  for (const Piece& p : encode_pieces(text)) ids.push_back(p.id);
  if (add_special) ids.insert(ids.end(), suffix_.begin(), suffix_.end());
  return ids;
}

Encoding HfTokenizer::encode_detailed(const std::string& text, bool add_special) const {
  Encoding e;
  const auto add = [&](int64_t id, size_t begin, size_t end) {
    e.ids.push_back(id);
    e.tokens.push_back(token(id));
    e.offsets.emplace_back(begin, end);
  };
  if (add_special)
    for (const int64_t id : prefix_) add(id, 0, 0);
  for (const Piece& p : encode_pieces(text)) add(p.id, p.begin, p.end);
  if (add_special)
    for (const int64_t id : suffix_) add(id, 0, 0);
  return e;
}

std::string HfTokenizer::decode(const std::vector<int64_t>& ids) const { return decode(ids, !byte_level_decoder_); }

std::string HfTokenizer::decode(const std::vector<int64_t>& ids, bool skip_special) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const int64_t id : ids) {
    const std::string& t = token(id);  // range-checked
    const int added = added_index_[static_cast<size_t>(id)];
    if (skip_special && added >= 0 && added_[static_cast<size_t>(added)].special) continue;
    tokens.push_back(t);
  }
  std::string out;
  if (decoder_.empty()) {
    for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
    return out;
  }
  for (const DecodeStep& step : decoder_) step.decode(tokens);
  for (const std::string& t : tokens) out += t;
  return out;
}

std::string HfTokenizer::display(int64_t id) const {
  std::string t = token(id);  // range-checked
  const int added = added_index_[static_cast<size_t>(id)];
  if (added >= 0 && added_[static_cast<size_t>(added)].special) {
    const size_t first = t.find_first_not_of(" \t\r\n"), last = t.find_last_not_of(" \t\r\n");
    return first == std::string::npos ? t : t.substr(first, last - first + 1);
  }
  for (const DecodeStep& step : decoder_)
    if (step.display) step.display(t);
  return unicode::visible(t);
}

}  // namespace cascade::data
