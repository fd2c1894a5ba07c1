// cascadelens-cli tokenize: a model's (or a tokenizer file's) ids, tokens and byte offsets for texts.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/shared.h"
#include "core/errors.h"
#include "data/hf/hf_model.h"
#include "data/hf/model_source.h"
#include "data/tokenizers/tokenizer_loader.h"
#include "data/tokenizers/unicode_props.h"

namespace cascade::cli {
namespace {

const std::vector<OptionSpec> kTokenizeSpecs = {
    {"--model", "DIR|ID", "HF model folder, or a hub id found in the local HF cache: its tokenizer", ""},
    {"--tokenizer", "PATH", "a tokenizer folder, tokenizer.json (a tokenizer_config.json beside it is read) or .model", ""},
    {"--text", "T", "the text to tokenize", ""},
    {"--text-file", "F", "tokenize the whole of file F as one text", ""},
    {"--jsonl", "F", "one JSON string per line of F, each tokenized on its own", ""},
    {"--no-special", "", "add no special tokens (HF's add_special_tokens=False)", ""},
    {"--format", "FMT", "table or json (one object per input line: ids, tokens, offsets as [begin, end) bytes)", "table"},
    kOut,
    kHelp};

std::vector<std::string> read_inputs(const Options& opts) {
  const int given = opts.value("--text").has_value() + opts.value("--text-file").has_value() +
                    opts.value("--jsonl").has_value();
  if (given != 1) throw UsageError("tokenize needs exactly one of --text, --text-file, --jsonl");
  if (const auto t = opts.value("--text")) return {*t};
  if (const auto f = opts.value("--text-file")) return {data::read_text_file(*f)};
  const std::string path = *opts.value("--jsonl");
  std::istringstream lines(data::read_text_file(path));
  std::vector<std::string> texts;
  std::string line;
  for (size_t number = 1; std::getline(lines, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(path, "line " + std::to_string(number) + " is not JSON (" + e.what() + ")");
    }
    if (!j.is_string()) throw InputError(path, "line " + std::to_string(number) + " is not a JSON string");
    texts.push_back(j.get<std::string>());
  }
  return texts;
}

std::unique_ptr<Tokenizer> tokenizer_for(const Options& opts) {
  const auto model = opts.value("--model");
  const auto path = opts.value("--tokenizer");
  if (model.has_value() == path.has_value()) throw UsageError("tokenize needs exactly one of --model, --tokenizer");
  if (path) return data::load_tokenizer_path(*path);
  return data::load_tokenizer_path(data::resolve_model_path(*model));
}

std::string table(const Tokenizer& tok, const Encoding& e) {
  std::string out = std::to_string(e.ids.size()) + " tokens\n";
  char line[128];
  std::snprintf(line, sizeof line, "%6s %8s %12s  %s\n", "#", "id", "bytes", "token");
  out += line;
  for (size_t i = 0; i < e.ids.size(); ++i) {
    const auto [b, end] = e.offsets[i];
    std::snprintf(line, sizeof line, "%6zu %8lld %5zu..%-5zu  ", i, static_cast<long long>(e.ids[i]), b, end);
    out += line + tok.display(e.ids[i]) + "\n";
  }
  return out;
}

}  // namespace

int cmd_tokenize(const std::vector<std::string>& args) {
  const Options opts(kTokenizeSpecs, args);
  if (opts.flag("--help")) {
    std::cout << format_help(
        "cascadelens-cli tokenize (--model DIR|ID | --tokenizer PATH) (--text T | --text-file F | --jsonl F) "
        "[--no-special] [--format table|json]",
        "The token ids a model's tokenizer gives for a text, with the tokens as the vocabulary spells them and\n"
        "the bytes of the input each one covers (special tokens the tokenizer adds cover [0, 0)). Special\n"
        "tokens are added as HF's tokenizer(text) adds them; --no-special leaves them out.",
        kTokenizeSpecs);
    return 0;
  }
  const std::string format = opts.value_or_default("--format");
  if (format != "table" && format != "json") throw UsageError("--format must be table or json, not '" + format + "'");
  const std::vector<std::string> texts = read_inputs(opts);
  const auto tok = tokenizer_for(opts);
  const bool special = !opts.flag("--no-special");
  std::string out;
  for (const std::string& text : texts) {
    const Encoding e = tok->encode_detailed(text, special);
    if (format == "table") {
      if (!out.empty()) out += "\n";
      out += table(*tok, e);
      continue;
    }
    nlohmann::json offsets = nlohmann::json::array();
    for (const auto& [b, end] : e.offsets) offsets.push_back({b, end});
    const nlohmann::json j = {{"ids", e.ids}, {"tokens", e.tokens}, {"offsets", offsets}};
    out += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";  // a stray byte: U+FFFD
  }
  emit(opts, out);
  return 0;
}

}  // namespace cascade::cli
