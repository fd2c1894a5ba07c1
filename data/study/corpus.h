#pragma once
// SPEC §8 documents from a corpus: a folder of .txt files (recursive), a JSONL file (one JSON object a
// line, the text in --field), a list file (one text file a line), or one .txt file — cut into
// windows of at most max_tokens tokens. A file that cannot be used (not UTF-8, empty, a JSONL line
// without the field, a text over the size limit) is reported and the rest go on.
#include <cstdint>
#include <string>
#include <vector>

#include "core/progress.h"
#include "core/study.h"
#include "core/tokenizer.h"

namespace cascade::data {

struct CorpusOptions {
  std::string path;
  std::string kind = "auto";  // auto | folder | jsonl | list | text
  std::string field = "text";  // JSONL: the member holding the text
  int64_t max_tokens = 256;    // a window's tokens, the BOS the tokenizer adds included
  int64_t stride = 0;          // tokens between window starts; 0: max_tokens minus the BOS (no overlap)
  int64_t min_tokens = 32;     // shorter windows (a text's tail, a short text) are left out
  int64_t limit = 0;           // at most this many documents (0: all), the first in corpus order
  int64_t max_bytes = 16 << 20;  // a text longer than this is reported and left out
};

// The corpus kind `auto` resolves to: folder for a directory, jsonl for .jsonl, text for .txt,
// else list. Throws InputError when the path does not exist.
std::string corpus_kind(const CorpusOptions& options);

struct Corpus {
  std::vector<study::Document> documents;  // in corpus order (Document::index = position)
  std::vector<study::Failure> failures;    // texts that could not be used, and why
  int64_t texts = 0;                       // texts read (files, JSONL lines)
};

// The first 16 hex digits of SHA-256 over "source\noffset\nT\ntokenizer_id" (decimal integers).
std::string document_id(const std::string& source, int64_t offset, int64_t T, const std::string& tokenizer_id);

// What identifies a model folder's tokenizer: SHA-256 over the names and SHA-256s of its tokenizer
// files (tokenizer.json, tokenizer_config.json, special_tokens_map.json, vocab.json, merges.txt,
// tokenizer.model, tokens.json: those present, in that order).
std::string tokenizer_identity(const std::string& model_dir);

// Reads and tokenizes every text; UsageError for options out of range, InputError when the corpus
// itself cannot be read (a missing path, an unreadable list file). Cancellable between texts.
Corpus read_corpus(const CorpusOptions& options, const Tokenizer& tokenizer, const std::string& tokenizer_id,
                   const JobControl& control = {});

// Where the bundled default corpus is (data/demo/corpus).
std::string bundled_corpus_dir();

}  // namespace cascade::data
