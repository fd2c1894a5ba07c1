// ADA attention inside the forward pass (SPEC §5) on the real trained Llama and a GPT-2 fixture.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "core/engine.h"
#include "core/errors.h"
#include "shared_fixtures.h"

using namespace cascade;

namespace {

// The model's own greedy story from BOS, keeping the first occurrence of each id: real tokens, but no
// two identical layer-0 states (Llama's embeddings carry no position), so a tiny τ keeps them all.
std::vector<int64_t> distinct_story_ids(const CausalLM& model) {
  std::vector<int64_t> out;
  for (int64_t id : greedy_generate(model, {1}, 119))
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  return out;
}

}  // namespace

TEST(Ada, EveryTokenARepresentativeEqualsExact) {
  SKIP_WITHOUT_SHARED();
  // Mistral, Gemma 2/3 and Phi-3 add sliding windows, soft-capping, two RoPE tables and partial rotary.
  for (const std::string name : {"gpt2-tiny", "llama-tiny", "gpt_neox-tiny", "mistral-tiny", "gemma2-tiny",
                                 "gemma3_text-tiny", "phi3-tiny"}) {
    const std::string dir = fixtures::fixture_dir(name);
    const auto model = fixtures::load_model(dir);
    // Distinct ids, so no two hidden states coincide and a tiny τ keeps every token.
    const at::Tensor ids = at::arange(20, at::kLong);
    const at::Tensor exact = model->forward(ids);
    for (AttentionMode mode : {AttentionMode::AdaIndependent, AttentionMode::AdaCascade})
      for (NearestRule nearest : {NearestRule::Paper, NearestRule::CausalNearest}) {
        // τ = 1e-4: θ = 1 − 1e-8, so only exact duplicates would be redundant; there are none.
        const auto planner = make_planner(mode, 1e-4, Rule::PriorMax, nearest);
        const at::Tensor ada = model->forward(ids, nullptr, planner.get());
        EXPECT_TRUE(at::allclose(ada, exact, 1e-5, 1e-5)) << name << " " << to_string(mode);
      }
  }
}

TEST(Ada, PerplexityRisesWithTauAndErrorsAreReported) {
  SKIP_WITHOUT_SHARED();
  const auto model = fixtures::load_model(fixtures::model_dir("stories260K-hf"));
  RunRequest request;
  request.ids = distinct_story_ids(*model);
  ASSERT_GT(request.ids.size(), 40u);
  request.quality = true;
  request.nearest = NearestRule::CausalNearest;
  for (AttentionMode mode : {AttentionMode::AdaCascade, AttentionMode::AdaIndependent}) {
    request.attention = mode;
    std::vector<double> ppl;
    for (double tau : {0.01, 0.45, 0.6, 0.8}) {
      request.tau = tau;
      const cascade::RunRecord run = run_model(*model, request);
      ASSERT_TRUE(run.quality.has_value());
      ASSERT_EQ(run.quality->attention_error.size(), 5u);
      EXPECT_EQ(run.quality->attention_error[2].size(), 8u);  // one per head
      if (tau == 0.01) {  // every token a representative: ADA is exact attention
        EXPECT_NEAR(run.quality->ppl_ada, run.quality->ppl_exact, 1e-9 * run.quality->ppl_exact);
        EXPECT_NEAR(run.quality->mean_kl, 0.0, 1e-12);
        EXPECT_EQ(run.quality->attention_error[4][0], 0.0);
      }
      ppl.push_back(run.quality->ppl_ada);
    }
    for (size_t i = 1; i < ppl.size(); ++i) EXPECT_LT(ppl[i - 1], ppl[i]) << to_string(mode) << " step " << i;
  }
}

TEST(Ada, RunRecordsResidualsAndAnalysis) {
  SKIP_WITHOUT_SHARED();
  const std::string dir = fixtures::fixture_dir("gpt2-tiny");
  const auto model = fixtures::load_model(dir);
  auto golden = fixtures::read_golden(dir);
  const at::Tensor ids_t = golden.at("input_ids");
  RunRequest request;
  request.ids.assign(ids_t.data_ptr<int64_t>(), ids_t.data_ptr<int64_t>() + ids_t.numel());
  EXPECT_EQ(run_model(*model, request).capture, nullptr);  // the forward's tensors only when asked
  request.keep_capture = true;
  const cascade::RunRecord run = run_model(*model, request);
  ASSERT_NE(run.capture, nullptr);
  ASSERT_EQ(run.capture->activations.num_layers(), 3);
  EXPECT_TRUE(fixtures::within_golden_tolerance(run.capture->activations.hidden[2], golden.at("hidden_states.2")));
  EXPECT_EQ(run.analysis.L(), 3);
  EXPECT_EQ(run.analysis.T, 20);
  ASSERT_EQ(run.num_layers(), 3);
  EXPECT_EQ(run.prior_max_of(1).gamma.size(), 20u);
  EXPECT_EQ(reps_from_gamma(run.prior_max_of(2).gamma, theta_of_tau(0.3)), run.analysis.layers[2].reps_ind);
  EXPECT_THROW(run_model(*model, RunRequest{}), UsageError);
}

TEST(Ada, NearestRepresentativeRules) {
  // Tokens 0 and 2 are reps; token 1 is closest to 2 (later) but causal-nearest must pick 0.
  const at::Tensor xhat = normalize_rows(at::tensor({1.0f, 0.0f, 0.1f, 1.0f, 0.0f, 1.0f}).view({3, 2}));
  EXPECT_EQ(nearest_representative(xhat, {0, 2}, NearestRule::Paper), (std::vector<int64_t>{0, 2, 2}));
  EXPECT_EQ(nearest_representative(xhat, {0, 2}, NearestRule::CausalNearest), (std::vector<int64_t>{0, 0, 2}));
}
