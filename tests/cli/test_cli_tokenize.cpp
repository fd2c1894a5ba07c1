// cascadelens-cli tokenize end to end: the real Llama 3 and Mistral files (extracted into the build
// tree from shared/fixtures/tokenizers) and GPT-2's, JSON and table output, the usage errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_runner.h"
#include "common/shared_dir.h"

namespace fs = std::filesystem;
using nlohmann::json;
using Ids = std::vector<int64_t>;

namespace {

class CliTokenize : public clitest::TempDirTest {
 protected:
  std::string fixture(const std::string& name) const { return (fs::path(CASCADE_TOKENIZER_FIXTURES) / name).string(); }
  std::vector<json> lines(const std::string& out) const {
    std::vector<json> objects;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) objects.push_back(json::parse(line));
    return objects;
  }
};

#define REQUIRE_FIXTURE(name)                                             \
  if (!fs::is_regular_file(fixture(name) + "/tokenizer.json"))            \
  GTEST_SKIP() << fixture(name) << " not extracted (needs ../shared/fixtures/tokenizers)"

TEST_F(CliTokenize, JsonHasIdsTokensAndByteOffsets) {
  REQUIRE_FIXTURE("llama3_1");
  const auto r = run({"tokenize", "--tokenizer", fixture("llama3_1") + "/tokenizer.json", "--text", "Hello world",
                      "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto objects = lines(r.out);
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects[0]["ids"].get<Ids>(), (Ids{128000, 9906, 1917}));
  EXPECT_EQ(objects[0]["tokens"], json({"<|begin_of_text|>", "Hello", "\xC4\xA0world"}));
  EXPECT_EQ(objects[0]["offsets"], json({{0, 0}, {0, 5}, {5, 11}}));

  const auto plain = run({"tokenize", "--tokenizer", fixture("llama3_1"), "--text", "Hello world", "--no-special",
                          "--format", "json"});
  ASSERT_EQ(plain.code, 0) << plain.err;
  EXPECT_EQ(lines(plain.out)[0]["ids"].get<Ids>(), (Ids{9906, 1917}));
}

TEST_F(CliTokenize, JsonlGivesOneObjectPerLineWithOffsetsIntoEachText) {
  REQUIRE_FIXTURE("mistral7b");
  const std::vector<std::string> texts = {"Hello <s>.", "caf\xC3\xA9 \xF0\x9F\x99\x82", ""};
  std::ofstream(dir_ / "in.jsonl") << json(texts[0]).dump() << "\n" << json(texts[1]).dump() << "\n\n"
                                   << json(texts[2]).dump() << "\n";
  const auto r = run({"tokenize", "--tokenizer", fixture("mistral7b"), "--jsonl", (dir_ / "in.jsonl").string(),
                      "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto objects = lines(r.out);
  ASSERT_EQ(objects.size(), 3u);
  EXPECT_EQ(objects[0]["ids"].get<Ids>(), (Ids{1, 22557, 28705, 1, 842}));  // ▁Hello ▁ <s> ▁.
  EXPECT_EQ(objects[0]["offsets"], json({{0, 0}, {0, 5}, {5, 6}, {6, 9}, {9, 10}}));
  EXPECT_EQ(objects[2]["ids"].get<Ids>(), (Ids{1}));
  for (size_t i = 0; i < texts.size(); ++i) {
    ASSERT_EQ(objects[i]["ids"].size(), objects[i]["offsets"].size());
    for (const json& o : objects[i]["offsets"]) EXPECT_LE(o[1].get<size_t>(), texts[i].size());
  }
}

TEST_F(CliTokenize, TableFromAModelFolderAndTextFile) {
  const std::string gpt2 = testshared::shared_dir() + "/fixtures/gpt2-tokenizer";
  if (testshared::shared_dir().empty() || !fs::is_directory(gpt2)) GTEST_SKIP() << "no ../shared/fixtures/gpt2-tokenizer";
  const fs::path model = dir_ / "model";
  fs::create_directories(model);
  fs::copy_file(gpt2 + "/encoder.json", model / "vocab.json");
  fs::copy_file(gpt2 + "/vocab.bpe", model / "merges.txt");
  std::ofstream(model / "config.json") << R"({"model_type": "gpt2"})";
  std::ofstream(dir_ / "t.txt") << "Hello world\n";
  const auto r = run({"tokenize", "--model", model.string(), "--text-file", (dir_ / "t.txt").string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("3 tokens"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("15496"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" world"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\u23CE"), std::string::npos) << r.out;  // the newline made visible
}

TEST_F(CliTokenize, UsageAndInputErrors) {
  EXPECT_EQ(run({"tokenize", "--text", "x"}).code, 2);  // no tokenizer
  EXPECT_EQ(run({"tokenize", "--tokenizer", dir_.string()}).code, 2);  // no text
  EXPECT_EQ(run({"tokenize", "--tokenizer", dir_.string(), "--text", "x", "--format", "csv"}).code, 2);
  const auto missing = run({"tokenize", "--tokenizer", dir_.string(), "--text", "x"});
  EXPECT_EQ(missing.code, 3);
  EXPECT_NE(missing.err.find("tokenizer.json"), std::string::npos) << missing.err;
  std::ofstream(dir_ / "bad.jsonl") << "\"ok\"\n42\n";
  std::ofstream(dir_ / "tokenizer.json") << R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                                               "pre_tokenizer": {"type": "UnicodeScripts"}})";
  const auto unsupported = run({"tokenize", "--tokenizer", (dir_ / "tokenizer.json").string(), "--text", "a"});
  EXPECT_EQ(unsupported.code, 3);
  EXPECT_NE(unsupported.err.find("pre_tokenizer 'UnicodeScripts' is not supported"), std::string::npos) << unsupported.err;
  const auto bad = run({"tokenize", "--tokenizer", (dir_ / "tokenizer.json").string(), "--jsonl", (dir_ / "bad.jsonl").string()});
  EXPECT_EQ(bad.code, 3);
  EXPECT_NE(bad.err.find("line 2"), std::string::npos) << bad.err;
}

}  // namespace
