// Tokenizer files -> HfTokenizer / SentencePieceModelTokenizer / SentencePieceTokenizer, and the
// model-folder loader.
#include "data/tokenizers/tokenizer_loader.h"
#include "data/tokenizers/hf_components.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/errors.h"

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

json added_tokens_json(const std::vector<AddedToken>& added) {
  json out = json::array();
  for (const AddedToken& t : added)
    out.push_back({{"id", t.id}, {"content", t.content}, {"special", t.special}, {"normalized", false}});
  return out;
}

// tokenizer_config.json's bos_token / eos_token: a string or an AddedToken object.
std::string token_text(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("content") && j["content"].is_string()) return j["content"].get<std::string>();
  return "";
}

// transformers 4.x's LlamaTokenizerFast / GemmaTokenizerFast rebuild the post-processor from
// tokenizer_config.json: BOS if add_bos_token (default true), EOS if add_eos_token (default false).
// Other classes follow tokenizer.json's post-processor.
void apply_tokenizer_config(HfTokenizer& tok, const json& cfg, const std::string& path) {
  static const std::set<std::string> kRebuilding = {"LlamaTokenizer",     "LlamaTokenizerFast",
                                                    "GemmaTokenizer",     "GemmaTokenizerFast",
                                                    "CodeLlamaTokenizer", "CodeLlamaTokenizerFast"};
  if (!cfg.is_object() || !kRebuilding.count(cfg.value("tokenizer_class", ""))) return;
  const auto flag = [&](const char* key, bool fallback) {
    return cfg.contains(key) && cfg[key].is_boolean() ? cfg[key].get<bool>() : fallback;
  };
  const auto id_of = [&](const char* key) -> std::vector<int64_t> {
    const std::string name = cfg.contains(key) ? token_text(cfg[key]) : "";
    if (name.empty()) return {};
    const auto id = tok.token_id(name);
    if (!id) throw InputError(path, std::string(key) + " '" + name + "' is not in the tokenizer's vocabulary");
    return {*id};
  };
  tok.set_special_tokens(flag("add_bos_token", true) ? id_of("bos_token") : std::vector<int64_t>{},
                         flag("add_eos_token", false) ? id_of("eos_token") : std::vector<int64_t>{});
}

struct Loaded {
  std::unique_ptr<Tokenizer> tokenizer;
  bool sentencepiece = false;
  bool tokenizer_json = false;  // then the files decide what encode(text, true) adds
};

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

json optional_json(const fs::path& p) { return fs::is_regular_file(p) ? read_json(p.string()) : json::object(); }

std::unique_ptr<HfTokenizer> hf_from_file(const std::string& path) {
  const json root = read_json(path);
  if (!root.is_object() || !root.contains("model") || !root["model"].is_object())
    throw InputError(path, "expected an HF tokenizer.json with a \"model\" object");
  return std::make_unique<HfTokenizer>(root, path);
}

Loaded load_folder(const std::string& model_dir) {
  const fs::path dir(model_dir);
  if (!fs::is_directory(dir)) throw InputError(model_dir, "not a folder");
  const auto has = [&](const char* name) { return fs::is_regular_file(dir / name); };
  Loaded out;
  if (has("tokenizer.json")) {
    out.tokenizer = load_hf_tokenizer((dir / "tokenizer.json").string());
    out.tokenizer_json = true;
    return out;
  }
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
  if (auto* h = dynamic_cast<HfTokenizer*>(&t)) h->set_add_bos_id(id);
  if (auto* m = dynamic_cast<SentencePieceModelTokenizer*>(&t)) m->set_add_bos_id(id);
  if (auto* s = dynamic_cast<SentencePieceTokenizer*>(&t)) s->set_add_bos_id(id);
}

std::optional<int64_t> token_id(const Tokenizer& t, const std::string& token) {
  if (const auto* h = dynamic_cast<const HfTokenizer*>(&t)) return h->token_id(token);
  if (const auto* m = dynamic_cast<const SentencePieceModelTokenizer*>(&t)) return m->piece_id(token);
  if (const auto* s = dynamic_cast<const SentencePieceTokenizer*>(&t)) return s->piece_id(token);
  return std::nullopt;
}

}  // namespace

std::unique_ptr<HfTokenizer> load_gpt2_bpe(const std::string& vocab_path, const std::string& merges_path,
                                           std::vector<AddedToken> added, std::optional<int64_t> add_bos_id) {
  const std::string source = vocab_path + " + " + merges_path;
  json vocab = read_json(vocab_path);
  if (!vocab.is_object()) throw InputError(vocab_path, "expected a JSON object mapping token -> id");
  for (const auto& [tok, id] : vocab.items())
    if (!id.is_number_integer()) throw InputError(vocab_path, "token '" + tok + "' has a non-integer id");
  const std::string eot = "<|endoftext|>";
  if (vocab.contains(eot) && std::none_of(added.begin(), added.end(), [&](const AddedToken& t) { return t.content == eot; }))
    added.push_back({eot, vocab[eot].get<int64_t>(), true});
  json merges = json::array();
  for (auto& [a, b] : parse_merges_txt(merges_path)) merges.push_back(json::array({std::move(a), std::move(b)}));
  const json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
  const json root = {{"added_tokens", added_tokens_json(added)},
                     {"pre_tokenizer", byte_level},
                     {"decoder", byte_level},
                     {"model", {{"type", "BPE"}, {"vocab", std::move(vocab)}, {"merges", std::move(merges)}}}};
  auto tok = std::make_unique<HfTokenizer>(root, source);
  tok->set_add_bos_id(add_bos_id);
  return tok;
}

std::unique_ptr<HfTokenizer> load_hf_tokenizer(const std::string& path) {
  auto tok = hf_from_file(path);
  const fs::path config = fs::path(path).parent_path() / "tokenizer_config.json";
  try {
    apply_tokenizer_config(*tok, optional_json(config), config.string());
  } catch (const json::exception& e) {
    throw InputError(config.string(), std::string("unexpected structure (") + e.what() + ")");
  }
  return tok;
}

std::unique_ptr<Tokenizer> load_hf_tokenizer_json(const std::string& path, std::optional<int64_t> add_bos_id) {
  auto tok = hf_from_file(path);
  tok->set_add_bos_id(add_bos_id);
  return tok;
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

std::unique_ptr<SentencePieceModelTokenizer> load_sentencepiece_model(const std::string& path,
                                                                      std::optional<int64_t> add_bos_id) {
  if (!fs::is_regular_file(path)) throw InputError(path, "cannot open the file");
  auto tok = std::make_unique<SentencePieceModelTokenizer>(path);
  if (add_bos_id) tok->set_add_bos_id(add_bos_id);
  return tok;
}

std::unique_ptr<Tokenizer> load_tokenizer_with_bos(const std::string& model_dir, std::optional<int64_t> add_bos_id) {
  Loaded loaded = load_folder(model_dir);
  set_bos(*loaded.tokenizer, add_bos_id);
  return std::move(loaded.tokenizer);
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& model_dir, const std::string& model_type) {
  Loaded loaded = load_folder(model_dir);
  if (loaded.tokenizer_json) return std::move(loaded.tokenizer);  // its post-processor and tokenizer_config decide
  Tokenizer& tok = *loaded.tokenizer;
  const fs::path dir(model_dir);
  static const std::set<std::string> kLlama = {"llama", "mistral", "mixtral"};
  std::optional<int64_t> bos;
  try {
    if (model_type == "opt") {
      json cfg = optional_json(dir / "tokenizer_config.json");
      std::string name = cfg.contains("bos_token") ? token_text(cfg["bos_token"]) : "";
      if (name.empty()) {
        const json map = optional_json(dir / "special_tokens_map.json");
        if (map.contains("bos_token")) name = token_text(map["bos_token"]);
      }
      bos = token_id(tok, name.empty() ? "</s>" : name);
      if (!bos) bos = 2;
    } else if (kLlama.count(model_type) || loaded.sentencepiece) {
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
    }  // byte-level vocab.json files (gpt2, gptj, gpt_neox, ...): nothing
  } catch (const json::exception& e) {
    throw InputError(model_dir, std::string("unexpected config file structure (") + e.what() + ")");
  }
  set_bos(tok, bos);
  return std::move(loaded.tokenizer);
}

std::unique_ptr<Tokenizer> load_tokenizer_path(const std::string& path) {
  if (fs::is_directory(path)) {
    const json cfg = optional_json(fs::path(path) / "config.json");
    return load_tokenizer(path, cfg.is_object() && cfg.contains("model_type") && cfg["model_type"].is_string()
                                    ? cfg["model_type"].get<std::string>()
                                    : "");
  }
  if (!fs::is_regular_file(path)) throw InputError(path, "no such tokenizer folder or file");
  if (fs::path(path).extension() == ".model") return load_sentencepiece_model(path);
  return load_hf_tokenizer(path);
}

}  // namespace cascade::data
