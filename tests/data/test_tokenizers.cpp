// Tokenizers: GPT-2 byte-level BPE against the 46 llama.cpp/HF cases (three file layouts), llama2.c's
// stories260K tokenizer against its expected output, and hand-made Llama tokenizer.json and
// sentencepiece tokenizer.model files with hand-derived ids. The real tokenizer.json files are in
// test_tokenizer_fixtures.cpp. No Torch in this file.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "core/errors.h"
#include "data/tokenizers/byte_level.h"
#include "data/tokenizers/sp_tokenizer.h"
#include "data/tokenizers/tokenizer_loader.h"
#include "data/tokenizers/unicode_props.h"

namespace cascade::data::testing {
namespace {

#include "common/shared_dir.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using Ids = std::vector<int64_t>;

const std::string kSpace = "\xE2\x96\x81";  // ▁

fs::path shared_dir() { return testshared::configured_shared_dir(); }

// The fixture folder, or "" (the test then skips).
std::string fixture(const std::string& relative) {
  const fs::path dir = shared_dir() / relative;
  return fs::is_directory(dir) ? dir.string() : std::string();
}

#define REQUIRE_FIXTURE(var, relative)                                                              \
  const std::string var = fixture(relative);                                                        \
  if (var.empty())                                                                                  \
    GTEST_SKIP() << "shared fixture " << (shared_dir() / (relative)).string()                       \
                 << " not found (set CASCADE_SHARED or -DCASCADE_SHARED_DIR=<path to shared/>)"

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << p;
}

class TokTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    dir_ = fs::temp_directory_path() /
           ("cascade_tok_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path sub(const std::string& name) const {
    fs::create_directories(dir_ / name);
    return dir_ / name;
  }
  fs::path dir_;
};

// Runs `fn` and checks it throws InputError whose message contains every one of `parts`.
template <class Fn>
void expect_input_error(Fn&& fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what() << " lacks " << p;
  }
}

// ---------------------------------------------------------------- GPT-2 byte-level BPE

struct Case {
  std::string text;
  Ids ids;
};

std::vector<Case> gpt2_cases(const std::string& dir) {
  std::vector<Case> out;
  for (const json& c : json::parse(read_text(fs::path(dir) / "cases.json")))
    out.push_back({c["text"].get<std::string>(), c["ids"].get<Ids>()});
  return out;
}

void expect_all_cases(const Tokenizer& tok, const std::vector<Case>& cases, const std::string& layout) {
  ASSERT_EQ(cases.size(), 46u);
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(layout + ", case " + std::to_string(i) + ": \"" + cases[i].text + "\"");
    EXPECT_EQ(tok.encode(cases[i].text, false), cases[i].ids);
    EXPECT_EQ(tok.decode(cases[i].ids), cases[i].text);
  }
}

TEST(Gpt2Tokenizer, AllFixtureCasesFromEncoderJsonAndVocabBpe) {
  REQUIRE_FIXTURE(dir, "fixtures/gpt2-tokenizer");
  const auto tok = load_gpt2_bpe(dir + "/encoder.json", dir + "/vocab.bpe");
  EXPECT_EQ(tok->vocab_size(), 50257);
  expect_all_cases(*tok, gpt2_cases(dir), "encoder.json + vocab.bpe");
  EXPECT_EQ(tok->encode("Hello world", true), (Ids{15496, 995}));  // GPT-2 adds no BOS
}

TEST_F(TokTest, Gpt2HfFileNamesAndTokenizerJsonGiveTheSameIds) {
  REQUIRE_FIXTURE(dir, "fixtures/gpt2-tokenizer");
  const auto cases = gpt2_cases(dir);
  const std::string vocab_text = read_text(fs::path(dir) / "encoder.json");
  const std::string merges_text = read_text(fs::path(dir) / "vocab.bpe");

  const fs::path hf = sub("hf_names");
  write_text(hf / "vocab.json", vocab_text);
  write_text(hf / "merges.txt", merges_text);
  expect_all_cases(*load_tokenizer(hf.string(), "gpt2"), cases, "vocab.json + merges.txt");

  // tokenizer.json as HF writes it for gpt2, merges once as "A B" strings and once as [A, B] pairs.
  json merges_str = json::array(), merges_pair = json::array();
  std::istringstream lines(merges_text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line.rfind("#version", 0) == 0) continue;
    merges_str.push_back(line);
    merges_pair.push_back({line.substr(0, line.find(' ')), line.substr(line.find(' ') + 1)});
  }
  ASSERT_EQ(merges_str.size(), 50000u);
  const json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
  json root = {{"version", "1.0"},
               {"truncation", nullptr},
               {"padding", nullptr},
               {"added_tokens", json::array({{{"id", 50256}, {"content", "<|endoftext|>"}, {"single_word", false},
                                              {"lstrip", false}, {"rstrip", false}, {"normalized", true},
                                              {"special", true}}})},
               {"normalizer", nullptr},
               {"pre_tokenizer", byte_level},
               {"post_processor", byte_level},
               {"decoder", byte_level},
               {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr},
                          {"continuing_subword_prefix", ""}, {"end_of_word_suffix", ""}, {"fuse_unk", false},
                          {"byte_fallback", false}, {"vocab", json::parse(vocab_text)}, {"merges", merges_str}}}};
  const fs::path tj = sub("tokenizer_json");
  write_text(tj / "tokenizer.json", root.dump());
  expect_all_cases(*load_tokenizer(tj.string(), "gpt2"), cases, "tokenizer.json (string merges)");
  root["model"]["merges"] = merges_pair;
  const fs::path tp = sub("tokenizer_json_pairs");
  write_text(tp / "tokenizer.json", root.dump());
  const auto tok = load_tokenizer(tp.string(), "gpt_neox");
  expect_all_cases(*tok, cases, "tokenizer.json ([A, B] merges)");

  // Added tokens are matched verbatim before pre-tokenization, and decode writes them back.
  const std::string text = "Hello<|endoftext|>world";
  EXPECT_EQ(tok->encode(text, false), (Ids{15496, 50256, 6894}));
  EXPECT_EQ(tok->decode(tok->encode(text, false)), text);

  // OPT prepends </s>; GPT-2's vocabulary has no "</s>", so the loader falls back to OPT's id 2.
  const auto opt = load_tokenizer(hf.string(), "opt");
  EXPECT_EQ(opt->encode("Hello world"), (Ids{2, 15496, 995}));
  EXPECT_EQ(opt->encode("Hello world", false), (Ids{15496, 995}));
  EXPECT_EQ(load_tokenizer_with_bos(hf.string(), 50256)->encode("Hello"), (Ids{50256, 15496}));
}

TEST(Gpt2Tokenizer, DisplayMakesBytesVisible) {
  REQUIRE_FIXTURE(dir, "fixtures/gpt2-tokenizer");
  const auto tok = load_gpt2_bpe(dir + "/encoder.json", dir + "/vocab.bpe");
  EXPECT_EQ(tok->token(262), "\xC4\xA0the");  // "Ġthe"
  EXPECT_EQ(tok->display(*tok->token_id("\xC4\xA0the")), " the");
  EXPECT_EQ(tok->display(*tok->token_id("\xC4\x8A")), "\u23CE");  // "Ċ" -> ⏎
  EXPECT_EQ(tok->display(628), "\u23CE\u23CE");
  EXPECT_EQ(tok->display(197), "\u21E5");            // tab -> ⇥
  EXPECT_EQ(tok->display(2634), "\xC3\xA9");         // "Ã©" -> é (a whole UTF-8 sequence)
  EXPECT_EQ(tok->display(12520), " <0xF0><0x9F>");   // first half of 🦙
  EXPECT_EQ(tok->display(99), "<0xA6>");
  EXPECT_EQ(tok->display(247), "<0x99>");
  EXPECT_EQ(tok->display(50256), "<|endoftext|>");
  EXPECT_THROW(tok->display(50257), UsageError);
}

TEST(Gpt2PreTokenizer, SplitsLikeTheRegex) {
  const auto pieces = [](const std::string& text) {
    std::vector<std::string> out;
    for (const auto& [b, e] : gpt2_pretokenize(text)) out.push_back(text.substr(b, e - b));
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(pieces("   Hello"), (V{"  ", " Hello"}));
  EXPECT_EQ(pieces("   "), (V{"   "}));
  EXPECT_EQ(pieces("Hello, y'all! I'm"), (V{"Hello", ",", " y", "'", "all", "!", " I", "'m"}));
  EXPECT_EQ(pieces("a\tb \n\nc"), (V{"a", "\t", "b", " \n", "\n", "c"}));
  EXPECT_EQ(pieces("x  \t"), (V{"x", "  \t"}));
  EXPECT_EQ(pieces("I'LL we've"), (V{"I", "'", "LL", " we", "'ve"}));
  EXPECT_EQ(pieces("ab12 34!?"), (V{"ab", "12", " 34", "!?"}));
  EXPECT_EQ(pieces("\xFF" "a"), (V{"\xFF", "a"}));  // an invalid byte counts as a symbol
  EXPECT_TRUE(pieces("").empty());
}

TEST(UnicodeProps, LettersNumbersSpaces) {
  using namespace unicode;
  for (const char32_t c : {U'a', U'Z', U'\u00E9', U'\u00FC', U'\u0431', U'\u6211', U'\u1780', U'\u0915', U'\u05D0',
                           U'\u3042', U'\uAC00', U'\U00020000'})
    EXPECT_TRUE(is_letter(c)) << std::hex << static_cast<uint32_t>(c);
  for (const char32_t c : {U'1', U' ', U'!', U'\u17B6', U'\u200D', U'\U0001F999', U'\u00BD', U'\uFF5E'})
    EXPECT_FALSE(is_letter(c)) << std::hex << static_cast<uint32_t>(c);
  for (const char32_t c : {U'0', U'9', U'\u00BD', U'\u0663', U'\u2163', U'\uFF11'})
    EXPECT_TRUE(is_number(c)) << std::hex << static_cast<uint32_t>(c);
  EXPECT_FALSE(is_number(U'a'));
  for (const char32_t c : {U' ', U'\t', U'\n', U'\u00A0', U'\u3000', U'\u2028'}) EXPECT_TRUE(is_whitespace(c));
  EXPECT_FALSE(is_whitespace(U'\u200B'));
  EXPECT_EQ(encode_utf8(U'\U0001F999'), "\xF0\x9F\xA6\x99");
  EXPECT_FALSE(next_utf8("\xC0\x80", 0).valid);  // overlong
  EXPECT_FALSE(next_utf8("\xED\xA0\x80", 0).valid);  // surrogate
  EXPECT_EQ(visible("a\nb\t\xE2\x82"), "a\u23CE" "b\u21E5<0xE2><0x82>");
}

// ---------------------------------------------------------------- llama2.c stories260K

// expected.json's `text` is llama2.c's stdout without its final "\n": llama2.c feeds BOS and then
// prints the decoded piece of every following token (output_ids), never BOS itself; the piece right
// after BOS loses its leading space (so for "Zoo", output_ids start with 410 " ", which prints as
// nothing). Hence text == decode([1] + output_ids): our decode leaves out BOS and drops one leading
// space at the start of the output.
TEST(Llama2cTokenizer, DecodesExpectedOutputExactly) {
  REQUIRE_FIXTURE(dir, "models/stories260K-hf");
  const auto tok = load_llama2c_tokens(dir + "/tokens.json");
  EXPECT_EQ(tok->vocab_size(), 512);
  const json expected = json::parse(read_text(fs::path(dir) / "expected.json"));
  ASSERT_EQ(expected["cases"].size(), 2u);
  for (const json& c : expected["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    Ids ids{1};
    for (const json& id : c["output_ids"]) ids.push_back(id.get<int64_t>());
    EXPECT_EQ(tok->decode(ids), c["text"].get<std::string>());
    EXPECT_EQ(tok->encode(c["prompt"].get<std::string>()), c["prompt_ids"].get<Ids>());
  }
}

TEST(Llama2cTokenizer, EncodesLikeLlama2c) {
  REQUIRE_FIXTURE(dir, "models/stories260K-hf");
  const auto tok = load_tokenizer(dir, "llama");  // tokens.json; BOS 1 from config.json
  EXPECT_EQ(tok->encode("Zoo"), (Ids{1, 410, 469, 347}));
  EXPECT_EQ(tok->encode("Zoo", false), (Ids{410, 469, 347}));
  EXPECT_EQ(tok->encode(""), (Ids{1}));
  EXPECT_EQ(tok->decode({1}), "");
  EXPECT_EQ(tok->encode("Once upon a time"), (Ids{1, 403, 407, 261, 378}));
  EXPECT_EQ(tok->encode("a\nb", false).at(1), 13);  // " a", then '\n' (no piece): byte 0x0A + 3
  for (const std::string s : {"Once upon a time, there was a little girl named Lily.",
                              "Lily's mom said, \"Let's go to the park!\"\nThey went.", " two  spaces", "caf\xC3\xA9 \xE2\x9C\x85",
                              "x"}) {
    EXPECT_EQ(tok->decode(tok->encode(s)), s);
    EXPECT_EQ(tok->decode(tok->encode(s, false)), s);
  }
  EXPECT_EQ(tok->display(1), "<s>");
  EXPECT_EQ(tok->display(2), "</s>");
  EXPECT_EQ(tok->display(13), "\u23CE");
  EXPECT_EQ(tok->display(403), " Once");
  EXPECT_EQ(tok->display(3 + 0xE2), "<0xE2>");
  EXPECT_EQ(tok->display(3 + 'A'), "A");
}

// ---------------------------------------------------------------- hand-made Llama files

// A tiny Llama-style vocabulary: <unk> <s> </s>, the 256 byte pieces (ids 3..258), then these.
const std::vector<std::string> kPieces = {kSpace, "h", "e", "l", "o", "w", "r", "d",  // 259..266
                                          "he", "ll", kSpace + "he", "llo", kSpace + "hello",  // 267..271
                                          kSpace + "w", "or", kSpace + "wor", "ld", kSpace + "world"};  // 272..276
const std::vector<std::string> kMerges = {"h e", "l l", kSpace + " he", "ll o", kSpace + "he llo",
                                          kSpace + " w", "o r", kSpace + "w or", "l d", kSpace + "wor ld"};
constexpr int64_t kHello = 271, kWorld = 276;

std::string byte_piece(int b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "<0x%02X>", b);
  return buf;
}

json llama_tokenizer_json(bool metaspace) {
  json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
  for (int b = 0; b < 256; ++b) vocab[byte_piece(b)] = 3 + b;
  for (size_t i = 0; i < kPieces.size(); ++i) vocab[kPieces[i]] = 259 + static_cast<int64_t>(i);
  json added = json::array();
  for (const auto& [content, id] : {std::pair{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}})
    added.push_back({{"id", id}, {"content", content}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", true}});
  json root = {{"version", "1.0"}, {"added_tokens", added}};
  if (metaspace) {  // newer transformers (legacy = false)
    root["normalizer"] = nullptr;
    root["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", kSpace}, {"prepend_scheme", "first"}, {"split", false}};
  } else {  // Llama-2 as converted by transformers 4.3x
    root["normalizer"] = {{"type", "Sequence"},
                          {"normalizers", {{{"type", "Prepend"}, {"prepend", kSpace}},
                                           {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSpace}}}}};
    root["pre_tokenizer"] = nullptr;
  }
  root["post_processor"] = {{"type", "TemplateProcessing"},
                            {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                        {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
                            {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}};
  root["decoder"] = {{"type", "Sequence"},
                     {"decoders", {{{"type", "Replace"}, {"pattern", {{"String", kSpace}}}, {"content", " "}},
                                   {{"type", "ByteFallback"}}, {{"type", "Fuse"}},
                                   {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}};
  root["model"] = {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", "<unk>"}, {"fuse_unk", true},
                   {"byte_fallback", true}, {"vocab", vocab}, {"merges", kMerges}};
  return root;
}

TEST_F(TokTest, LlamaTokenizerJsonMergesByRankWithByteFallback) {
  for (const bool metaspace : {false, true}) {
    SCOPED_TRACE(metaspace ? "Metaspace pre-tokenizer" : "Prepend + Replace normalizer");
    const fs::path d = sub(metaspace ? "meta" : "legacy");
    write_text(d / "tokenizer.json", llama_tokenizer_json(metaspace).dump());
    const auto tok = load_tokenizer(d.string(), "llama");  // no config.json: BOS is "<s>" = 1
    EXPECT_EQ(tok->vocab_size(), 277);
    // "▁hello▁world": he, ll, ▁he, llo, ▁hello, ▁w, or, ▁wor, ld, ▁world (rank order).
    EXPECT_EQ(tok->encode("hello world"), (Ids{1, kHello, kWorld}));
    EXPECT_EQ(tok->encode("hello world", false), (Ids{kHello, kWorld}));
    // "▁hell": he, ll, ▁he; then "▁he"+"ll" has no merge.
    EXPECT_EQ(tok->encode("hell", false), (Ids{269, 268}));
    // é is no piece: its bytes C3 A9 -> <0xC3> <0xA9> = 3 + byte.
    EXPECT_EQ(tok->encode("h\xC3\xA9", false), (Ids{259, 260, 3 + 0xC3, 3 + 0xA9}));
    EXPECT_EQ(tok->decode({1, 259, 260, 3 + 0xC3, 3 + 0xA9}), "h\xC3\xA9");
    // A stretch that starts with a space: the legacy Prepend adds another "▁"; Metaspace does not
    // prepend to text that already starts with "▁" (HF's metaspace.rs).
    EXPECT_EQ(tok->encode(" hello", false), (metaspace ? Ids{kHello} : Ids{259, kHello}));
    EXPECT_EQ(tok->decode({259, kHello}), " hello");
    EXPECT_EQ(tok->decode({1, kHello, kWorld, 2}), "hello world");
    EXPECT_EQ(tok->encode("", true), (Ids{1}));
    // Special tokens in the text are matched verbatim.
    EXPECT_EQ(tok->encode("hello</s>", true), (Ids{1, kHello, 2}));
    EXPECT_EQ(tok->display(kHello), " hello");
    EXPECT_EQ(tok->display(1), "<s>");
    EXPECT_EQ(tok->display(3 + '\n'), "\u23CE");
    EXPECT_EQ(load_tokenizer(d.string(), "")->encode("hello"), (Ids{1, kHello}));  // unknown type: SP style -> BOS
  }
  // The legacy normalizer prefixes every stretch between added tokens; Metaspace "first" only the first.
  const auto legacy = load_hf_tokenizer_json((dir_ / "legacy" / "tokenizer.json").string(), std::nullopt);
  const auto meta = load_hf_tokenizer_json((dir_ / "meta" / "tokenizer.json").string(), std::nullopt);
  EXPECT_EQ(legacy->encode("</s>hello"), (Ids{2, kHello}));
  EXPECT_EQ(meta->encode("</s>hello"), (Ids{2, 267, 270}));  // "hello": he, ll, llo
}

// ---- sentencepiece tokenizer.model, assembled field by field

std::string varint(uint64_t v) {
  std::string out;
  do {
    uint8_t b = v & 0x7F;
    v >>= 7;
    out += static_cast<char>(v ? b | 0x80 : b);
  } while (v);
  return out;
}
std::string field_varint(int field, uint64_t v) { return varint(static_cast<uint64_t>(field) << 3) + varint(v); }
std::string field_bytes(int field, const std::string& s) { return varint((static_cast<uint64_t>(field) << 3) | 2) + varint(s.size()) + s; }
std::string field_float(int field, float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  std::string out = varint((static_cast<uint64_t>(field) << 3) | 5);
  for (int i = 0; i < 4; ++i) out += static_cast<char>((bits >> (8 * i)) & 0xFF);
  return out;
}
std::string sp_piece(const std::string& piece, float score, int type) {
  return field_bytes(1, field_bytes(1, piece) + field_float(2, score) + (type != 1 ? field_varint(3, type) : ""));
}

// model_type 2 (BPE) unless unigram; remove_extra_whitespaces set explicitly or left at its default (true).
std::string sp_model(bool unigram, std::optional<bool> remove_extra_whitespaces) {
  std::string m = sp_piece("<unk>", 0, 2) + sp_piece("<s>", 0, 3) + sp_piece("</s>", 0, 3);
  for (int b = 0; b < 256; ++b) m += sp_piece(byte_piece(b), 0, 6);
  // Scores: merged pieces in the order of kMerges (higher first); single characters lowest.
  for (size_t i = 0; i < kPieces.size(); ++i) {
    const float score = i < 8 ? -100.0f - static_cast<float>(i) : -static_cast<float>(i - 8);
    m += sp_piece(kPieces[i], score, 1);
  }
  m += sp_piece("<sep>", 0, 4);  // user-defined: id 277, matched verbatim
  std::string trainer = field_varint(3, unigram ? 1 : 2) + field_varint(4, 278) + field_varint(35, 1) +
                        field_varint(40, 0) + field_varint(41, 1) + field_varint(42, 2) +
                        field_varint(43, static_cast<uint64_t>(-1));  // pad_id -1: 10-byte varint
  std::string normalizer = field_bytes(1, "identity") + field_varint(3, 1);
  if (remove_extra_whitespaces) normalizer += field_varint(4, *remove_extra_whitespaces ? 1 : 0);
  return m + field_bytes(2, trainer) + field_bytes(3, normalizer);
}

TEST_F(TokTest, SentencePieceModelMergesByScore) {
#ifdef CASCADE_SANITIZED
  GTEST_SKIP() << "a sanitizer build cannot open the sentencepiece module (ASan/TSan refuse RTLD_DEEPBIND); "
                  "the default build runs this test";
#endif
  const fs::path d = sub("spm");
  write_text(d / "tokenizer.model", sp_model(false, false));
  const auto tok = load_tokenizer(d.string(), "llama");
  EXPECT_EQ(tok->vocab_size(), 278);
  EXPECT_EQ(tok->encode("hello world"), (Ids{1, kHello, kWorld}));
  EXPECT_EQ(tok->encode("hell", false), (Ids{269, 268}));
  EXPECT_EQ(tok->encode("h\xC3\xA9", false), (Ids{259, 260, 3 + 0xC3, 3 + 0xA9}));
  // sentencepiece puts the dummy prefix at the start of the text only: "world" after <sep> has no "▁".
  EXPECT_EQ(tok->encode("hello<sep>world", false), (Ids{kHello, 277, 264, 273, 275}));  // w or ld
  EXPECT_EQ(tok->encode("  hello", false), (Ids{259, 259, kHello}));
  EXPECT_EQ(tok->decode(tok->encode("  hello world\n")), "  hello world\n");
  EXPECT_EQ(tok->display(kWorld), " world");

  // remove_extra_whitespaces at its default (true): leading, trailing and repeated spaces go.
  const fs::path d2 = sub("spm_default");
  write_text(d2 / "tokenizer.model", sp_model(false, std::nullopt));
  EXPECT_EQ(load_sentencepiece_model((d2 / "tokenizer.model").string())->encode("  hello   world "),
            (Ids{1, kHello, kWorld}));

  // The sentencepiece library reads unigram models too (the same pieces, segmented by score).
  const fs::path d3 = sub("spm_unigram");
  write_text(d3 / "tokenizer.model", sp_model(true, false));
  const auto unigram = load_tokenizer(d3.string(), "llama");
  EXPECT_EQ(unigram->encode("hello world"), (Ids{1, kHello, kWorld}));
  EXPECT_EQ(unigram->decode(unigram->encode("hello world\n")), "hello world\n");

  const fs::path d4 = sub("spm_truncated");
  const std::string whole = sp_model(false, false);
  write_text(d4 / "tokenizer.model", whole.substr(0, whole.size() - 3));
  expect_input_error([&] { load_tokenizer(d4.string(), "llama"); }, {"tokenizer.model", "not a sentencepiece model"});
}

// ---------------------------------------------------------------- malformed files

TEST_F(TokTest, MalformedFilesNameTheFile) {
  const fs::path empty = sub("empty");
  expect_input_error([&] { load_tokenizer(empty.string(), "gpt2"); },
                     {empty.string(), "tokenizer.json", "vocab.json", "merges.txt", "tokens.json", "tokenizer.model"});
  expect_input_error([&] { load_tokenizer((dir_ / "missing").string(), "gpt2"); }, {"missing"});

  const std::string vocab = json({{"a", 0}, {"b", 1}, {"ab", 2}, {"c", 3}}).dump();
  const fs::path bad_merges = sub("bad_merges");
  write_text(bad_merges / "vocab.json", vocab);
  write_text(bad_merges / "merges.txt", "#version: 0.2\na b\nab c d\n");
  expect_input_error([&] { load_tokenizer(bad_merges.string(), "gpt2"); }, {"merges.txt", "line 3"});

  const fs::path bad_vocab = sub("bad_vocab");
  write_text(bad_vocab / "vocab.json", "[1, 2, 3]");
  write_text(bad_vocab / "merges.txt", "#version: 0.2\n");
  expect_input_error([&] { load_tokenizer(bad_vocab.string(), "gpt2"); }, {"vocab.json", "JSON object"});

  const fs::path not_json = sub("not_json");
  write_text(not_json / "encoder.json", "{\"a\": ");
  write_text(not_json / "vocab.bpe", "#version: 0.2\n");
  expect_input_error([&] { load_tokenizer(not_json.string(), "gpt2"); }, {"encoder.json", "not valid JSON"});

  // A vocabulary without the 256 byte symbols cannot be byte-level.
  const fs::path no_bytes = sub("no_bytes");
  write_text(no_bytes / "vocab.json", vocab);
  write_text(no_bytes / "merges.txt", "a b\n");
  expect_input_error([&] { load_tokenizer(no_bytes.string(), "gpt2"); }, {"vocab.json", "byte"});

  const fs::path tokens_obj = sub("tokens_obj");
  write_text(tokens_obj / "tokens.json", "{\"id\": 0}");
  expect_input_error([&] { load_tokenizer(tokens_obj.string(), "llama"); }, {"tokens.json", "list"});
  const fs::path tokens_field = sub("tokens_field");
  write_text(tokens_field / "tokens.json", R"([{"id": 0, "piece": "<unk>", "score": 0}, {"id": 1, "piece": "a"}])");
  expect_input_error([&] { load_tokenizer(tokens_field.string(), "llama"); }, {"tokens.json", "score"});
  const fs::path tokens_gap = sub("tokens_gap");
  write_text(tokens_gap / "tokens.json", R"([{"id": 0, "piece": "<unk>", "score": 0}, {"id": 5, "piece": "a", "score": 0}])");
  expect_input_error([&] { load_tokenizer(tokens_gap.string(), "llama"); }, {"tokens.json", "id 5"});

  const fs::path unigram = sub("unigram_json");
  write_text(unigram / "tokenizer.json", R"({"model": {"type": "Unigram", "vocab": [["a", 0.0]]}})");
  expect_input_error([&] { load_tokenizer(unigram.string(), "t5"); }, {"tokenizer.json", "Unigram"});
  const fs::path bad_json_merges = sub("bad_json_merges");
  json root = llama_tokenizer_json(false);
  root["model"]["merges"].push_back("only_one_part");
  write_text(bad_json_merges / "tokenizer.json", root.dump());
  expect_input_error([&] { load_tokenizer(bad_json_merges.string(), "llama"); }, {"tokenizer.json", "merges[10]"});
}

}  // namespace
}  // namespace cascade::data::testing
