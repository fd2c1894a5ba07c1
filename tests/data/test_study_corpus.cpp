// SPEC §8 documents: windows of a corpus with the bundled demo tokenizer (and a BOS-adding one),
// their byte offsets and ids (recomputed here from SPEC's definition with an independent SHA-256
// call), the corpus kinds, and per-file problems reported while the rest goes on.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/errors.h"
#include "core/study.h"
#include "data/formats/sha256.h"
#include "data/study/corpus.h"
#include "data/tokenizers/tokenizer_loader.h"

namespace fs = std::filesystem;
using namespace cascade;

namespace {

const std::string kDemo = std::string(CASCADE_SOURCE_DIR) + "/data/demo/model";

class StudyCorpus : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cascade_corpus_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    tok_ = data::load_tokenizer(kDemo, "gpt2");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const fs::path& rel, const std::string& text) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel, std::ios::binary) << text;
  }
  fs::path dir_;
  std::unique_ptr<Tokenizer> tok_;
};

std::string long_text() {
  std::string t;
  for (int i = 0; i < 40; ++i) t += "The " + std::to_string(i) + " quick brown foxes jump over the lazy dog. ";
  return t;
}

}  // namespace

// Windows of at most max_tokens tokens, `stride` apart, each the tokens of the whole text from its
// first token on; the offset is that token's first byte; the id is SHA-256 of SPEC's fields.
TEST_F(StudyCorpus, WindowsOffsetsAndIdsFollowTheSpec) {
  const std::string text = long_text();
  write("a/long.txt", text);
  data::CorpusOptions o;
  o.path = dir_.string();
  o.max_tokens = 64;
  o.stride = 48;
  o.min_tokens = 10;
  const auto corpus = data::read_corpus(o, *tok_, "tok-id");
  const Encoding e = tok_->encode_detailed(text, false);
  const auto n = static_cast<int64_t>(e.ids.size());
  ASSERT_GT(n, 200);
  int64_t expected = 0;
  for (int64_t s = 0; s < n; s += 48) {
    if (std::min<int64_t>(64, n - s) >= 10) ++expected;
    if (s + 64 >= n) break;
  }
  ASSERT_EQ(static_cast<int64_t>(corpus.documents.size()), expected);
  for (size_t i = 0; i < corpus.documents.size(); ++i) {
    const auto& d = corpus.documents[i];
    const int64_t s = static_cast<int64_t>(i) * 48;
    EXPECT_EQ(d.source, "a/long.txt");
    EXPECT_EQ(d.index, static_cast<int64_t>(i));
    EXPECT_EQ(d.offset, static_cast<int64_t>(e.offsets[static_cast<size_t>(s)].first));
    EXPECT_EQ(d.ids, std::vector<int64_t>(e.ids.begin() + s, e.ids.begin() + s + d.T));
    // The window's text starts at the offset: decoding its ids gives the bytes from there.
    EXPECT_EQ(text.substr(static_cast<size_t>(d.offset), 20), tok_->decode(d.ids).substr(0, 20));
    EXPECT_EQ(d.id, data::sha256_hex("a/long.txt\n" + std::to_string(d.offset) + "\n" + std::to_string(d.T) + "\ntok-id").substr(0, 16));
    EXPECT_LT(study::shard_of(d.id, 4), 4);
    EXPECT_EQ(study::shard_of(d.id, 4), static_cast<int64_t>(std::stoull(d.id, nullptr, 16) % 4));
  }
  EXPECT_TRUE(corpus.failures.empty());
  // --limit keeps the first documents in corpus order.
  o.limit = 2;
  EXPECT_EQ(data::read_corpus(o, *tok_, "tok-id").documents.size(), 2u);
}

// Files in relative-path order, recursively; only .txt files.
TEST_F(StudyCorpus, FolderListAndTextKinds) {
  write("b.txt", long_text());
  write("a/z.txt", long_text());
  write("notes.md", long_text());
  data::CorpusOptions o;
  o.path = dir_.string();
  o.max_tokens = 4096;  // one window a text
  auto c = data::read_corpus(o, *tok_, "x");
  ASSERT_EQ(c.documents.size(), 2u);
  EXPECT_EQ(c.documents[0].source, "a/z.txt");
  EXPECT_EQ(c.documents[1].source, "b.txt");
  write("list.lst", "# a comment\nb.txt\n\na/z.txt\nmissing.txt\n");
  o.path = (dir_ / "list.lst").string();
  EXPECT_EQ(data::corpus_kind(o), "list");
  c = data::read_corpus(o, *tok_, "x");
  ASSERT_EQ(c.documents.size(), 2u);
  EXPECT_EQ(c.documents[0].source, "b.txt");
  ASSERT_EQ(c.failures.size(), 1u);
  EXPECT_EQ(c.failures[0].source, "missing.txt");
  o.path = (dir_ / "b.txt").string();
  EXPECT_EQ(data::corpus_kind(o), "text");
  EXPECT_EQ(data::read_corpus(o, *tok_, "x").documents.size(), 1u);
  o.path = (dir_ / "nowhere").string();
  EXPECT_THROW(data::read_corpus(o, *tok_, "x"), InputError);
  o.path = dir_.string();
  o.min_tokens = 0;
  EXPECT_THROW(data::read_corpus(o, *tok_, "x"), UsageError);
}

// A tokenizer that adds a BOS: every window starts with it and counts it in T.
TEST_F(StudyCorpus, TheBosIsInEveryWindow) {
  const auto bos = data::load_tokenizer_with_bos(kDemo, 0);
  write("t.txt", long_text());
  data::CorpusOptions o;
  o.path = dir_.string();
  o.max_tokens = 64;
  const auto c = data::read_corpus(o, *bos, "x");
  ASSERT_GE(c.documents.size(), 3u);
  const Encoding e = tok_->encode_detailed(long_text(), false);
  for (size_t i = 0; i < c.documents.size(); ++i) {
    const auto& d = c.documents[i];
    EXPECT_EQ(d.ids.front(), 0);
    EXPECT_LE(d.T, 64);
    EXPECT_EQ(d.ids[1], e.ids[i * 63]);  // windows of 63 text tokens after the BOS
  }
}

// Invalid UTF-8, an empty file, a short text, a JSONL line without the field, a line that is not
// JSON and a line over --max-bytes are reported by source; the good texts are windows.
TEST_F(StudyCorpus, MalformedTextsAreReportedPerFile) {
  write("good.txt", long_text());
  write("bad.txt", std::string("abc \xc3\x28 def ") + long_text());
  write("empty.txt", "  \n\n");
  write("short.txt", "Hi.");
  data::CorpusOptions o;
  o.path = dir_.string();
  o.min_tokens = 8;
  auto c = data::read_corpus(o, *tok_, "x");
  std::map<std::string, std::string> why;
  for (const auto& f : c.failures) why[f.source] = f.why;
  EXPECT_EQ(why["bad.txt"], "not UTF-8 (byte 4)");
  EXPECT_EQ(why["empty.txt"], "empty");
  EXPECT_NE(why["short.txt"].find("fewer than --min-tokens 8"), std::string::npos);
  ASSERT_FALSE(c.documents.empty());
  EXPECT_EQ(c.documents[0].source, "good.txt");

  write("c.jsonl", "{\"text\": \"" + long_text() + "\"}\n{\"title\": \"x\"}\n[1, 2\n\n{\"text\": \"" + std::string(5000, 'x') +
                       "\"}\n{\"text\": 5}\n");
  o.path = (dir_ / "c.jsonl").string();
  o.max_bytes = 4000;
  c = data::read_corpus(o, *tok_, "x");
  why.clear();
  for (const auto& f : c.failures) why[f.source] = f.why;
  EXPECT_NE(why["c.jsonl:2"].find("no string member \"text\""), std::string::npos);
  EXPECT_NE(why["c.jsonl:3"].find("not JSON"), std::string::npos);
  EXPECT_NE(why["c.jsonl:5"].find("over the limit of 4000"), std::string::npos);
  EXPECT_NE(why["c.jsonl:6"].find("no string member"), std::string::npos);
  EXPECT_EQ(c.failures.size(), 4u);  // the blank line 4 is not a text
  ASSERT_FALSE(c.documents.empty());
  EXPECT_EQ(c.documents[0].source, "c.jsonl:1");
  // Another field.
  o.field = "title";
  o.min_tokens = 1;
  c = data::read_corpus(o, *tok_, "x");
  ASSERT_EQ(c.documents.size(), 1u);
  EXPECT_EQ(c.documents[0].source, "c.jsonl:2");
}

// The bundled corpus: about 50 windows of 256 tokens of the demo tokenizer.
TEST_F(StudyCorpus, TheBundledCorpusHasAboutFiftyWindows) {
  data::CorpusOptions o;
  o.path = data::bundled_corpus_dir() + "/default.list";
  const auto c = data::read_corpus(o, *tok_, "x");
  EXPECT_TRUE(c.failures.empty());
  EXPECT_GE(c.documents.size(), 45u);
  EXPECT_LE(c.documents.size(), 60u);
  std::set<std::string> sources;
  for (const auto& d : c.documents) sources.insert(d.source);
  EXPECT_TRUE(sources.count("../texts/teaching.txt"));
}
