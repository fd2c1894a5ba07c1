// cascadelens-cli train-demo: the bundled demo model's whole recipe in one command — corpus from
// Debian packages, a byte-level BPE vocabulary, a GPT-2 trained with the project's own loop, saved
// in HF layout so it loads through exactly the same path as a real checkpoint.
#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <chrono>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/shared.h"
#include "core/errors.h"
#include "core/version.h"
#include "data/formats/activation_io.h"
#include "data/tokenizers/tokenizer_loader.h"
#include "train_demo/bpe_trainer.h"
#include "train_demo/demo_corpus.h"
#include "train_demo/train.h"

namespace fs = std::filesystem;

namespace cascade::cli {

namespace {

const std::vector<OptionSpec> kSpecs = {
    {"--out", "DIR", "where the HF folder is written (config.json, model.safetensors, vocab.json, merges.txt)", ""},
    {"--corpus-file", "FILE", "train on FILE instead of the Debian-package corpus", ""},
    {"--vocab", "N", "BPE vocabulary size (bytes + merges + <|endoftext|>)", "4096"},
    {"--layers", "L", "transformer blocks", "6"},
    {"--dim", "D", "hidden size", "256"},
    {"--heads", "H", "attention heads", "8"},
    {"--ctx", "N", "context length (positions)", "512"},
    {"--steps", "N", "optimizer steps", "2400"},
    {"--batch", "B", "sequences per step", "4"},
    {"--seq", "N", "tokens per sequence (<= ctx)", "512"},
    {"--lr", "X", "peak learning rate (cosine schedule, linear warmup)", "0.002"},
    {"--seed", "S", "seed for init, batches and the split", "1"},
    {"--study-corpus", "DIR", "instead of training: write held-out validation paragraphs to DIR (the bundled study corpus, data/demo/corpus)", ""},
    {"--windows", "N", "with --study-corpus: paragraphs enough for N windows of 256 tokens of the tokenizer in --out", "45"},
    kThreads, kMemoryLimit,
    kQuiet,
    kHelp};

std::vector<std::string> paragraphs(const std::string& text) {
  std::vector<std::string> out;
  std::string current, line;
  std::istringstream in(text);
  while (std::getline(in, line)) {
    if (line.empty()) {
      if (!current.empty()) out.push_back(current), current.clear();
    } else {
      current += (current.empty() ? "" : "\n") + line;
    }
  }
  if (!current.empty()) out.push_back(current);
  return out;
}

// Documents joined by <|endoftext|>, as GPT-2 was trained.
std::vector<int64_t> encode_all(const Tokenizer& tok, const std::vector<std::string>& docs, int64_t eot) {
  std::vector<int64_t> ids;
  for (const auto& d : docs) {
    const auto piece = tok.encode(d, false);
    ids.insert(ids.end(), piece.begin(), piece.end());
    ids.push_back(eot);
  }
  return ids;
}

void write_config(const std::string& dir, const ModelConfig& c, int64_t eot) {
  const nlohmann::json config = {{"architectures", {"GPT2LMHeadModel"}},
                                 {"model_type", "gpt2"},
                                 {"vocab_size", c.vocab_size},
                                 {"n_embd", c.hidden_size},
                                 {"n_layer", c.num_layers},
                                 {"n_head", c.num_heads},
                                 {"n_positions", c.max_positions},
                                 {"n_inner", nullptr},
                                 {"activation_function", "gelu_new"},
                                 {"layer_norm_epsilon", c.norm_eps},
                                 {"tie_word_embeddings", true},
                                 {"bos_token_id", eot},
                                 {"eos_token_id", eot},
                                 {"torch_dtype", "float16"}};
  std::ofstream(fs::path(dir) / "config.json") << config.dump(2) << "\n";
}

// The bundled study corpus: validation paragraphs (never trained on), evenly spaced over the split so
// that both the Bible and the fortunes are in it, one file each (those of 192 tokens or more, so that
// most windows are full), until they make `windows` windows of 256 tokens (at least 32 tokens each:
// the study's defaults).
void write_study_corpus(const std::string& dir, const std::vector<std::string>& val_docs, const Tokenizer& tok,
                        int64_t windows) {
  fs::create_directories(dir);
  const auto n = static_cast<int64_t>(val_docs.size());
  const int64_t step = std::max<int64_t>(1, n / std::max<int64_t>(1, windows));
  int64_t made = 0, files = 0;
  for (int64_t start = 0; start < step && made < windows; ++start)
    for (int64_t i = start; i < n && made < windows; i += step) {
      const auto tokens = static_cast<int64_t>(tok.encode(val_docs[static_cast<size_t>(i)], false).size());
      if (tokens < 192) continue;  // mostly full windows: a fortune of a few lines is too short
      char name[32];
      std::snprintf(name, sizeof name, "validation-%04ld.txt", static_cast<long>(i));
      std::ofstream(fs::path(dir) / name, std::ios::binary) << val_docs[static_cast<size_t>(i)] << "\n";
      ++files;
      for (int64_t s = 0; s < tokens; s += 256) {
        if (std::min<int64_t>(256, tokens - s) >= 32) ++made;
        if (s + 256 >= tokens) break;
      }
    }
  std::fprintf(stderr, "train-demo: wrote %ld validation paragraphs (%ld windows) to %s\n", static_cast<long>(files),
               static_cast<long>(made), dir.c_str());
}

}  // namespace

// Every training step allocates and frees the same large activation buffers (B·H·T² attention scores
// and their gradients). glibc hands blocks above its mmap threshold back to the kernel at once, so each
// step paid for fresh zeroed pages: at T = 512 half the time went to page faults (816 tok/s; 1466 with
// the settings below, measured on the 2-core dev box). Keep freed memory in the heap instead.
static void keep_freed_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);   // glibc's maximum; larger blocks still use mmap
  mallopt(M_TRIM_THRESHOLD, 1 << 30);    // never shrink the heap below a GiB of free space
  mallopt(M_TOP_PAD, 256 << 20);         // grow it in large steps
#endif
}

int cmd_train_demo(const std::vector<std::string>& args) {
  const Options opts(kSpecs, args);
  if (opts.flag("--help")) {
    std::cout << format_help("cascadelens-cli train-demo --out DIR [options]",
                             "Train the demo GPT-2 from scratch: English text from Debian packages (bible-kjv-text,\n"
                             "fortunes-min, fortunes; or --corpus-file), a byte-level BPE vocabulary, then AdamW with a cosine\n"
                             "schedule. Seeded and resumable: DIR/train-checkpoint.pt is picked up by a rerun.\n"
                             "Needs the Debian packages bible-kjv-text, fortunes-min and fortunes (.ci/install-deps).\n"
                             "The defaults made data/demo/model: about 90 minutes on 2 CPU cores.",
                             kSpecs);
    return 0;
  }
  const auto out = opts.value("--out");
  if (!out) throw UsageError("train-demo needs --out DIR");
  apply_resource_options(opts);
  keep_freed_memory();
  install_sigint();
  StderrProgress progress(opts.flag("--quiet"));
  const auto start = std::chrono::steady_clock::now();
  fs::create_directories(*out);

  // 1. Corpus and its deterministic train/validation split.
  std::string text;
  std::string corpus_desc;
  if (const auto file = opts.value("--corpus-file")) {
    std::ifstream in(*file, std::ios::binary);
    if (!in) throw InputError(*file, "cannot read the corpus file");
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    corpus_desc = *file;
  } else {
    const auto sources = data::demo_corpus_sources();
    text = data::read_corpus(sources);
    for (const auto& s : sources)  // each package once, in reading order
      if (corpus_desc.find(s.package + ",") == std::string::npos && !corpus_desc.ends_with(s.package))
        corpus_desc += (corpus_desc.empty() ? "" : ", ") + s.package;
  }
  const data::CorpusSplit split = data::split_corpus(text);
  const auto train_docs = paragraphs(split.train), val_docs = paragraphs(split.validation);
  if (train_docs.empty() || val_docs.empty()) throw InputError(corpus_desc, "the corpus is too small to split");
  if (const auto dir = opts.value("--study-corpus")) {
    write_study_corpus(*dir, val_docs, *data::load_tokenizer(*out, "gpt2"), opts.integer("--windows"));
    return 0;
  }

  // 2. Vocabulary (kept when DIR already has one, so a resumed run tokenizes identically).
  const fs::path vocab_path = fs::path(*out) / "vocab.json", merges_path = fs::path(*out) / "merges.txt";
  if (!fs::exists(vocab_path) || !fs::exists(merges_path)) {
    data::BpeTrainOptions bpe;
    bpe.vocab_size = opts.integer("--vocab");
    const JobControl control = progress.control();
    data::write_hf_bpe(data::train_byte_level_bpe(train_docs, bpe,
                                                  [&](int64_t done, int64_t total) { control.report("bpe", done, total); }),
                       *out);
  }
  const auto tokenizer = data::load_tokenizer(*out, "gpt2");
  const auto eot_ids = tokenizer->encode("<|endoftext|>", false);
  if (eot_ids.size() != 1) throw InputError(vocab_path.string(), "no <|endoftext|> token");
  const int64_t eot = eot_ids[0];
  const auto train_ids = encode_all(*tokenizer, train_docs, eot), val_ids = encode_all(*tokenizer, val_docs, eot);

  // 3. Train.
  TrainConfig cfg;
  cfg.model = gpt2_config(tokenizer->vocab_size(), opts.integer("--dim"), opts.integer("--layers"),
                          opts.integer("--heads"), opts.integer("--ctx"), "cascadelens-demo");
  cfg.steps = opts.integer("--steps");
  cfg.batch_size = opts.integer("--batch");
  cfg.seq_len = opts.integer("--seq");
  cfg.lr = opts.number("--lr");
  cfg.seed = static_cast<uint64_t>(opts.integer("--seed"));
  cfg.warmup_steps = std::min<int64_t>(100, std::max<int64_t>(1, cfg.steps / 20));
  cfg.eval_every = std::max<int64_t>(1, cfg.steps / 20);
  cfg.checkpoint_every = std::max<int64_t>(1, cfg.steps / 10);
  cfg.checkpoint_path = (fs::path(*out) / "train-checkpoint.pt").string();
  const bool quiet = opts.flag("--quiet");
  const TrainResult result = train_gpt2(cfg, train_ids, val_ids, progress.control(), [&](const TrainProgress& p) {
    if (quiet || (p.step % std::max<int64_t>(1, cfg.steps / 100) != 0 && std::isnan(p.val_loss))) return;
    std::fprintf(stderr, "step %lld/%lld  loss %.4f%s  lr %.2e  %.0f tok/s\n", static_cast<long long>(p.step),
                 static_cast<long long>(p.steps), p.train_loss,
                 std::isnan(p.val_loss) ? "" : ("  val " + std::to_string(p.val_loss)).c_str(), p.lr,
                 p.tokens_per_second);
  });

  // 4. Save in HF layout: fp16 weights, config, tokenizer files, and the record of how.
  std::vector<std::pair<std::string, at::Tensor>> half;
  for (const auto& [name, t] : result.weights) half.emplace_back(name, t.to(at::kHalf));
  data::write_safetensors((fs::path(*out) / "model.safetensors").string(), half);
  write_config(*out, cfg.model, eot);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string command = "cascadelens-cli train-demo";
  for (const auto& a : args) command += " " + a;
  const nlohmann::json record = {{"command", command},
                                 {"seed", cfg.seed},
                                 {"corpus", corpus_desc},
                                 {"train_tokens", train_ids.size()},
                                 {"validation_tokens", val_ids.size()},
                                 {"steps", cfg.steps},
                                 {"final_train_loss", result.train_loss},
                                 {"final_validation_loss", result.val_loss},
                                 {"validation_perplexity", std::exp(result.val_loss)},
                                 {"wall_seconds", wall},
                                 {"tokens_per_second", result.tokens_per_second},
                                 {"blas", detect_blas().name},
                                 {"version", version()}};
  std::ofstream(fs::path(*out) / "train_record.json") << record.dump(2) << "\n";
  std::printf("trained %s: val loss %.4f (ppl %.1f), %lld train tokens, %.0f s\n", out->c_str(), result.val_loss,
              std::exp(result.val_loss), static_cast<long long>(train_ids.size()), wall);
  return 0;
}

}  // namespace cascade::cli
