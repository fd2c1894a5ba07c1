// Tokenizer files -> ByteLevelBpeTokenizer / SentencePieceTokenizer, and the model-folder loader.
#include "data/tokenizers/tokenizer_loader.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/errors.h"
#include "data/tokenizers/sp_model_proto.h"

namespace cascade::data {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open the file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json read_json(const std::string& path) {
  try {
    return json::parse(read_file(path));
  } catch (const json::exception& e) {
    throw InputError(path, std::string("not valid JSON (") + e.what() + ")");
  }
}

std::unordered_map<std::string, int64_t> parse_vocab(const json& j, const std::string& path) {
  if (!j.is_object()) throw InputError(path, "expected a JSON object mapping token -> id");
  std::unordered_map<std::string, int64_t> vocab;
  vocab.reserve(j.size());
  for (const auto& [tok, id] : j.items()) {
    if (!id.is_number_integer()) throw InputError(path, "token '" + tok + "' has a non-integer id");
    vocab.emplace(tok, id.get<int64_t>());
  }
  return vocab;
}

std::vector<std::pair<std::string, std::string>> parse_merges_txt(const std::string& path) {
  std::istringstream in(read_file(path));
  std::vector<std::pair<std::string, std::string>> merges;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (number == 1 && line.rfind("#version", 0) == 0)) continue;
    const size_t space = line.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string::npos)
      throw InputError(path, "line " + std::to_string(number) + ": expected two tokens 'A B', got '" + line + "'");
    merges.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  return merges;
}

std::vector<std::pair<std::string, std::string>> parse_json_merges(const json& j, const std::string& path) {
  std::vector<std::pair<std::string, std::string>> merges;
  if (j.is_null()) return merges;
  if (!j.is_array()) throw InputError(path, "model.merges is not a list");
  for (size_t i = 0; i < j.size(); ++i) {
    const json& m = j[i];
    if (m.is_string()) {
      const std::string s = m.get<std::string>();
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

std::vector<AddedToken> parse_added_tokens(const json& j, const std::string& path) {
  std::vector<AddedToken> added;
  if (j.is_null()) return added;
  if (!j.is_array()) throw InputError(path, "added_tokens is not a list");
  for (const json& t : j) {
    if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() || !t.contains("content") ||
        !t["content"].is_string())
      throw InputError(path, "added_tokens: every entry needs an integer \"id\" and a string \"content\"");
    added.push_back({t["content"].get<std::string>(), t["id"].get<int64_t>(), t.value("special", true)});
  }
  return added;
}

// The components of a normalizer / pre_tokenizer / decoder / post_processor, Sequences flattened.
void components(const json& j, std::vector<const json*>& out) {
  if (!j.is_object()) return;
  for (const char* key : {"normalizers", "pretokenizers", "decoders", "processors"})
    if (j.contains(key) && j[key].is_array())
      for (const json& c : j[key]) components(c, out);
  if (j.value("type", "") != "Sequence") out.push_back(&j);
}

std::vector<const json*> components_of(const json& root, const char* key) {
  std::vector<const json*> out;
  if (root.contains(key)) components(root[key], out);
  return out;
}

bool has_type(const std::vector<const json*>& list, const std::string& type) {
  return std::any_of(list.begin(), list.end(), [&](const json* c) { return c->value("type", "") == type; });
}

// The id of the special token that TemplateProcessing puts first in a single sequence.
std::optional<int64_t> template_bos(const json& root) {
  for (const json* c : components_of(root, "post_processor")) {
    if (c->value("type", "") != "TemplateProcessing" || !c->contains("single")) continue;
    const json& single = (*c)["single"];
    if (!single.is_array() || single.empty() || !single[0].contains("SpecialToken")) return std::nullopt;
    const std::string name = single[0]["SpecialToken"].value("id", "");
    const json& specials = c->value("special_tokens", json::object());
    if (specials.contains(name) && specials[name].contains("ids") && !specials[name]["ids"].empty())
      return specials[name]["ids"][0].get<int64_t>();
  }
  return std::nullopt;
}

struct Loaded {
  std::unique_ptr<Tokenizer> tokenizer;
  bool sentencepiece = false;
  std::optional<int64_t> template_bos;
};

Loaded load_hf_json(const std::string& path, std::optional<int64_t> add_bos_id) {
  const json root = read_json(path);
  try {
    if (!root.is_object() || !root.contains("model") || !root["model"].is_object())
      throw InputError(path, "expected an HF tokenizer.json with a \"model\" object");
    const json& model = root["model"];
    const std::string type = model.value("type", "BPE");
    if (type != "BPE") throw InputError(path, "model type '" + type + "' is not supported (only BPE)");
    if (!model.contains("vocab")) throw InputError(path, "model.vocab is missing");
    const auto vocab = parse_vocab(model["vocab"], path);
    auto merges = parse_json_merges(model.value("merges", json()), path);
    auto added = parse_added_tokens(root.value("added_tokens", json()), path);
    const auto normalizers = components_of(root, "normalizer");
    const auto pre = components_of(root, "pre_tokenizer");
    const auto decoders = components_of(root, "decoder");
    Loaded out;
    out.template_bos = template_bos(root);
    const bool byte_level = has_type(pre, "ByteLevel") || has_type(decoders, "ByteLevel");
    if (byte_level) {
      for (const json* c : pre)
        if (c->value("type", "") != "ByteLevel" || !c->value("use_regex", true))
          throw InputError(path, "pre_tokenizer " + c->dump() + " is not supported (only GPT-2's ByteLevel regex)");
      for (const json* c : normalizers)  // NFC (GPT-NeoX) is not applied: the input is taken as NFC already
        if (c->value("type", "") != "NFC") throw InputError(path, "normalizer " + c->dump() + " is not supported");
      const bool prefix = !pre.empty() && pre.front()->value("add_prefix_space", false);
      out.tokenizer = std::make_unique<ByteLevelBpeTokenizer>(vocab, merges, std::move(added), add_bos_id, path, prefix);
      return out;
    }
    SpOptions opt;
    opt.space = " ";
    opt.add_dummy_prefix = false;
    for (const json* c : normalizers) {
      const std::string t = c->value("type", "");
      if (t == "Prepend") {
        opt.add_dummy_prefix = true;
        opt.dummy_prefix_every_segment = true;
      } else if (t == "Replace" && c->contains("pattern") && (*c)["pattern"].value("String", "") == " ") {
        opt.space = c->value("content", "");
      } else {
        throw InputError(path, "normalizer " + c->dump() + " is not supported");
      }
    }
    for (const json* c : pre) {
      if (c->value("type", "") != "Metaspace")
        throw InputError(path, "pre_tokenizer " + c->dump() + " is not supported (byte-level or Metaspace only)");
      opt.space = c->value("replacement", "\xE2\x96\x81");
      const std::string scheme = c->value("prepend_scheme", c->value("add_prefix_space", true) ? "always" : "never");
      opt.add_dummy_prefix = scheme != "never";
      opt.dummy_prefix_every_segment = scheme == "always";
    }
    if (opt.space == " " && !model.value("byte_fallback", false) && !has_type(decoders, "ByteFallback"))
      throw InputError(path, "neither byte-level nor SentencePiece-style BPE: not supported");
    opt.byte_fallback = model.value("byte_fallback", false);
    opt.add_bos_id = add_bos_id;
    opt.merge_order = SpOptions::MergeOrder::kRank;
    opt.merges = std::move(merges);
    opt.added = std::move(added);
    const std::string unk = model.value("unk_token", json()).is_string() ? model["unk_token"].get<std::string>() : "";
    int64_t size = 0;
    for (const auto& [tok, id] : vocab) {
      if (id < 0 || id >= (int64_t{1} << 31)) throw InputError(path, "token id " + std::to_string(id) + " out of range");
      size = std::max(size, id + 1);
    }
    std::vector<SpPiece> pieces(static_cast<size_t>(size), SpPiece{"", 0, SpPiece::Type::kUnused});
    for (const auto& [tok, id] : vocab) {
      SpPiece::Type t = SpPiece::Type::kNormal;
      if (opt.byte_fallback && byte_piece_value(tok)) t = SpPiece::Type::kByte;
      else if (tok == unk) t = SpPiece::Type::kUnknown;
      pieces[static_cast<size_t>(id)] = {tok, 0, t};
    }
    out.sentencepiece = true;
    out.tokenizer = std::make_unique<SentencePieceTokenizer>(std::move(pieces), std::move(opt), path);
    return out;
  } catch (const json::exception& e) {
    throw InputError(path, std::string("unexpected structure (") + e.what() + ")");
  }
}

// Added tokens for a vocab.json folder: tokenizer_config.json's added_tokens_decoder,
// added_tokens.json, and the special tokens of special_tokens_map.json that are in the vocabulary.
std::vector<AddedToken> folder_added_tokens(const fs::path& dir, const std::string& vocab_path) {
  std::vector<AddedToken> added;
  std::set<std::string> seen;
  const auto add = [&](const std::string& content, int64_t id, bool special) {
    if (!content.empty() && seen.insert(content).second) added.push_back({content, id, special});
  };
  std::unordered_map<std::string, int64_t> vocab;
  const auto lookup = [&](const std::string& content) -> std::optional<int64_t> {
    if (vocab.empty()) vocab = parse_vocab(read_json(vocab_path), vocab_path);
    const auto it = vocab.find(content);
    return it == vocab.end() ? std::nullopt : std::optional<int64_t>(it->second);
  };
  try {
    if (const fs::path p = dir / "tokenizer_config.json"; fs::exists(p)) {
      const json cfg = read_json(p.string());
      if (cfg.contains("added_tokens_decoder") && cfg["added_tokens_decoder"].is_object())
        for (const auto& [id, t] : cfg["added_tokens_decoder"].items())
          add(t.value("content", ""), std::stoll(id), t.value("special", true));
    }
    if (const fs::path p = dir / "added_tokens.json"; fs::exists(p)) {
      const json tokens = read_json(p.string());  // named: items() must not outlive it
      for (const auto& [content, id] : tokens.items()) add(content, id.get<int64_t>(), true);
    }
    if (const fs::path p = dir / "special_tokens_map.json"; fs::exists(p)) {
      const json map = read_json(p.string());
      for (const auto& [key, v] : map.items()) {
        for (const json& t : v.is_array() ? v : json::array({v})) {
          const std::string content = t.is_string() ? t.get<std::string>() : t.value("content", "");
          if (const auto id = lookup(content)) add(content, *id, true);
        }
      }
    }
  } catch (const json::exception& e) {
    throw InputError(dir.string(), std::string("unexpected tokenizer_config / special tokens file (") + e.what() + ")");
  } catch (const std::logic_error& e) {
    throw InputError(dir.string(), std::string("bad added token id (") + e.what() + ")");
  }
  return added;
}

Loaded load_folder(const std::string& model_dir) {
  const fs::path dir(model_dir);
  if (!fs::is_directory(dir)) throw InputError(model_dir, "not a folder");
  const auto has = [&](const char* name) { return fs::is_regular_file(dir / name); };
  Loaded out;
  if (has("tokenizer.json")) return load_hf_json((dir / "tokenizer.json").string(), std::nullopt);
  for (const auto& [vocab, merges] : {std::pair{"vocab.json", "merges.txt"}, std::pair{"encoder.json", "vocab.bpe"}}) {
    if (has(vocab) && has(merges)) {
      const std::string vp = (dir / vocab).string();
      out.tokenizer = load_gpt2_bpe(vp, (dir / merges).string(), folder_added_tokens(dir, vp));
      return out;
    }
  }
  out.sentencepiece = true;
  if (has("tokens.json")) {
    out.tokenizer = load_llama2c_tokens((dir / "tokens.json").string(), std::nullopt);
  } else if (has("tokenizer.model")) {
    out.tokenizer = load_sentencepiece_model((dir / "tokenizer.model").string(), std::nullopt);
  } else {
    throw InputError(model_dir, "no tokenizer files (looked for tokenizer.json, vocab.json + merges.txt, "
                                "encoder.json + vocab.bpe, tokens.json, tokenizer.model)");
  }
  return out;
}

void set_bos(Tokenizer& t, std::optional<int64_t> id) {
  if (auto* b = dynamic_cast<ByteLevelBpeTokenizer*>(&t)) b->set_add_bos_id(id);
  if (auto* s = dynamic_cast<SentencePieceTokenizer*>(&t)) s->set_add_bos_id(id);
}

std::optional<int64_t> token_id(const Tokenizer& t, const std::string& token) {
  if (const auto* b = dynamic_cast<const ByteLevelBpeTokenizer*>(&t)) return b->token_id(token);
  if (const auto* s = dynamic_cast<const SentencePieceTokenizer*>(&t)) return s->piece_id(token);
  return std::nullopt;
}

json optional_json(const fs::path& p) { return fs::is_regular_file(p) ? read_json(p.string()) : json::object(); }

std::string token_text(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("content") && j["content"].is_string()) return j["content"].get<std::string>();
  return "";
}

}  // namespace

std::unique_ptr<ByteLevelBpeTokenizer> load_gpt2_bpe(const std::string& vocab_path, const std::string& merges_path,
                                                     std::vector<AddedToken> added, std::optional<int64_t> add_bos_id) {
  const auto vocab = parse_vocab(read_json(vocab_path), vocab_path);
  const auto merges = parse_merges_txt(merges_path);
  const std::string eot = "<|endoftext|>";
  const auto it = vocab.find(eot);
  if (it != vocab.end() && std::none_of(added.begin(), added.end(), [&](const AddedToken& t) { return t.content == eot; }))
    added.push_back({eot, it->second, true});
  return std::make_unique<ByteLevelBpeTokenizer>(vocab, merges, std::move(added), add_bos_id,
                                                 vocab_path + " + " + merges_path);
}

std::unique_ptr<Tokenizer> load_hf_tokenizer_json(const std::string& path, std::optional<int64_t> add_bos_id) {
  return load_hf_json(path, add_bos_id).tokenizer;
}

std::unique_ptr<SentencePieceTokenizer> load_llama2c_tokens(const std::string& path, std::optional<int64_t> add_bos_id) {
  const json root = read_json(path);
  const std::string shape = "expected a list of {\"id\": int, \"piece\": string, \"score\": number} with ids 0..n-1";
  if (!root.is_array() || root.empty()) throw InputError(path, shape);
  std::vector<SpPiece> pieces(root.size());
  std::vector<char> seen(root.size(), 0);
  for (const json& e : root) {
    if (!e.is_object() || !e.contains("id") || !e["id"].is_number_integer() || !e.contains("piece") ||
        !e["piece"].is_string() || !e.contains("score") || !e["score"].is_number())
      throw InputError(path, shape);
    const auto id = e["id"].get<int64_t>();
    if (id < 0 || id >= static_cast<int64_t>(root.size()) || seen[static_cast<size_t>(id)])
      throw InputError(path, shape + " (id " + std::to_string(id) + " is out of range or repeated)");
    seen[static_cast<size_t>(id)] = 1;
    SpPiece p{e["piece"].get<std::string>(), e["score"].get<float>(), SpPiece::Type::kNormal};
    if (byte_piece_value(p.piece)) p.type = SpPiece::Type::kByte;
    else if (id == 0) p.type = SpPiece::Type::kUnknown;
    else if (id == 1 || id == 2) p.type = SpPiece::Type::kControl;
    pieces[static_cast<size_t>(id)] = std::move(p);
  }
  SpOptions opt;
  opt.space = " ";
  opt.add_bos_id = add_bos_id;
  return std::make_unique<SentencePieceTokenizer>(std::move(pieces), std::move(opt), path);
}

std::unique_ptr<SentencePieceTokenizer> load_sentencepiece_model(const std::string& path,
                                                                 std::optional<int64_t> add_bos_id) {
  SentencePieceModel m = parse_sentencepiece_model(read_file(path), path);
  if (m.model_type != 2)
    throw InputError(path, "only BPE sentencepiece models are supported (this one has model_type " +
                               std::to_string(m.model_type) + (m.model_type == 1 ? ", unigram)" : ")"));
  SpOptions opt;
  opt.add_dummy_prefix = m.add_dummy_prefix;
  opt.dummy_prefix_every_segment = true;
  opt.remove_extra_whitespaces = m.remove_extra_whitespaces;
  opt.byte_fallback = m.byte_fallback;
  opt.add_bos_id = add_bos_id ? add_bos_id : (m.bos_id >= 0 ? std::optional<int64_t>(m.bos_id) : std::nullopt);
  for (size_t id = 0; id < m.pieces.size(); ++id)
    if (m.pieces[id].type == SpPiece::Type::kUserDefined)
      opt.added.push_back({m.pieces[id].piece, static_cast<int64_t>(id), false});
  return std::make_unique<SentencePieceTokenizer>(std::move(m.pieces), std::move(opt), path);
}

std::unique_ptr<Tokenizer> load_tokenizer_with_bos(const std::string& model_dir, std::optional<int64_t> add_bos_id) {
  Loaded loaded = load_folder(model_dir);
  set_bos(*loaded.tokenizer, add_bos_id);
  return std::move(loaded.tokenizer);
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& model_dir, const std::string& model_type) {
  Loaded loaded = load_folder(model_dir);
  Tokenizer& tok = *loaded.tokenizer;
  const fs::path dir(model_dir);
  static const std::set<std::string> kNoBos = {"gpt2", "gptj", "gpt_neo", "gpt_neox", "gpt_bigcode", "codegen"};
  static const std::set<std::string> kLlama = {"llama", "mistral", "mixtral"};
  std::optional<int64_t> bos;
  try {
    if (kNoBos.count(model_type)) {
      bos = std::nullopt;
    } else if (model_type == "opt") {
      json cfg = optional_json(dir / "tokenizer_config.json");
      std::string name = cfg.contains("bos_token") ? token_text(cfg["bos_token"]) : "";
      if (name.empty()) {
        const json map = optional_json(dir / "special_tokens_map.json");
        if (map.contains("bos_token")) name = token_text(map["bos_token"]);
      }
      bos = token_id(tok, name.empty() ? "</s>" : name);
      if (!bos) bos = 2;
    } else if (kLlama.count(model_type) || (loaded.sentencepiece && model_type.empty()) ||
               (loaded.sentencepiece && !loaded.template_bos)) {
      const json tcfg = optional_json(dir / "tokenizer_config.json");
      const json cfg = optional_json(dir / "config.json");
      if (tcfg.contains("add_bos_token") && tcfg["add_bos_token"].is_boolean() && !tcfg["add_bos_token"].get<bool>())
        bos = std::nullopt;
      else if (cfg.contains("bos_token_id") && cfg["bos_token_id"].is_number_integer())
        bos = cfg["bos_token_id"].get<int64_t>();
      else if (const auto id = token_id(tok, "<s>"))
        bos = id;
      else
        bos = 1;
    } else {
      bos = loaded.template_bos;
    }
  } catch (const json::exception& e) {
    throw InputError(model_dir, std::string("unexpected config file structure (") + e.what() + ")");
  }
  set_bos(tok, bos);
  return std::move(loaded.tokenizer);
}

}  // namespace cascade::data
