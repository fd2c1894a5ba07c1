// The fast selection paths against the brute-force reference, on many shapes, tiles and dtypes.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <tuple>

#include "brute_force.h"
#include "core/errors.h"
#include "core/selection.h"

using namespace cascade;

namespace {

const double kTaus[] = {0.02, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 0.95};
const at::ScalarType kDtypes[] = {at::kFloat, at::kHalf, at::kBFloat16};

at::Tensor as_dtype(const at::Tensor& x, at::ScalarType st) { return x.to(st); }

}  // namespace

TEST(NormalizeRows, UnitRowsZeroRowsAndExtremeScales) {
  at::Tensor x = at::randn({6, 5});
  x[1].zero_();
  x[2] = x[2] * 1e30;   // squared norm overflows float32 without pre-scaling
  x[3] = x[3] * 1e-25;  // squared norm underflows; true norm ~1e-25 < 1e-12 → stays zero
  x[4] = x[4] * 1e-10;  // true norm ~1e-10 ≥ 1e-12 → normalised
  at::Tensor y = normalize_rows(x);
  ASSERT_EQ(y.scalar_type(), at::kFloat);
  for (int t : {0, 2, 4, 5}) EXPECT_NEAR(y[t].norm().item<double>(), 1.0, 1e-6) << "row " << t;
  EXPECT_EQ(y[1].abs().sum().item<double>(), 0.0);
  EXPECT_EQ(y[3].abs().sum().item<double>(), 0.0);
  EXPECT_TRUE(at::isfinite(y).all().item<bool>());
  // Same direction as the input.
  EXPECT_NEAR((y[2] * x[0 + 2].sign()).sum().item<double>() / y[2].abs().sum().item<double>(), 1.0, 1e-6);
}

TEST(ThetaOfTau, DefinitionAndRange) {
  EXPECT_DOUBLE_EQ(theta_of_tau(0.3), 0.91);
  EXPECT_DOUBLE_EQ(theta_of_tau(0.0), 1.0);
  EXPECT_DOUBLE_EQ(theta_of_tau(1.0), 0.0);
  EXPECT_THROW(theta_of_tau(-0.1), UsageError);
  EXPECT_THROW(theta_of_tau(1.5), UsageError);
  EXPECT_THROW(theta_of_tau(std::nan("")), UsageError);
  EXPECT_EQ(parse_rule("greedy-cover"), Rule::GreedyCover);
  EXPECT_THROW(parse_rule("max"), UsageError);
}

// (T, d, tile, dtype)
// Parameter (T, d); every case runs each tile size (below and above T) and each dtype.
class PriorMaxVsBruteForce : public ::testing::TestWithParam<std::tuple<int64_t, int64_t>> {};

TEST_P(PriorMaxVsBruteForce, GammaPartnerAndSets) {
  const auto [T, d] = GetParam();
  for (const at::ScalarType dtype : kDtypes)
    for (const int64_t tile : {1, 7, 64, 512}) {
      SCOPED_TRACE(::testing::Message() << "tile=" << tile << " dtype=" << c10::toString(dtype));
      const at::Tensor x = as_dtype(bf::clustered(T, d, std::max<int64_t>(1, T / 5), 0.5, 1000 + T * 7 + d), dtype);
      const bf::Mat ref_xhat = bf::normalize(bf::to_mat(x));
      const bf::PriorMax ref = bf::prior_max(ref_xhat);
      const PriorMax got = prior_max_scan(normalize_rows(x), tile);
      ASSERT_EQ(static_cast<int64_t>(got.gamma.size()), T);
      EXPECT_TRUE(std::isinf(got.gamma[0]) && got.gamma[0] < 0);
      EXPECT_EQ(got.partner[0], -1);
      for (int64_t t = 1; t < T; ++t) {
        EXPECT_NEAR(got.gamma[t], ref.gamma[t], 2e-6) << "t=" << t;
        ASSERT_GE(got.partner[t], 0);
        ASSERT_LT(got.partner[t], t) << "partner must be an earlier token";
        // The partner attains the max (ties may pick another index with the same cosine).
        EXPECT_NEAR(bf::abs_cos(ref_xhat, t, got.partner[t]), ref.gamma[t], 2e-6) << "t=" << t;
      }
      int compared = 0;
      for (double tau : kTaus) {
        const double theta = theta_of_tau(tau);
        if (bf::near_tie(ref_xhat, theta)) continue;
        EXPECT_EQ(reps_from_gamma(got.gamma, theta), bf::prior_max_reps(ref_xhat, theta)) << "tau=" << tau;
        ++compared;
      }
      EXPECT_GE(compared, 4) << "too many near-ties: the comparison proved little";
    }
}

INSTANTIATE_TEST_SUITE_P(Shapes, PriorMaxVsBruteForce,
                         ::testing::Combine(::testing::Values<int64_t>(1, 2, 3, 17, 64, 130),
                                            ::testing::Values<int64_t>(1, 3, 24, 80)));

class GreedyVsBruteForce : public ::testing::TestWithParam<std::tuple<int64_t, int64_t>> {};

TEST_P(GreedyVsBruteForce, SameSetAndCoverProperties) {
  const auto [T, d] = GetParam();
  for (const at::ScalarType dtype : kDtypes)
    for (const int64_t tile : {1, 8, 256}) {
      SCOPED_TRACE(::testing::Message() << "tile=" << tile << " dtype=" << c10::toString(dtype));
      const at::Tensor x = as_dtype(bf::clustered(T, d, std::max<int64_t>(1, T / 6), 0.6, 77 + T + d * 3), dtype);
      const bf::Mat ref_xhat = bf::normalize(bf::to_mat(x));
      const at::Tensor xhat = normalize_rows(x);
      int compared = 0;
      for (double tau : kTaus) {
        const double theta = theta_of_tau(tau);
        if (bf::near_tie(ref_xhat, theta)) continue;
        ++compared;
        const TokenSet got = greedy_cover(xhat, theta, tile);
        ASSERT_EQ(got, bf::greedy_cover(ref_xhat, theta)) << "tau=" << tau;
        // §2.5: a maximal τ-separated set — reps pairwise below θ, every other token within θ of a rep.
        for (size_t i = 0; i < got.size(); ++i)
          for (size_t j = 0; j < i; ++j) EXPECT_LT(bf::abs_cos(ref_xhat, got[i], got[j]), theta);
        for (int64_t t = 0; t < T; ++t) {
          if (std::binary_search(got.begin(), got.end(), t)) continue;
          double best = 0;
          for (int64_t s : got) best = std::max(best, bf::abs_cos(ref_xhat, t, s));
          EXPECT_GE(best, theta) << "token " << t << " is not covered";
        }
      }
      EXPECT_GE(compared, 4);
    }
}

INSTANTIATE_TEST_SUITE_P(Shapes, GreedyVsBruteForce,
                         ::testing::Combine(::testing::Values<int64_t>(1, 2, 29, 100),
                                            ::testing::Values<int64_t>(2, 16, 64)));

// SPEC §2: prior-max does not guarantee cover; greedy-cover does. A chain a → b → c at 20° steps.
TEST(Rules, PriorMaxChainLeavesATokenUncoveredGreedyDoesNot) {
  const double pi = std::acos(-1.0);
  auto row = [&](double deg) {
    return std::vector<float>{float(std::cos(deg * pi / 180)), float(std::sin(deg * pi / 180))};
  };
  std::vector<float> flat;
  for (double deg : {0.0, 20.0, 40.0}) {
    auto r = row(deg);
    flat.insert(flat.end(), r.begin(), r.end());
  }
  const at::Tensor xhat = normalize_rows(at::tensor(flat).view({3, 2}));
  const double theta = theta_of_tau(0.3);  // 0.91: cos 20° = 0.94 ≥ θ, cos 40° = 0.77 < θ
  const PriorMax pm = prior_max_scan(xhat);
  EXPECT_EQ(reps_from_gamma(pm.gamma, theta), (TokenSet{0}));
  EXPECT_EQ(pm.partner[2], 1);  // c is redundant because of b, which is itself redundant
  EXPECT_EQ(greedy_cover(xhat, theta), (TokenSet{0, 2}));
}

TEST(EdgeCases, SingleTokenIdenticalRowsZeroRowsExtremeTau) {
  // T = 1: the only token is representative under every rule and τ.
  const at::Tensor one = normalize_rows(at::randn({1, 8}));
  for (double tau : {0.0, 0.3, 1.0}) {
    EXPECT_EQ(reps_from_gamma(prior_max_scan(one).gamma, theta_of_tau(tau)), (TokenSet{0}));
    EXPECT_EQ(greedy_cover(one, theta_of_tau(tau)), (TokenSet{0}));
  }
  // Identical rows: only the first is representative for any τ > 0 that is not a near tie at 1.
  const at::Tensor same = normalize_rows(at::randn({1, 16}).repeat({9, 1}));
  for (double tau : {0.01, 0.3, 0.99}) {
    EXPECT_EQ(reps_from_gamma(prior_max_scan(same, 4).gamma, theta_of_tau(tau)), (TokenSet{0}));
    EXPECT_EQ(greedy_cover(same, theta_of_tau(tau), 4), (TokenSet{0}));
  }
  // All-zero rows: cosines are 0, so every token is representative (θ > 0).
  const at::Tensor zeros = normalize_rows(at::zeros({5, 4}));
  EXPECT_EQ(reps_from_gamma(prior_max_scan(zeros, 2).gamma, theta_of_tau(0.9)), (TokenSet{0, 1, 2, 3, 4}));
  EXPECT_EQ(greedy_cover(zeros, theta_of_tau(0.9), 2), (TokenSet{0, 1, 2, 3, 4}));
  // τ → 0 (θ → 1): distinct random directions are all representative.
  const at::Tensor rnd = normalize_rows(at::randn({50, 32}));
  EXPECT_EQ(reps_from_gamma(prior_max_scan(rnd).gamma, theta_of_tau(1e-4)).size(), 50u);
  // τ = 1 (θ = 0): nothing has |cos| < 0, so only token 0 survives.
  EXPECT_EQ(reps_from_gamma(prior_max_scan(rnd).gamma, theta_of_tau(1.0)), (TokenSet{0}));
  EXPECT_EQ(greedy_cover(rnd, theta_of_tau(1.0)), (TokenSet{0}));
}

TEST(EdgeCases, EmptyInputAndBadTile) {
  EXPECT_TRUE(prior_max_scan(at::zeros({0, 4})).gamma.empty());
  EXPECT_TRUE(greedy_cover(at::zeros({0, 4}), 0.5).empty());
  EXPECT_THROW(prior_max_scan(at::zeros({3, 4}), 0), UsageError);
}

TEST(Cancellation, ScanStopsBetweenTiles) {
  std::atomic<bool> cancel{true};
  JobControl control;
  control.cancel = &cancel;
  EXPECT_THROW(prior_max_scan(normalize_rows(at::randn({100, 8})), 16, control), Cancelled);
  EXPECT_THROW(greedy_cover(normalize_rows(at::randn({100, 8})), 0.5, 16, control), Cancelled);
}
