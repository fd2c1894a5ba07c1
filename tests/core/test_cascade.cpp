// Algorithm 1 (one cascade step) against the brute-force reference, and the SPEC §6 counterexample.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <tuple>

#include "brute_force.h"
#include "core/errors.h"
#include "core/selection.h"
#include "core/sets.h"

using namespace cascade;

namespace {

void expect_same_trace(const CascadeTrace& got, const CascadeTrace& ref, const std::string& where) {
  EXPECT_EQ(got.inherited, ref.inherited) << where;
  EXPECT_EQ(got.valid, ref.valid) << where;
  EXPECT_EQ(got.removed, ref.removed) << where;
  EXPECT_EQ(got.added, ref.added) << where;
  EXPECT_EQ(got.result, ref.result) << where;
  EXPECT_EQ(got.gram_entries, ref.gram_entries) << where;
}

// Next layer: the same rows, drifted, so inherited sets are plausible but not exact.
at::Tensor drifted(const at::Tensor& x, double amount, uint64_t seed) {
  at::manual_seed(seed);
  return x.to(at::kFloat) + amount * at::randn(x.sizes()) * x.to(at::kFloat).norm(2, {1}, true) /
                                std::sqrt(static_cast<double>(x.size(1)));
}

}  // namespace

// Parameter (T, d); every case runs each tile size (below and above T) and each dtype.
class CascadeVsBruteForce : public ::testing::TestWithParam<std::tuple<int64_t, int64_t>> {};

TEST_P(CascadeVsBruteForce, TraceMatchesAlgorithm1) {
  const auto [T, d] = GetParam();
  for (const at::ScalarType dtype : {at::kFloat, at::kHalf, at::kBFloat16})
    for (const int64_t tile : {1, 16, 512}) {
      SCOPED_TRACE(::testing::Message() << "tile=" << tile << " dtype=" << c10::toString(dtype));
      const at::Tensor layer0 = bf::clustered(T, d, std::max<int64_t>(1, T / 5), 0.5, 5 + T * 13 + d);
      const at::Tensor layer1 = drifted(layer0, 0.3, 9 + T).to(dtype);
      const bf::Mat x0 = bf::normalize(bf::to_mat(layer0.to(dtype)));
      const bf::Mat x1 = bf::normalize(bf::to_mat(layer1));
      const at::Tensor xhat1 = normalize_rows(layer1);
      int compared = 0;
      for (double tau : {0.1, 0.25, 0.3, 0.5, 0.7}) {
        const double theta = theta_of_tau(tau);
        if (bf::near_tie(x1, theta)) continue;
        ++compared;
        // The inherited set as in real use (previous layer's prior-max set) and an arbitrary subset.
        const TokenSet from_previous = bf::prior_max_reps(x0, theta);
        TokenSet arbitrary;
        for (int64_t t = 0; t < T; t += 3) arbitrary.push_back(t);
        for (const TokenSet& inherited : {from_previous, arbitrary}) {
          const CascadeTrace got = cascade_step(xhat1, inherited, theta, tile);
          expect_same_trace(got, bf::cascade_step(x1, inherited, theta), "tau=" + std::to_string(tau));
          const auto r = static_cast<int64_t>(inherited.size());
          EXPECT_EQ(got.gram_entries, r * r + (T - r) * static_cast<int64_t>(got.valid.size()));
          EXPECT_EQ(set_union(got.valid, got.removed), inherited);
          EXPECT_TRUE(set_intersection(got.added, inherited).empty());
        }
      }
      EXPECT_GE(compared, 3);
    }
}

INSTANTIATE_TEST_SUITE_P(Shapes, CascadeVsBruteForce,
                         ::testing::Combine(::testing::Values<int64_t>(1, 2, 40, 150),
                                            ::testing::Values<int64_t>(3, 32)));

// SPEC §6, verbatim: Proposition 4 (cascade ⊇ independent) fails; the cascade misses token 1.
TEST(Cascade, SpecCounterexampleMissesToken1) {
  const double theta = theta_of_tau(0.3);
  const at::Tensor layer_l = normalize_rows(at::tensor({1.0f, 0.0f, 1.0f, 0.05f, 0.0f, 1.0f}).view({3, 2}));
  const at::Tensor layer_next = normalize_rows(at::tensor({1.0f, 0.0f, 0.3f, 1.0f, 0.25f, 1.0f}).view({3, 2}));
  const TokenSet R = reps_from_gamma(prior_max_scan(layer_l).gamma, theta);
  ASSERT_EQ(R, (TokenSet{0, 2}));
  const TokenSet independent = reps_from_gamma(prior_max_scan(layer_next).gamma, theta);
  ASSERT_EQ(independent, (TokenSet{0, 1}));
  const CascadeTrace step = cascade_step(layer_next, R, theta);
  EXPECT_EQ(step.valid, (TokenSet{0, 2}));
  EXPECT_TRUE(step.removed.empty());
  EXPECT_TRUE(step.added.empty()) << "token 1 is correlated with the later valid rep 2";
  EXPECT_EQ(step.result, (TokenSet{0, 2}));
  EXPECT_EQ(set_difference(independent, step.result), (TokenSet{1}));  // missed
  EXPECT_EQ(step.gram_entries, 2 * 2 + 1 * 2);
}

// Removal: two inherited reps that collapse onto one direction at the next layer.
TEST(Cascade, CollapsedRepsAreRemovedAndNewDirectionsAdded) {
  const double theta = theta_of_tau(0.3);
  const at::Tensor next = normalize_rows(at::tensor({1.0f, 0.0f, 0.0f,   // 0: inherited
                                                     0.0f, 1.0f, 0.0f,   // 1: not inherited, new direction
                                                     1.0f, 0.01f, 0.0f,  // 2: inherited, now ≈ token 0
                                                     0.0f, 0.0f, 1.0f})  // 3: inherited
                                             .view({4, 3}));
  const CascadeTrace step = cascade_step(next, TokenSet{0, 2, 3}, theta);
  EXPECT_EQ(step.valid, (TokenSet{0, 3}));
  EXPECT_EQ(step.removed, (TokenSet{2}));
  EXPECT_EQ(step.added, (TokenSet{1}));
  EXPECT_EQ(step.result, (TokenSet{0, 1, 3}));
  EXPECT_EQ(step.gram_entries, 3 * 3 + 1 * 2);
}

// With greedy-cover sets and an unchanged layer, the cascade reproduces the independent set exactly:
// every valid rep stays (reps are θ-separated) and every other token is covered by a rep.
TEST(Cascade, GreedySetOnUnchangedLayerIsAFixedPoint) {
  const at::Tensor xhat = normalize_rows(bf::clustered(120, 24, 15, 0.5, 4242));
  for (double tau : {0.2, 0.3, 0.5}) {
    const double theta = theta_of_tau(tau);
    const TokenSet reps = greedy_cover(xhat, theta);
    const CascadeTrace step = cascade_step(xhat, reps, theta, 32);
    EXPECT_EQ(step.result, reps) << "tau=" << tau;
    EXPECT_TRUE(step.removed.empty());
    EXPECT_TRUE(step.added.empty());
  }
}

TEST(Cascade, RejectsUnsortedOrOutOfRangeSets) {
  const at::Tensor xhat = normalize_rows(at::randn({5, 3}));
  EXPECT_ANY_THROW(cascade_step(xhat, TokenSet{3, 1}, 0.9));
  EXPECT_ANY_THROW(cascade_step(xhat, TokenSet{0, 5}, 0.9));
}
