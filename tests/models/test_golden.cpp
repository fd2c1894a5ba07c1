// Every architecture against HF's own numbers (../shared/fixtures/*-tiny, README conventions 1–23),
// and the real trained stories260K Llama against llama2.c's exact greedy output.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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
  // HF hidden_states[0..L-1] are the residual entering each block; [L] has the final norm applied.
  for (int64_t l = 0; l < L; ++l)
    EXPECT_TRUE(fixtures::within_golden_tolerance(obs.residuals.at(l), golden.at("hidden_states." + std::to_string(l))))
        << "hidden_states." << l;
  EXPECT_TRUE(fixtures::within_golden_tolerance(obs.final_norm, golden.at("hidden_states." + std::to_string(L))));
  EXPECT_TRUE(fixtures::within_golden_tolerance(obs.residuals.at(L), golden.at("final_residual")));
  EXPECT_TRUE(fixtures::within_golden_tolerance(logits, golden.at("logits"))) << "logits";
  EXPECT_TRUE(fixtures::within_golden_tolerance(obs.probs, golden.at("attn_probs.1"))) << "attn_probs.1";
  EXPECT_TRUE(fixtures::within_golden_tolerance(obs.q, golden.at("q.1"))) << "q.1";
  EXPECT_TRUE(fixtures::within_golden_tolerance(obs.k, golden.at("k.1"))) << "k.1";
  EXPECT_TRUE(fixtures::within_golden_tolerance(obs.v, golden.at("v.1"))) << "v.1";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Golden,
                         ::testing::Values("gpt2-tiny", "gpt2-tiny-hubnames", "opt-tiny", "gptj-tiny", "gpt_neox-tiny",
                                           "gpt_neox-serial-tiny", "llama-tiny"),
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
