// Byte-level BPE training (train_demo/bpe_trainer.h) with hand-derived merges, and the demo corpus read
// from Debian packages (train_demo/demo_corpus.h; those tests skip when the packages are not installed).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "core/errors.h"
#include "data/tokenizers/tokenizer_loader.h"
#include "train_demo/bpe_trainer.h"
#include "train_demo/demo_corpus.h"

namespace cascade::data::testing {
namespace {

namespace fs = std::filesystem;
using Merge = std::pair<std::string, std::string>;
using Merges = std::vector<Merge>;

const std::string kG = "\xC4\xA0";  // Ġ, the space byte

fs::path temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("cascade_bpe_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  return dir;
}

const char* kEnglish =
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
    "foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, "
    "it was the season of Darkness, it was the spring of hope, it was the winter of despair, we had everything "
    "before us, we had nothing before us, we were all going direct to Heaven, we were all going direct the "
    "other way. There were a king with a large jaw and a queen with a plain face, on the throne of England; "
    "there were a king with a large jaw and a queen with a fair face, on the throne of France.\n";

std::vector<std::string> english_corpus() {
  std::vector<std::string> texts;
  for (int i = 0; i < 20; ++i) texts.push_back(std::string(kEnglish) + "Chapter " + std::to_string(i) + ".\n");
  return texts;
}

TEST(BpeTrainer, BaseAlphabetIsGpt2EncoderOrder) {
  BpeTrainOptions opt;
  opt.vocab_size = 257;
  const BpeVocabulary v = train_byte_level_bpe({"hello"}, opt);
  ASSERT_EQ(v.tokens.size(), 257u);
  EXPECT_TRUE(v.merges.empty());
  EXPECT_EQ(v.tokens[0], "!");
  EXPECT_EQ(v.tokens[93], "~");
  EXPECT_EQ(v.tokens[94], "\xC2\xA1");   // ¡
  EXPECT_EQ(v.tokens[188], "\xC4\x80");  // Ā = byte 0
  EXPECT_EQ(v.tokens[198], "\xC4\x8A");  // Ċ = '\n'
  EXPECT_EQ(v.tokens[220], kG);          // GPT-2's id 220 is the space
  EXPECT_EQ(v.tokens[255], "\xC5\x83");  // Ń = byte 0xAD
  EXPECT_EQ(v.tokens[256], "<|endoftext|>");
}

TEST(BpeTrainer, HandCheckedMergesAndTieBreak) {
  // "aaabdaaabac": aa 4, then (a,b) and (aa,a) both 2 -> (a,b) is the smaller pair, then (aa,ab) 2.
  BpeTrainOptions opt;
  opt.vocab_size = 260;
  opt.min_frequency = 1;
  const BpeVocabulary v = train_byte_level_bpe({"aaabdaaabac"}, opt);
  EXPECT_EQ(v.merges, (Merges{{"a", "a"}, {"a", "b"}, {"aa", "ab"}}));
  ASSERT_EQ(v.tokens.size(), 260u);
  EXPECT_EQ(v.tokens[256], "aa");
  EXPECT_EQ(v.tokens[257], "ab");
  EXPECT_EQ(v.tokens[258], "aaab");
  EXPECT_EQ(v.tokens[259], "<|endoftext|>");
}

TEST(BpeTrainer, PreTokenizesOnSpacesAndStopsAtMinFrequency) {
  // Pieces "hug", " hug" x2, " pug": (u,g) 4, (h,ug) 3, (Ġ,hug) 2, then only pairs seen once remain.
  BpeTrainOptions opt;
  opt.vocab_size = 1000;
  opt.min_frequency = 2;
  opt.special_tokens = {"<|endoftext|>", "<pad>"};
  const BpeVocabulary v = train_byte_level_bpe({"hug hug hug pug"}, opt);
  EXPECT_EQ(v.merges, (Merges{{"u", "g"}, {"h", "ug"}, {kG, "hug"}}));
  ASSERT_EQ(v.tokens.size(), 256u + 3u + 2u);
  EXPECT_EQ(v.tokens[258], kG + "hug");
  EXPECT_EQ(v.tokens[259], "<|endoftext|>");
  EXPECT_EQ(v.tokens[260], "<pad>");
}

TEST(BpeTrainer, SpecialTokensInTheTextAreNotLearned) {
  BpeTrainOptions opt;
  opt.vocab_size = 300;
  opt.min_frequency = 2;
  const BpeVocabulary v = train_byte_level_bpe({"xy<|endoftext|>zw<|endoftext|>qv<|endoftext|>"}, opt);
  EXPECT_TRUE(v.merges.empty());  // "<|" would be a pair twice over otherwise
}

TEST(BpeTrainer, RespectsVocabSizeAndIsDeterministic) {
  BpeTrainOptions opt;
  opt.vocab_size = 400;
  int64_t last_done = -1, last_total = -1;
  const BpeVocabulary a = train_byte_level_bpe(english_corpus(), opt, [&](int64_t done, int64_t total) {
    EXPECT_GT(done, last_done);
    last_done = done;
    last_total = total;
  });
  EXPECT_EQ(a.tokens.size(), 400u);
  EXPECT_EQ(last_total, 400 - 1 - 256);
  EXPECT_EQ(last_done, last_total);
  EXPECT_EQ(a.tokens.back(), "<|endoftext|>");
  const BpeVocabulary b = train_byte_level_bpe(english_corpus(), opt);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.merges, b.merges);
  EXPECT_THROW(train_byte_level_bpe({"x"}, BpeTrainOptions{200, 2, {}}), UsageError);
}

TEST(BpeTrainer, WrittenFilesLoadAsGpt2TokenizerAndRoundTrip) {
  BpeTrainOptions opt;
  opt.vocab_size = 420;
  const std::vector<std::string> corpus = english_corpus();
  const BpeVocabulary v = train_byte_level_bpe(corpus, opt);
  const fs::path dir = temp_dir("roundtrip");
  write_hf_bpe(v, dir.string());
  {
    std::ifstream f(dir / "merges.txt");
    std::string first;
    std::getline(f, first);
    EXPECT_EQ(first, "#version: 0.2");
  }
  const auto tok = load_gpt2_bpe((dir / "vocab.json").string(), (dir / "merges.txt").string());
  ASSERT_EQ(tok->vocab_size(), 420);
  EXPECT_EQ(tok->token_id("<|endoftext|>"), 419);
  EXPECT_EQ(tok->token(220), kG);

  const std::vector<std::string> samples = {
      "",
      "Hello, world!",
      "naïve café — 日本語 🙂\n\tTabs,\r\nCRLF and  two  spaces \n\n",
      std::string("bytes \x01\x7f\xff\xfe end", 16),
      "It was the best of times<|endoftext|>it was the worst of times.",
  };
  for (const std::string& s : samples) {
    const auto ids = tok->encode(s, false);
    EXPECT_EQ(tok->decode(ids), s) << s;
  }
  const auto eot = tok->encode("a<|endoftext|>b", false);
  ASSERT_EQ(eot.size(), 3u);
  EXPECT_EQ(eot[1], 419);

  // Compression: far fewer tokens than bytes on the English it was trained on.
  size_t bytes = 0, tokens = 0;
  for (const std::string& t : corpus) {
    bytes += t.size();
    tokens += tok->encode(t, false).size();
  }
  EXPECT_LT(tokens * 2, bytes) << tokens << " tokens for " << bytes << " bytes";
  fs::remove_all(dir);
}

// ---- the demo corpus (Debian packages) ----

std::vector<CorpusSource> sources_or_skip() {
  const std::vector<CorpusSource> s = demo_corpus_sources();
  return s;
}

#define SKIP_WITHOUT_CORPUS(sources)                                                                         \
  if (!corpus_available(sources))                                                                           \
  GTEST_SKIP() << "demo corpus not installed (apt-get install -y bible-kjv-text fortunes-min fortunes)"

TEST(DemoCorpus, SourcesNamePackagesAndLicences) {
  const auto s = demo_corpus_sources();
  ASSERT_GE(s.size(), 2u);
  for (const CorpusSource& c : s) {
    EXPECT_FALSE(c.name.empty());
    EXPECT_FALSE(c.package.empty());
    EXPECT_FALSE(c.license.empty());
    EXPECT_FALSE(c.path.empty());
  }
  EXPECT_EQ(s[0].package, "bible-kjv-text");
}

TEST(DemoCorpus, MissingFileNamesPackageAndAptCommand) {
  const std::vector<CorpusSource> missing = {
      {"nothing", "no-such-package", "none", "/nonexistent/cascade/corpus.txt"}};
  EXPECT_FALSE(corpus_available(missing));
  try {
    read_corpus(missing);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("/nonexistent/cascade/corpus.txt"), std::string::npos) << what;
    EXPECT_NE(what.find("apt-get install -y no-such-package"), std::string::npos) << what;
  }
}

TEST(DemoCorpus, FortuneFormatIsCleaned) {
  const fs::path dir = temp_dir("fortune");
  fs::create_directories(dir);
  {
    std::ofstream f(dir / "f", std::ios::binary);
    f << "First cookie,\r\n\r\nsecond line.  \r\n%\r\nSecond cookie.\n\t\t-- Someone\n%\n%\n";
  }
  const std::string text = read_corpus({{"test", "pkg", "lic", (dir / "f").string()}});
  EXPECT_EQ(text, "First cookie,\nsecond line.\n\nSecond cookie.\n\t\t-- Someone\n");
  fs::remove_all(dir);
}

TEST(DemoCorpus, SplitIsDeterministicDisjointAndComplete) {
  const std::string text = "p0\n\np1\n\np2\n\np3\n\np4\n\np5\n";
  const CorpusSplit s = split_corpus(text, 3);
  EXPECT_EQ(s.train, "p0\n\np1\n\np3\n\np4");
  EXPECT_EQ(s.validation, "p2\n\np5\n");
  EXPECT_THROW(split_corpus(text, 1), UsageError);
}

TEST(DemoCorpus, RealCorpusIsLargeCleanAndSplits) {
  const auto sources = sources_or_skip();
  SKIP_WITHOUT_CORPUS(sources);
  const std::string text = read_corpus(sources);
  EXPECT_GT(text.size(), 1u << 20);
  EXPECT_EQ(text.rfind("In the beginning God created the heaven and the earth.\n", 0), 0u);
  EXPECT_NE(text.find("The grace of our Lord Jesus Christ be with you all. Amen."), std::string::npos);
  EXPECT_EQ(text.find("Ge1:1"), std::string::npos);
  EXPECT_EQ(text.find("\n%\n"), std::string::npos);
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_EQ(text.find("\n\n\n"), std::string::npos);
  EXPECT_NE(text.find("Mark Twain"), std::string::npos);  // fortunes-min's literature

  const CorpusSplit a = split_corpus(text), b = split_corpus(text);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.validation, b.validation);
  EXPECT_GT(a.validation.size(), text.size() / 40);
  EXPECT_LT(a.validation.size(), text.size() / 10);
  // Disjoint and complete: interleaving the parts back (19 train paragraphs, 1 validation) rebuilds the text.
  auto paragraphs = [](const std::string& t) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos < t.size()) {
      size_t e = t.find("\n\n", pos);
      if (e == std::string::npos) e = t.size();
      out.push_back(t.substr(pos, e - pos));
      pos = e + 2;
    }
    return out;
  };
  const auto tr = paragraphs(a.train), va = paragraphs(a.validation), all = paragraphs(text);
  ASSERT_EQ(tr.size() + va.size(), all.size());
  size_t ti = 0, vi = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    const std::string& got = (i % 20 == 19) ? va[vi++] : tr[ti++];
    ASSERT_EQ(got, all[i]) << "paragraph " << i;
  }
}

// Timing on the real corpus (run with --gtest_also_run_disabled_tests): 4096 tokens.
TEST(DemoCorpus, DISABLED_TrainFullVocabulary) {
  const auto sources = sources_or_skip();
  SKIP_WITHOUT_CORPUS(sources);
  const std::string text = read_corpus(sources);
  const CorpusSplit split = split_corpus(text);
  const auto t0 = std::chrono::steady_clock::now();
  const BpeVocabulary v = train_byte_level_bpe({split.train}, BpeTrainOptions{});
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(v.tokens.size(), 4096u);
  const fs::path dir = temp_dir("full");
  write_hf_bpe(v, dir.string());
  const auto tok = load_gpt2_bpe((dir / "vocab.json").string(), (dir / "merges.txt").string());
  const size_t n = tok->encode(split.validation, false).size();
  EXPECT_EQ(tok->decode(tok->encode(split.validation, false)), split.validation);
  std::printf("corpus %.2f MB (train %.2f MB), %zu merges in %.2f s; validation %zu bytes -> %zu tokens (%.2f bytes/token)\n",
              text.size() / 1e6, split.train.size() / 1e6, v.merges.size(), s, split.validation.size(), n,
              static_cast<double>(split.validation.size()) / static_cast<double>(n));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace cascade::data::testing
