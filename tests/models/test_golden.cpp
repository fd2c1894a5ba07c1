// Every architecture against HF's own numbers (../shared/fixtures/*-tiny, README conventions 1–31),
// and the real trained stories260K Llama against llama2.c's exact greedy output.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/engine.h"
#include "shared_fixtures.h"

namespace {

// Captures what the goldens hold: residuals, the final norm output and block 1's attention.
class GoldenObserver final : public cascade::ForwardObserver {
 public:
  void on_residual(int64_t layer, const at::Tensor& x) override { residuals[layer] = x.clone(); }
  void on_final_norm(const at::Tensor& h) override { final_norm = h.clone(); }
  bool wants_attention(int64_t block) const override { return block == 1; }
  void on_attention(int64_t, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                    const at::Tensor& probs) override {
    this->q = q.clone(), this->k = k.clone(), this->v = v.clone(), this->probs = probs.clone();
  }
  std::map<int64_t, at::Tensor> residuals;
  at::Tensor final_norm, q, k, v, probs;
};

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, HiddenStatesLogitsAttentionQkv) {
  SKIP_WITHOUT_SHARED();
  const std::string dir = fixtures::fixture_dir(GetParam());
  auto golden = fixtures::read_golden(dir);
  const auto model = fixtures::load_model(dir);
  const int64_t L = model->config().num_layers;
  GoldenObserver obs;
  const at::Tensor logits = model->forward(golden.at("input_ids"), &obs);
  // Every comparison, and the worst error-to-allowance ratio over them (recorded: ≤ 1 passes).
  double worst = 0;
  auto expect_close = [&](const at::Tensor& got, const std::string& name) {
    const at::Tensor& ref = golden.at(name);
    EXPECT_TRUE(fixtures::within_golden_tolerance(got, ref)) << name;
    if (got.sizes() == ref.sizes()) worst = std::max(worst, fixtures::golden_error_ratio(got, ref));
  };
  // HF hidden_states[0..L-1] are the residual entering each block; [L] has the final norm applied.
  for (int64_t l = 0; l < L; ++l) expect_close(obs.residuals.at(l), "hidden_states." + std::to_string(l));
  expect_close(obs.final_norm, "hidden_states." + std::to_string(L));
  expect_close(obs.residuals.at(L), "final_residual");
  expect_close(logits, "logits");
  expect_close(obs.probs, "attn_probs.1");
  expect_close(obs.q, "q.1");
  expect_close(obs.k, "k.1");
  expect_close(obs.v, "v.1");
  RecordProperty("worst_error_ratio", std::to_string(worst));
  std::printf("%s: worst error %.3f of the allowance\n", GetParam().c_str(), worst);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Golden,
                         ::testing::Values("gpt2-tiny", "gpt2-tiny-hubnames", "opt-tiny", "gptj-tiny", "gpt_neox-tiny",
                                           "gpt_neox-serial-tiny", "llama-tiny", "llama-llama3rope-tiny",
                                           "llama-linearrope-tiny", "llama-bf16-sharded-tiny", "mistral-tiny",
                                           "qwen2-tiny", "qwen3-tiny", "gemma-tiny", "gemma2-tiny",
                                           "gemma3_text-tiny", "gemma3-multimodal-tiny", "phi3-tiny"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

// bfloat16 runs the same code with rounded weights: close to float32, not bit-equal.
TEST(GoldenDtypes, Bfloat16TracksFloat32) {
  SKIP_WITHOUT_SHARED();
  const std::string dir = fixtures::fixture_dir("llama-tiny");
  auto golden = fixtures::read_golden(dir);
  const at::Tensor ref = golden.at("logits");
  const at::Tensor got = fixtures::load_model(dir, at::kBFloat16)->forward(golden.at("input_ids"));
  const double rel = ((got - ref).norm() / ref.norm()).item<double>();
  EXPECT_LT(rel, 0.05) << "bf16 logits drift too far from float32";
  EXPECT_GT(rel, 0.0) << "bf16 must actually run in bf16";
}

TEST(Stories260K, GreedyFromBosAndZooMatchLlama2c) {
  SKIP_WITHOUT_SHARED();
  const std::string dir = fixtures::model_dir("stories260K-hf");
  const auto model = fixtures::load_model(dir);
  std::ifstream in(std::filesystem::path(dir) / "expected.json");
  const auto expected = nlohmann::json::parse(in);
  for (const auto& c : expected["cases"]) {
    const auto prompt = c["prompt_ids"].get<std::vector<int64_t>>();
    const auto want = c["generated_ids"].get<std::vector<int64_t>>();
    const int64_t steps = c["steps"].get<int64_t>() - static_cast<int64_t>(prompt.size()) + 1;
    const auto ids = cascade::greedy_generate(*model, prompt, steps, /*stop_id=*/1);
    const std::vector<int64_t> generated(ids.begin() + static_cast<long>(prompt.size()), ids.end());
    EXPECT_EQ(generated, want) << c["name"];
  }
}

}  // namespace
