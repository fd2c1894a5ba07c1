// The bundled demo model (data/demo/model, trained by `cascadelens-cli train-demo`) and its texts.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/engine.h"
#include "data/hf/hf_model.h"
#include "data/tokenizers/tokenizer_loader.h"

namespace fs = std::filesystem;
using namespace cascade;

namespace {

const fs::path kDemo = fs::path(CASCADE_SOURCE_DIR) / "data" / "demo";
// About twice the largest perplexity the first trained model gave on the demo texts (see the note).
constexpr double kDemoPerplexityBound = 500.0;  // the committed model: 60–254 on the five texts

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<fs::path> demo_texts() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(kDemo / "texts")) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

#define SKIP_WITHOUT_DEMO_MODEL() \
  if (!fs::exists(kDemo / "model" / "model.safetensors")) GTEST_SKIP() << "data/demo/model has no trained weights"

}  // namespace

TEST(DemoModel, LoadsTokenizesAndPredictsEnglish) {
  SKIP_WITHOUT_DEMO_MODEL();
  const std::string dir = (kDemo / "model").string();
  const ModelConfig config = data::read_hf_config(dir);
  EXPECT_EQ(config.model_type, "gpt2");
  EXPECT_GE(config.max_positions, 512);
  EXPECT_LE(fs::file_size(kDemo / "model" / "model.safetensors"), 20u * 1024 * 1024);
  const auto model = make_model(config, data::CheckpointWeights(dir));
  const auto tokenizer = data::load_tokenizer(dir, "gpt2");
  ASSERT_EQ(demo_texts().size(), 5u);
  for (const auto& path : demo_texts()) {
    SCOPED_TRACE(path.filename().string());
    const std::string text = read(path);
    const auto ids = tokenizer->encode(text, true);
    EXPECT_EQ(tokenizer->decode(ids), text) << "the tokenizer must round-trip the demo texts";
    EXPECT_GE(ids.size(), 100u);
    EXPECT_LE(ids.size(), 600u);
    const at::Tensor logits = model->forward(at::tensor(ids, at::kLong));
    EXPECT_TRUE(at::isfinite(logits).all().item<bool>());
    // Held-out English (none of these texts is in the training corpus). The bound is set from the
    // measurement recorded in data/demo/README.md (largest demo-text perplexity, ×2 for headroom);
    // a broken load or tokenizer gives hundreds to thousands (uniform over the vocabulary: 4096).
    EXPECT_LT(perplexity(logits, ids), kDemoPerplexityBound);
  }
}

TEST(DemoModel, SelectionHasStructureAcrossDepth) {
  SKIP_WITHOUT_DEMO_MODEL();
  const std::string dir = (kDemo / "model").string();
  const auto model = make_model(data::read_hf_config(dir), data::CheckpointWeights(dir));
  const auto tokenizer = data::load_tokenizer(dir, "gpt2");
  RunRequest request;
  request.ids = tokenizer->encode(read(kDemo / "texts" / "teaching.txt"), true);
  const cascade::RunRecord run = run_model(*model, request);
  int64_t r_min = run.analysis.T, r_max = 0;
  bool below_one = false;
  for (const auto& m : run.analysis.layers) {
    r_min = std::min(r_min, m.r_ind);
    r_max = std::max(r_max, m.r_ind);
    below_one = below_one || (m.depth_jaccard && *m.depth_jaccard < 1.0);
  }
  EXPECT_LT(r_min, r_max) << "r should vary with depth";
  EXPECT_TRUE(below_one) << "depth Jaccard should drop below 1 somewhere at tau = 0.3";
}
