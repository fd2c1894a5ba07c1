#include "data/study/corpus.h"

#include <nlohmann/json.hpp>
#include <utf8proc.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/errors.h"
#include "data/formats/sha256.h"
#include "data/hf/model_source.h"

namespace fs = std::filesystem;

namespace cascade::data {

namespace {

// The byte where `text` stops being UTF-8, or npos.
size_t invalid_utf8_at(const std::string& text) {
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  size_t at = 0;
  while (at < text.size()) {
    utf8proc_int32_t cp = 0;
    const utf8proc_ssize_t n = utf8proc_iterate(p + at, static_cast<utf8proc_ssize_t>(text.size() - at), &cp);
    if (n <= 0 || cp < 0) return at;
    at += static_cast<size_t>(n);
  }
  return std::string::npos;
}

struct Text {
  std::string source;  // relative to the corpus root
  std::string text;
};

// Cuts one text into windows; problems go to `corpus.failures`.
void add_windows(const CorpusOptions& o, const Tokenizer& tok, const std::vector<int64_t>& prefix,
                 const std::string& tokenizer_id, const Text& t, Corpus& corpus) {
  ++corpus.texts;
  const auto fail = [&](const std::string& why) { corpus.failures.push_back({t.source, why}); };
  if (t.text.size() > static_cast<size_t>(o.max_bytes))
    return fail(std::to_string(t.text.size()) + " bytes, over the limit of " + std::to_string(o.max_bytes) +
                " (--max-bytes)");
  if (const size_t bad = invalid_utf8_at(t.text); bad != std::string::npos)
    return fail("not UTF-8 (byte " + std::to_string(bad) + ")");
  if (t.text.find_first_not_of(" \t\r\n") == std::string::npos) return fail("empty");
  Encoding e;
  try {
    e = tok.encode_detailed(t.text, false);
  } catch (const Error& err) {
    return fail(std::string("cannot be tokenized: ") + err.what());
  }
  const auto n = static_cast<int64_t>(e.ids.size());
  const auto P = static_cast<int64_t>(prefix.size());
  const int64_t body = o.max_tokens - P;
  const int64_t stride = o.stride > 0 ? o.stride : body;
  int64_t made = 0;
  for (int64_t s = 0; s < n; s += stride) {
    const int64_t len = std::min(body, n - s);
    if (len + P >= o.min_tokens) {
      study::Document d;
      d.source = t.source;
      d.offset = static_cast<int64_t>(e.offsets[static_cast<size_t>(s)].first);
      d.ids = prefix;
      d.ids.insert(d.ids.end(), e.ids.begin() + s, e.ids.begin() + s + len);
      d.T = static_cast<int64_t>(d.ids.size());
      d.id = document_id(d.source, d.offset, d.T, tokenizer_id);
      d.index = static_cast<int64_t>(corpus.documents.size());
      corpus.documents.push_back(std::move(d));
      ++made;
    }
    if (s + body >= n) break;
  }
  if (made == 0)
    fail(std::to_string(n + P) + " tokens, fewer than --min-tokens " + std::to_string(o.min_tokens));
}

std::string relative_name(const fs::path& p, const fs::path& root) { return p.lexically_relative(root).generic_string(); }

}  // namespace

std::string corpus_kind(const CorpusOptions& o) {
  if (o.kind != "auto") {
    for (const char* k : {"folder", "jsonl", "list", "text"})
      if (o.kind == k) return o.kind;
    throw UsageError("--corpus-kind must be auto, folder, jsonl, list or text, got '" + o.kind + "'");
  }
  const fs::path p(o.path);
  std::error_code ec;
  if (fs::is_directory(p, ec)) return "folder";
  if (!fs::exists(p, ec)) throw InputError(o.path, "no such file or folder");
  const std::string ext = p.extension().string();
  if (ext == ".jsonl") return "jsonl";
  if (ext == ".txt") return "text";
  return "list";
}

std::string document_id(const std::string& source, int64_t offset, int64_t T, const std::string& tokenizer_id) {
  return sha256_hex(source + "\n" + std::to_string(offset) + "\n" + std::to_string(T) + "\n" + tokenizer_id).substr(0, 16);
}

std::string tokenizer_identity(const std::string& model_dir) {
  std::string listing;
  for (const char* name : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json",
                           "merges.txt", "tokenizer.model", "tokens.json"}) {
    const fs::path p = fs::path(model_dir) / name;
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) listing += std::string(name) + " " + sha256_hex(read_text_file(p.string())) + "\n";
  }
  return sha256_hex(listing);
}

Corpus read_corpus(const CorpusOptions& o, const Tokenizer& tok, const std::string& tokenizer_id,
                   const JobControl& control) {
  if (o.max_tokens < 2) throw UsageError("--max-tokens must be at least 2");
  if (o.stride < 0) throw UsageError("--stride must be positive");
  if (o.min_tokens < 1 || o.min_tokens > o.max_tokens) throw UsageError("--min-tokens must be between 1 and --max-tokens");
  if (o.limit < 0) throw UsageError("--limit must be positive");
  std::vector<int64_t> prefix;
  try {
    prefix = tok.encode("", true);  // what the tokenizer adds to every text (Llama's <s>)
  } catch (const Error&) {
  }
  if (static_cast<int64_t>(prefix.size()) >= o.max_tokens) throw UsageError("--max-tokens leaves no room after the BOS");
  const std::string kind = corpus_kind(o);
  Corpus corpus;
  const auto full = [&] { return o.limit > 0 && static_cast<int64_t>(corpus.documents.size()) >= o.limit; };
  const auto add = [&](const Text& t) {
    control.check();
    add_windows(o, tok, prefix, tokenizer_id, t, corpus);
  };
  const fs::path root(o.path);
  if (kind == "folder") {
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied))
      if (entry.is_regular_file() && entry.path().extension() == ".txt") files.push_back(entry.path());
    std::sort(files.begin(), files.end(),
              [&](const fs::path& a, const fs::path& b) { return relative_name(a, root) < relative_name(b, root); });
    if (files.empty()) throw InputError(o.path, "no .txt files in the folder (or below it)");
    for (const fs::path& f : files) {
      if (full()) break;
      try {
        add({relative_name(f, root), read_text_file(f.string())});
      } catch (const InputError& e) {
        corpus.failures.push_back({relative_name(f, root), e.what()});
      }
    }
  } else if (kind == "text") {
    add({root.filename().generic_string(), read_text_file(root.string())});
  } else if (kind == "list") {
    std::istringstream lines(read_text_file(root.string()));
    const fs::path base = root.parent_path();
    for (std::string line; std::getline(lines, line) && !full();) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty() || line[0] == '#') continue;
      const fs::path f = fs::path(line).is_absolute() ? fs::path(line) : base / line;
      try {
        add({line, read_text_file(f.string())});
      } catch (const InputError& e) {
        corpus.failures.push_back({line, e.what()});
      }
    }
  } else {  // jsonl
    std::ifstream in(root, std::ios::binary);
    if (!in) throw InputError(o.path, "cannot be read");
    const std::string name = root.filename().generic_string();
    int64_t number = 0;
    for (std::string line; std::getline(in, line) && !full();) {
      ++number;
      const std::string source = name + ":" + std::to_string(number);
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      const auto bad_line = [&](const std::string& why) {  // a text that could not even be read out
        ++corpus.texts;
        corpus.failures.push_back({source, why});
      };
      if (line.size() > static_cast<size_t>(o.max_bytes)) {
        bad_line("a line of " + std::to_string(line.size()) + " bytes, over the limit of " + std::to_string(o.max_bytes) +
                 " (--max-bytes)");
        continue;
      }
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception& e) {
        bad_line(std::string("not JSON: ") + e.what());
        continue;
      }
      if (!j.is_object() || !j.contains(o.field) || !j[o.field].is_string()) {
        bad_line("no string member \"" + o.field + "\" (--field)");
        continue;
      }
      add({source, j[o.field].get<std::string>()});
    }
  }
  if (o.limit > 0 && static_cast<int64_t>(corpus.documents.size()) > o.limit)
    corpus.documents.resize(static_cast<size_t>(o.limit));
  return corpus;
}

std::string bundled_corpus_dir() {
  return fs::path(bundled_data_path("demo/corpus/README.md")).parent_path().string();
}

}  // namespace cascade::data
