// The real tokenizer.json + tokenizer_config.json of Llama 3 (with and without the BOS template),
// Qwen 3, Gemma 3, Mistral-7B, Llama 2 and DeepSeek-V3 (shared/fixtures/tokenizers, extracted into
// the build tree) against the ids transformers 4.x gives for a set of hard strings: with and
// without special tokens, the token strings, HF's decode, and offsets that lie in the input.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "data/tokenizers/tokenizer_loader.h"

namespace cascade::data::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Ids = std::vector<int64_t>;

fs::path fixtures_dir() { return fs::path(CASCADE_TOKENIZER_FIXTURES); }

json read_json(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

class RealTokenizer : public ::testing::TestWithParam<std::string> {};

TEST_P(RealTokenizer, EveryCaseExact) {
  const fs::path dir = fixtures_dir() / GetParam();
  if (!fs::is_regular_file(dir / "tokenizer.json"))
    GTEST_SKIP() << dir << " not extracted (shared/fixtures/tokenizers/tokenizers.tar.xz missing at configure time)";
  const auto loaded = load_tokenizer_path(dir.string());
  const auto* tok = dynamic_cast<const HfTokenizer*>(loaded.get());
  ASSERT_NE(tok, nullptr);
  const json cases = read_json(dir / "cases.json");
  ASSERT_EQ(cases.size(), 27u);
  size_t with_special = 0, plain = 0;
  for (const json& c : cases) {
    const std::string text = c["text"].get<std::string>();
    SCOPED_TRACE(GetParam() + ": " + json(text).dump());
    const Ids got_special = tok->encode(text, true), got_plain = tok->encode(text, false);
    EXPECT_EQ(got_special, c["ids_with_special"].get<Ids>());
    EXPECT_EQ(got_plain, c["ids_plain"].get<Ids>());
    with_special += got_special == c["ids_with_special"].get<Ids>();
    plain += got_plain == c["ids_plain"].get<Ids>();

    const Encoding e = tok->encode_detailed(text, false);
    EXPECT_EQ(e.ids, got_plain);
    EXPECT_EQ(e.tokens, c["tokens_plain"].get<std::vector<std::string>>());
    ASSERT_EQ(e.offsets.size(), e.ids.size());
    size_t at = 0, last_begin = 0;
    for (const auto& [begin, end] : e.offsets) {
      EXPECT_LE(begin, end);
      EXPECT_LE(end, text.size());
      EXPECT_GE(begin, last_begin);  // never backwards (a prepended "▁" shares its character's span)
      last_begin = begin;
      at = std::max(at, end);
    }
    if (!text.empty() && !e.offsets.empty()) {
      EXPECT_EQ(at, text.size());
    }

    // HF's decode (skip_special_tokens=False), before clean_up_tokenization_spaces.
    const std::string decoded = c.contains("decoded_without_cleanup") ? c["decoded_without_cleanup"].get<std::string>()
                                                                       : c["decoded"].get<std::string>();
    EXPECT_EQ(tok->decode(c["ids_with_special"].get<Ids>(), false), decoded);
  }
  std::printf("%s: %zu/%zu with special tokens, %zu/%zu without\n", GetParam().c_str(), with_special, cases.size(),
              plain, cases.size());
}

INSTANTIATE_TEST_SUITE_P(Fixtures, RealTokenizer,
                         ::testing::Values("llama3", "llama3_1", "qwen3", "gemma3", "mistral7b", "llama2", "deepseek_v3"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace cascade::data::testing
