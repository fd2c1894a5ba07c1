// The demo model's GPT-2 training loop: the trainable model agrees with the inference GPT-2 through the
// HF-named export, it learns, a resumed run ends where an uninterrupted one does, cancel is clean.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/errors.h"
#include "core/model.h"
#include "train_demo/train.h"

using namespace cascade;

namespace {

ModelConfig tiny_config(int64_t vocab = 50) { return gpt2_config(vocab, 32, 2, 4, 64, "tiny"); }

std::vector<int64_t> repeating(int64_t n, int64_t period) {
  std::vector<int64_t> ids(n);
  for (int64_t i = 0; i < n; ++i) ids[i] = i % period;
  return ids;
}

// A stream with some structure but not trivially learnable: a seeded pseudo-random walk.
std::vector<int64_t> noisy(int64_t n, int64_t vocab, uint64_t seed) {
  std::vector<int64_t> ids(n);
  uint64_t s = seed;
  int64_t cur = 0;
  for (int64_t i = 0; i < n; ++i) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    cur = (cur + static_cast<int64_t>((s >> 33) % 5)) % vocab;
    ids[i] = cur;
  }
  return ids;
}

std::string temp_path(const std::string& name) {
  const auto p = std::filesystem::temp_directory_path() / ("cascade_test_train_" + name + ".pt");
  std::filesystem::remove(p);
  return p.string();
}

double max_diff(const NamedTensors& a, const NamedTensors& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    worst = std::max(worst, (a[i].second - b[i].second).abs().max().item<double>());
  }
  return worst;
}

TrainConfig small_run(int64_t steps) {
  TrainConfig c;
  c.model = tiny_config();
  c.batch_size = 4;
  c.seq_len = 16;
  c.steps = steps;
  c.warmup_steps = 5;
  c.lr = 3e-3;
  c.eval_every = 10;
  c.eval_batches = 2;
  c.checkpoint_every = 0;
  c.seed = 7;
  return c;
}

}  // namespace

TEST(Train, ExportMatchesInferenceGpt2) {
  const ModelConfig config = tiny_config();
  TrainableGpt2 trainable(config, 3);
  const NamedTensors weights = trainable.export_weights();
  // Exactly HF's names and shapes.
  ASSERT_EQ(weights.size(), 2u + 12u * 2u + 2u);
  EXPECT_EQ(weights[0].first, "transformer.wte.weight");
  for (const auto& [name, t] : weights)
    if (name == "transformer.h.1.attn.c_attn.weight") {
      EXPECT_EQ(t.sizes(), at::IntArrayRef({32, 96}));
    }
  // Perturb the norms and biases so that the whole layout is exercised, not just the init.
  NamedTensors perturbed;
  at::manual_seed(11);
  for (const auto& [name, t] : weights) perturbed.emplace_back(name, t + 0.05 * at::randn(t.sizes()));
  trainable.load_weights(perturbed);

  const auto model = make_model(config, TensorMapWeights(trainable.export_weights()));
  const at::Tensor ids = at::randint(0, config.vocab_size, {40}, at::kLong);
  const at::Tensor expected = model->forward(ids);
  at::NoGradGuard no_grad;
  const at::Tensor got = trainable.forward(ids.unsqueeze(0)).squeeze(0);
  ASSERT_EQ(got.sizes(), expected.sizes());
  EXPECT_LT((got - expected).abs().max().item<double>(), 1e-5);
}

TEST(Train, TensorMapWeightsReportsMissing) {
  TensorMapWeights w({{"a", at::zeros({2})}}, "mem");
  EXPECT_TRUE(w.has("a"));
  EXPECT_FALSE(w.has("b"));
  EXPECT_THROW(w.get("b"), InputError);
  EXPECT_EQ(w.names(), std::vector<std::string>{"a"});
}

TEST(Train, LearnsARepeatingPattern) {
  TrainConfig c = small_run(200);
  c.model = tiny_config(16);
  c.batch_size = 8;
  c.seq_len = 32;
  c.warmup_steps = 20;
  c.eval_every = 50;
  const auto train = repeating(2000, 10), val = repeating(300, 10);
  std::vector<TrainProgress> seen;
  const TrainResult r = train_gpt2(c, train, val, {}, [&](const TrainProgress& p) { seen.push_back(p); });
  ASSERT_EQ(seen.size(), 200u);
  EXPECT_TRUE(std::isnan(seen[0].val_loss));
  EXPECT_FALSE(std::isnan(seen[49].val_loss));
  EXPECT_GT(seen[0].train_loss, 1.5);
  EXPECT_LT(r.train_loss, 0.1);
  EXPECT_LT(r.val_loss, 0.1);
  EXPECT_GT(r.tokens_per_second, 0);
  // Warmup then cosine decay to min_lr_ratio · lr.
  EXPECT_NEAR(seen[0].lr, c.lr / 20, 1e-12);
  EXPECT_NEAR(seen[19].lr, c.lr, 1e-12);
  EXPECT_NEAR(seen[199].lr, c.lr * c.min_lr_ratio, 1e-9);
  // The trained weights run through the inference path and predict the pattern.
  const auto model = make_model(c.model, TensorMapWeights(r.weights));
  const at::Tensor ids = at::arange(3, 33, at::kLong).remainder(10);
  const at::Tensor pred = model->forward(ids).argmax(-1);
  EXPECT_TRUE(pred.narrow(0, 0, 29).equal(ids.narrow(0, 1, 29)));
}

TEST(Train, ResumeGivesTheSameWeights) {
  const auto train = noisy(3000, 50, 1), val = noisy(500, 50, 2);
  TrainConfig c = small_run(40);
  const TrainResult straight = train_gpt2(c, train, val);

  c.checkpoint_path = temp_path("resume");
  c.checkpoint_every = 20;
  std::atomic<bool> cancel{false};
  JobControl control;
  control.cancel = &cancel;
  EXPECT_THROW(train_gpt2(c, train, val, control, [&](const TrainProgress& p) { if (p.step == 20) cancel = true; }),
               Cancelled);
  EXPECT_EQ(checkpoint_step(c.checkpoint_path), 20);
  const TrainResult resumed = train_gpt2(c, train, val);
  EXPECT_EQ(resumed.start_step, 20);
  EXPECT_EQ(resumed.steps, 40);
  EXPECT_LT(max_diff(straight.weights, resumed.weights), 1e-6);
  EXPECT_NEAR(straight.train_loss, resumed.train_loss, 1e-6);
  EXPECT_NEAR(straight.val_loss, resumed.val_loss, 1e-6);
  // The final checkpoint holds the final weights; running again does no more steps.
  EXPECT_EQ(checkpoint_step(c.checkpoint_path), 40);
  EXPECT_LT(max_diff(checkpoint_weights(c.checkpoint_path), straight.weights), 1e-6);
  const TrainResult again = train_gpt2(c, train, val);
  EXPECT_EQ(again.start_step, 40);
  EXPECT_TRUE(std::isnan(again.train_loss));
  std::filesystem::remove(c.checkpoint_path);
}

TEST(Train, CancelLeavesTheLastCheckpointLoadable) {
  const auto train = noisy(3000, 50, 3), val = noisy(500, 50, 4);
  TrainConfig c = small_run(30);
  c.checkpoint_path = temp_path("cancel");
  c.checkpoint_every = 10;
  std::atomic<bool> cancel{false};
  JobControl control;
  control.cancel = &cancel;
  int64_t last_step = 0;
  EXPECT_THROW(train_gpt2(c, train, val, control,
                          [&](const TrainProgress& p) {
                            last_step = p.step;
                            if (p.step == 15) cancel = true;
                          }),
               Cancelled);
  EXPECT_EQ(last_step, 15);
  EXPECT_EQ(checkpoint_step(c.checkpoint_path), 10);
  EXPECT_FALSE(std::filesystem::exists(c.checkpoint_path + ".tmp"));
  const auto model = make_model(c.model, TensorMapWeights(checkpoint_weights(c.checkpoint_path)));
  const at::Tensor logits = model->forward(at::arange(0, 20, at::kLong));
  EXPECT_TRUE(at::isfinite(logits).all().item<bool>());
  std::filesystem::remove(c.checkpoint_path);
}

TEST(Train, RefusesBadInput) {
  TrainConfig c = small_run(5);
  EXPECT_THROW(train_gpt2(c, repeating(10, 5), {}), UsageError);  // shorter than seq_len + 1
  EXPECT_THROW(train_gpt2(c, repeating(100, 60), {}), UsageError);  // ids outside the vocabulary
  c.seq_len = 100;
  EXPECT_THROW(train_gpt2(c, repeating(200, 5), {}), UsageError);  // beyond max_positions
  c = small_run(5);
  c.checkpoint_path = temp_path("mismatch");
  train_gpt2(c, repeating(200, 10), {});
  c.model = gpt2_config(50, 64, 2, 4, 64);
  EXPECT_THROW(train_gpt2(c, repeating(200, 10), {}), InputError);  // checkpoint of another model
  std::filesystem::remove(c.checkpoint_path);
}

// Not run by default: tokens/s of the demo-sized model (6 layers, d=256, ctx 512, vocab 4096) at
// batch 8 × 256. Run with --gtest_also_run_disabled_tests --gtest_filter=*Throughput*.
TEST(Train, DISABLED_Throughput) {
  TrainConfig c;
  c.model = gpt2_config(4096, 256, 6, 8, 512);
  c.batch_size = 8;
  c.seq_len = 256;
  c.steps = 6;
  c.warmup_steps = 2;
  c.eval_every = 0;
  c.eval_batches = 1;
  const auto train = noisy(200000, 4096, 5), val = noisy(5000, 4096, 6);
  const TrainResult r = train_gpt2(c, train, val, {}, [](const TrainProgress& p) {
    std::printf("step %lld loss %.4f tokens/s %.0f\n", static_cast<long long>(p.step), p.train_loss,
                p.tokens_per_second);
  });
  std::printf("demo config: %.0f tokens/s (%.1f s wall for %lld steps)\n", r.tokens_per_second, r.wall_seconds,
              static_cast<long long>(r.steps));
}
