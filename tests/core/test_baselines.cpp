// SPEC §7 baselines against brute-force references written here from the SPEC alone: explicit
// causal softmax attention and its reductions in double, explicit key norms and cosines, a dense
// Gaussian-elimination ridge solve for leverage, explicit k-means checks, a χ² test of the random
// sampler, and plain loops for the axes (coverage, covered, attention error) and the element-level
// masks (top-k, top-theta). Every input is seeded; the whole suite runs in a few seconds.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "core/baselines.h"
#include "core/errors.h"
#include "core/methods.h"

using namespace cascade;

namespace {

using Vec = std::vector<double>;
using Mat = std::vector<Vec>;   // [T][n]
using Mat3 = std::vector<Mat>;  // [H][T][n]
const double kInf = std::numeric_limits<double>::infinity();

// ---- deterministic random numbers (splitmix64; no library distribution, so fully portable) ----
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed) {}
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double normal() {
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  int64_t below(int64_t n) { return static_cast<int64_t>(next() % static_cast<uint64_t>(n)); }
};

// ---- tensors ⇄ nested vectors (values rounded to float32 on the way in, so the reference sees
// exactly the numbers the implementation sees) --------------------------------------------------
at::Tensor tensor2(const Mat& m) {
  const int64_t T = static_cast<int64_t>(m.size()), n = T ? static_cast<int64_t>(m[0].size()) : 0;
  at::Tensor t = at::empty({T, n}, at::kFloat);
  float* p = t.data_ptr<float>();
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = 0; j < n; ++j) p[i * n + j] = static_cast<float>(m[i][j]);
  return t;
}
at::Tensor tensor3(const Mat3& m) {
  const int64_t H = static_cast<int64_t>(m.size()), T = static_cast<int64_t>(m[0].size()),
                n = static_cast<int64_t>(m[0][0].size());
  at::Tensor t = at::empty({H, T, n}, at::kFloat);
  float* p = t.data_ptr<float>();
  for (int64_t h = 0; h < H; ++h)
    for (int64_t i = 0; i < T; ++i)
      for (int64_t j = 0; j < n; ++j) p[(h * T + i) * n + j] = static_cast<float>(m[h][i][j]);
  return t;
}
Mat3 round3(const Mat3& m) {  // what tensor3 stores, back in double
  Mat3 out = m;
  for (auto& a : out)
    for (auto& b : a)
      for (double& v : b) v = static_cast<double>(static_cast<float>(v));
  return out;
}
Mat round2(const Mat& m) {
  Mat out = m;
  for (auto& b : out)
    for (double& v : b) v = static_cast<double>(static_cast<float>(v));
  return out;
}
std::vector<std::vector<std::vector<bool>>> mask3(const at::Tensor& keep) {
  at::Tensor c = keep.to(at::kBool).contiguous();
  const int64_t H = c.size(0), T = c.size(1), S = c.size(2);
  const bool* p = c.data_ptr<bool>();
  std::vector<std::vector<std::vector<bool>>> out(H, std::vector<std::vector<bool>>(T, std::vector<bool>(S)));
  for (int64_t h = 0; h < H; ++h)
    for (int64_t i = 0; i < T; ++i)
      for (int64_t j = 0; j < S; ++j) out[h][i][j] = p[(h * T + i) * S + j];
  return out;
}

Mat random_mat(int64_t T, int64_t n, Rng& rng, double scale = 1.0) {
  Mat m(T, Vec(n));
  for (auto& row : m)
    for (double& v : row) v = scale * rng.normal();
  return m;
}
Mat3 random3(int64_t H, int64_t T, int64_t n, Rng& rng, double scale = 1.0) {
  Mat3 m(H);
  for (auto& a : m) a = random_mat(T, n, rng, scale);
  return m;
}
double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}
double norm(const Vec& a) { return std::sqrt(dot(a, a)); }
Mat normalize(const Mat& x) {
  Mat out = x;
  for (auto& row : out) {
    const double n = norm(row);
    for (double& v : row) v = n < 1e-12 ? 0.0 : v / n;
  }
  return out;
}

// ---- explicit causal attention ------------------------------------------------------------------
// probs[h][i][j] = softmax_j≤i (q_i · k_j / √hd); 0 for j > i.
Mat3 causal_probs(const Mat3& q, const Mat3& k) {
  const size_t H = q.size(), T = q[0].size(), hd = q[0][0].size();
  Mat3 p(H, Mat(T, Vec(T, 0.0)));
  for (size_t h = 0; h < H; ++h)
    for (size_t i = 0; i < T; ++i) {
      Vec s(i + 1);
      double mx = -kInf;
      for (size_t j = 0; j <= i; ++j) {
        double acc = 0;
        for (size_t c = 0; c < hd; ++c) acc += q[h][i][c] * k[h][j][c];
        s[j] = acc / std::sqrt(static_cast<double>(hd));
        mx = std::max(mx, s[j]);
      }
      double z = 0;
      for (size_t j = 0; j <= i; ++j) z += std::exp(s[j] - mx);
      for (size_t j = 0; j <= i; ++j) p[h][i][j] = std::exp(s[j] - mx) / z;
    }
  return p;
}

int64_t ref_window(int64_t T) { return std::min<int64_t>(32, (T + 3) / 4); }

struct RefStats {
  Vec received, window_received, last_query, key_norm, key_cos_to_mean;
};
RefStats ref_stats(const Mat3& k, const Mat3& p) {
  const int64_t H = static_cast<int64_t>(k.size()), T = static_cast<int64_t>(k[0].size());
  const int64_t hd = static_cast<int64_t>(k[0][0].size());
  const int64_t w = ref_window(T);
  RefStats r;
  r.received.assign(T, 0);
  r.window_received.assign(T, 0);
  r.last_query.assign(T, 0);
  r.key_norm.assign(T, 0);
  r.key_cos_to_mean.assign(T, 0);
  for (int64_t h = 0; h < H; ++h) {
    Vec mean(hd, 0.0);
    for (int64_t t = 0; t < T; ++t)
      for (int64_t c = 0; c < hd; ++c) mean[c] += k[h][t][c] / T;
    for (int64_t j = 0; j < T; ++j) {
      for (int64_t i = j; i < T; ++i) r.received[j] += p[h][i][j];
      for (int64_t i = T - w; i < T; ++i) r.window_received[j] += p[h][i][j];
      r.last_query[j] += p[h][T - 1][j];
      r.key_norm[j] += norm(k[h][j]) / H;
      r.key_cos_to_mean[j] += dot(k[h][j], mean) / (norm(k[h][j]) * norm(mean)) / H;
    }
  }
  return r;
}

// ---- the reference selections -----------------------------------------------------------------
int64_t clamp_r(int64_t r, int64_t T) { return std::clamp<int64_t>(r, 1, T); }

// fixed (token 0 + forced), then the best of the rest by score, ties to the earlier token.
TokenSet ref_fill(int64_t T, int64_t r, const TokenSet& fixed, const Vec& score, bool higher) {
  r = clamp_r(r, T);
  std::vector<bool> in(T, false);
  in[0] = true;
  for (int64_t t : fixed) in[t] = true;
  std::vector<int64_t> rest;
  for (int64_t t = 0; t < T; ++t)
    if (!in[t]) rest.push_back(t);
  std::stable_sort(rest.begin(), rest.end(), [&](int64_t a, int64_t b) {
    return higher ? score[a] > score[b] : score[a] < score[b];
  });
  int64_t have = std::count(in.begin(), in.end(), true);
  for (size_t i = 0; i < rest.size() && have < r; ++i, ++have) in[rest[i]] = true;
  TokenSet out;
  for (int64_t t = 0; t < T; ++t)
    if (in[t]) out.push_back(t);
  return out;
}
TokenSet last_tokens(int64_t T, int64_t n) {
  TokenSet s;
  for (int64_t t = std::max<int64_t>(0, T - n); t < T; ++t) s.push_back(t);
  return s;
}
TokenSet ref_recency(int64_t T, int64_t r) {
  r = clamp_r(r, T);
  TokenSet s = last_tokens(T, r - 1);
  s.insert(s.begin(), 0);
  s.erase(std::unique(s.begin(), s.end()), s.end());
  return s;
}
TokenSet ref_streaming(int64_t T, int64_t r) {
  r = clamp_r(r, T);
  TokenSet s;
  for (int64_t t = 0; t < std::min<int64_t>(4, r); ++t) s.push_back(t);
  for (int64_t t : last_tokens(T, std::max<int64_t>(0, r - 4))) s.push_back(t);
  std::sort(s.begin(), s.end());
  s.erase(std::unique(s.begin(), s.end()), s.end());
  return s;
}
TokenSet ref_h2o(const Vec& received, int64_t r) {
  const int64_t T = static_cast<int64_t>(received.size());
  r = clamp_r(r, T);
  return ref_fill(T, r, last_tokens(T, r / 2), received, true);
}
Vec ref_max_pool(const Vec& x, int64_t width) {
  const int64_t T = static_cast<int64_t>(x.size()), half = width / 2;
  Vec y(T, -kInf);
  for (int64_t j = 0; j < T; ++j)
    for (int64_t i = std::max<int64_t>(0, j - half); i <= std::min<int64_t>(T - 1, j + half); ++i) y[j] = std::max(y[j], x[i]);
  return y;
}
TokenSet ref_snapkv(const Vec& window_received, int64_t r) {
  const int64_t T = static_cast<int64_t>(window_received.size());
  r = clamp_r(r, T);
  const int64_t forced = std::min<int64_t>(ref_window(T), r - 1);
  return ref_fill(T, r, last_tokens(T, forced), ref_max_pool(window_received, 5), true);
}
TokenSet ref_best(const Vec& score, int64_t r, bool higher) {
  return ref_fill(static_cast<int64_t>(score.size()), r, {}, score, higher);
}

// True when a selected and a non-selected candidate have scores that differ, but by less than eps
// (relative): a float32 implementation may then legitimately order them the other way.
bool near_tie(const TokenSet& set, const TokenSet& fixed, const Vec& score, double eps) {
  const int64_t T = static_cast<int64_t>(score.size());
  std::vector<bool> in(T, false), fx(T, false);
  for (int64_t t : set) in[t] = true;
  fx[0] = true;
  for (int64_t t : fixed) fx[t] = true;
  for (int64_t a = 0; a < T; ++a) {
    if (!in[a] || fx[a]) continue;
    for (int64_t b = 0; b < T; ++b) {
      if (in[b] || fx[b]) continue;
      const double d = std::abs(score[a] - score[b]);
      if (d > 0 && d < eps * (1.0 + std::abs(score[a]))) return true;
    }
  }
  return false;
}

void expect_valid_set(const TokenSet& s, int64_t T, int64_t r, const std::string& what) {
  const int64_t want = clamp_r(r, T);
  ASSERT_EQ(static_cast<int64_t>(s.size()), want) << what << " T=" << T << " r=" << r;
  ASSERT_FALSE(s.empty()) << what;
  EXPECT_EQ(s[0], 0) << what << " T=" << T << " r=" << r;
  for (size_t i = 0; i < s.size(); ++i) {
    EXPECT_GE(s[i], 0) << what;
    EXPECT_LT(s[i], T) << what;
    if (i) {
      EXPECT_LT(s[i - 1], s[i]) << what << ": not strictly sorted";
    }
  }
}

std::vector<int64_t> budgets(int64_t T) {  // r = 1, 2, 3, 4, 5, T/2, T−1, T within 1..T
  std::set<int64_t> s;
  for (int64_t r : {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{4}, int64_t{5}, T / 2, T - 1, T})
    if (r >= 1 && r <= T) s.insert(r);
  return {s.begin(), s.end()};
}

const int64_t kTs[] = {1, 2, 5, 17, 64, 200};

// Random q, k, v [H, T, hd], with some key rows duplicated (ties in key norm and cosine). The
// query scale sharpens the attention, so the received attention spreads over several decades.
struct AttnCase {
  Mat3 q, k, v, p;  // k, v rounded to float32; p computed in double from them, then rounded
  at::Tensor kt, vt, pt;
};
AttnCase attn_case(int64_t H, int64_t T, int64_t hd, uint64_t seed, bool duplicates) {
  Rng rng(seed);
  AttnCase c;
  c.q = round3(random3(H, T, hd, rng, 2.0));
  c.k = random3(H, T, hd, rng);
  c.v = round3(random3(H, T, hd, rng));
  if (duplicates && T >= 6)
    for (int64_t h = 0; h < H; ++h) {
      // Short keys at 1 (and its copy 3) and at 2 (and its copy T−2): the two smallest key norms
      // tie pairwise, so knorm at r = 2 and r = 4 must break a tie (to 1, then to 2).
      for (double& x : c.k[h][1]) x *= 0.01;
      for (double& x : c.k[h][2]) x *= 0.1;
      c.k[h][T - 2] = c.k[h][2];
      c.k[h][3] = c.k[h][1];
    }
  c.k = round3(c.k);
  c.p = round3(causal_probs(c.q, c.k));
  c.kt = tensor3(c.k);
  c.vt = tensor3(c.v);
  c.pt = tensor3(c.p);
  return c;
}

// Token 0 + r − 1 distinct random tokens of 1..T−1, sorted (the test's own sets for the axes).
TokenSet random_set(int64_t T, int64_t r, Rng& rng) {
  std::vector<int64_t> rest;
  for (int64_t t = 1; t < T; ++t) rest.push_back(t);
  for (size_t i = 0; i < rest.size(); ++i) std::swap(rest[i], rest[i + rng.below(static_cast<int64_t>(rest.size() - i))]);
  TokenSet s = {0};
  for (int64_t i = 0; i < r - 1 && i < static_cast<int64_t>(rest.size()); ++i) s.push_back(rest[i]);
  std::sort(s.begin(), s.end());
  return s;
}

// A score vector with many exact ties (a few distinct values, also negative ones).
Vec tied_scores(int64_t T, Rng& rng, int levels) {
  Vec s(T);
  for (double& v : s) v = static_cast<double>(rng.below(levels)) * 0.25 - 0.5;
  return s;
}

}  // namespace

// ======================================================================================================
// attention_stats against explicit loops
// ======================================================================================================

TEST(BaselinesAttentionStats, SnapKvWindow) {
  for (int64_t T = 1; T <= 300; ++T) EXPECT_EQ(snapkv_window(T), std::min<int64_t>(32, (T + 3) / 4)) << "T=" << T;
  EXPECT_EQ(snapkv_window(4), 1);
  EXPECT_EQ(snapkv_window(5), 2);
  EXPECT_EQ(snapkv_window(128), 32);
  EXPECT_EQ(snapkv_window(129), 32);
}

TEST(BaselinesAttentionStats, MatchesExplicitLoops) {
  for (int64_t T : kTs)
    for (bool dup : {false, true}) {
      const int64_t H = 3, hd = 8;
      AttnCase c = attn_case(H, T, hd, 1000 + T + (dup ? 7 : 0), dup);
      const RefStats ref = ref_stats(c.k, c.p);
      const AttentionStats got = attention_stats(c.kt, c.pt);
      const std::string tag = "T=" + std::to_string(T) + (dup ? " dup" : "");
      ASSERT_EQ(static_cast<int64_t>(got.received.size()), T) << tag;
      ASSERT_EQ(static_cast<int64_t>(got.window_received.size()), T) << tag;
      ASSERT_EQ(static_cast<int64_t>(got.last_query.size()), T) << tag;
      ASSERT_EQ(static_cast<int64_t>(got.key_norm.size()), T) << tag;
      ASSERT_EQ(static_cast<int64_t>(got.key_cos_to_mean.size()), T) << tag;
      auto tol = [](double x) { return 3e-5 * std::max(1.0, std::abs(x)) + 1e-6; };
      for (int64_t j = 0; j < T; ++j) {
        EXPECT_NEAR(got.received[j], ref.received[j], tol(ref.received[j])) << tag << " j=" << j;
        EXPECT_NEAR(got.window_received[j], ref.window_received[j], tol(ref.window_received[j])) << tag << " j=" << j;
        EXPECT_NEAR(got.last_query[j], ref.last_query[j], tol(ref.last_query[j])) << tag << " j=" << j;
        EXPECT_NEAR(got.key_norm[j], ref.key_norm[j], 1e-5 * ref.key_norm[j]) << tag << " j=" << j;
        EXPECT_NEAR(got.key_cos_to_mean[j], ref.key_cos_to_mean[j], 2e-5) << tag << " j=" << j;
      }
      // Sanity of the reference itself: each query row sums to 1 per head, so Σ_j received = H·T,
      // Σ_j last_query = H, Σ_j window_received = H·w.
      const double sr = std::accumulate(ref.received.begin(), ref.received.end(), 0.0);
      const double sl = std::accumulate(ref.last_query.begin(), ref.last_query.end(), 0.0);
      const double sw = std::accumulate(ref.window_received.begin(), ref.window_received.end(), 0.0);
      EXPECT_NEAR(sr, static_cast<double>(H * T), 1e-4 * T);
      EXPECT_NEAR(sl, static_cast<double>(H), 1e-5);
      EXPECT_NEAR(sw, static_cast<double>(H * ref_window(T)), 1e-4 * T);
      if (dup && T >= 6) {
        // Duplicated keys: equal norms and cosines (the tie the selection breaks to the earlier token).
        EXPECT_EQ(got.key_norm[2], got.key_norm[T - 2]) << tag;
        EXPECT_EQ(got.key_norm[1], got.key_norm[3]) << tag;
        EXPECT_EQ(got.key_cos_to_mean[2], got.key_cos_to_mean[T - 2]) << tag;
      }
    }
}

TEST(BaselinesAttentionStats, HandBuiltTwoTokens) {
  // H = 1, T = 2: A = [[1, 0], [0.25, 0.75]]; k0 = (3, 4), k1 = (0, 2); mean key (1.5, 3).
  at::Tensor k = at::tensor({3.0f, 4.0f, 0.0f, 2.0f}).reshape({1, 2, 2});
  at::Tensor p = at::tensor({1.0f, 0.0f, 0.25f, 0.75f}).reshape({1, 2, 2});
  const AttentionStats s = attention_stats(k, p);
  EXPECT_NEAR(s.received[0], 1.25, 1e-6);
  EXPECT_NEAR(s.received[1], 0.75, 1e-6);
  // w = min(32, ⌈2/4⌉) = 1: only the last query.
  EXPECT_NEAR(s.window_received[0], 0.25, 1e-6);
  EXPECT_NEAR(s.window_received[1], 0.75, 1e-6);
  EXPECT_NEAR(s.last_query[0], 0.25, 1e-6);
  EXPECT_NEAR(s.last_query[1], 0.75, 1e-6);
  EXPECT_NEAR(s.key_norm[0], 5.0, 1e-6);
  EXPECT_NEAR(s.key_norm[1], 2.0, 1e-6);
  const double mn = std::sqrt(1.5 * 1.5 + 9.0);
  EXPECT_NEAR(s.key_cos_to_mean[0], (4.5 + 12.0) / (5.0 * mn), 1e-6);
  EXPECT_NEAR(s.key_cos_to_mean[1], 6.0 / (2.0 * mn), 1e-6);
}

// ======================================================================================================
// the token-set methods
// ======================================================================================================

TEST(BaselinesSelect, RecencyAndStreamingLlm) {
  for (int64_t T = 1; T <= 40; ++T)
    for (int64_t r = -2; r <= T + 3; ++r) {
      const TokenSet rec = select_recency(T, r);
      const TokenSet sl = select_streaming_llm(T, r);
      expect_valid_set(rec, T, r, "recency");
      expect_valid_set(sl, T, r, "streaming-llm");
      EXPECT_EQ(rec, ref_recency(T, r)) << "recency T=" << T << " r=" << r;
      EXPECT_EQ(sl, ref_streaming(T, r)) << "streaming-llm T=" << T << " r=" << r;
    }
  EXPECT_EQ(select_recency(10, 3), (TokenSet{0, 8, 9}));
  EXPECT_EQ(select_streaming_llm(10, 3), (TokenSet{0, 1, 2}));
  EXPECT_EQ(select_streaming_llm(10, 6), (TokenSet{0, 1, 2, 3, 8, 9}));
}

TEST(BaselinesSelect, MaxPoolCentredClipped) {
  EXPECT_EQ(max_pool({1, 5, 2, 0, 0, 0, 3}, 5), (Vec{5, 5, 5, 5, 3, 3, 3}));
  EXPECT_EQ(max_pool({4}, 5), (Vec{4}));
  EXPECT_EQ(max_pool({1, 2}, 5), (Vec{2, 2}));
  Rng rng(7);
  for (int64_t T : {1, 2, 3, 4, 5, 6, 17, 64})
    for (int64_t width : {1, 3, 5}) {
      Vec x(T);
      for (double& v : x) v = rng.normal();
      EXPECT_EQ(max_pool(x, width), ref_max_pool(x, width)) << "T=" << T << " width=" << width;
    }
}

TEST(BaselinesSelect, FillByScore) {
  const Vec s = {9, 1, 5, 5, 3, 5, 0};
  EXPECT_EQ(fill_by_score(7, 4, {0}, s, true), (TokenSet{0, 2, 3, 5}));
  EXPECT_EQ(fill_by_score(7, 3, {0}, s, true), (TokenSet{0, 2, 3}));   // tie 2, 3, 5 → the earlier
  EXPECT_EQ(fill_by_score(7, 3, {0}, s, false), (TokenSet{0, 1, 6}));
  EXPECT_EQ(fill_by_score(7, 3, {0, 6}, s, true), (TokenSet{0, 2, 6}));
  EXPECT_EQ(fill_by_score(7, 3, {0, 5, 6}, s, true), (TokenSet{0, 5, 6}));
  Rng rng(11);
  for (int64_t T : kTs)
    for (int64_t r : budgets(T))
      for (bool higher : {true, false}) {
        const Vec sc = tied_scores(T, rng, 3);
        TokenSet fixed = {0};
        for (int64_t t : last_tokens(T, std::min<int64_t>(r - 1, 2))) fixed.push_back(t);
        std::sort(fixed.begin(), fixed.end());
        fixed.erase(std::unique(fixed.begin(), fixed.end()), fixed.end());
        const TokenSet got = fill_by_score(T, r, fixed, sc, higher);
        expect_valid_set(got, T, r, "fill_by_score");
        EXPECT_EQ(got, ref_fill(T, r, fixed, sc, higher)) << "T=" << T << " r=" << r << " higher=" << higher;
      }
}

// Every vector method on hand-made score vectors with many exact ties, every T and r (also r
// outside 1..T, which clamps).
TEST(BaselinesSelect, VectorMethodsWithTiesMatchReference) {
  Rng rng(21);
  for (int64_t T : kTs) {
    std::vector<int64_t> rs = budgets(T);
    rs.push_back(0);
    rs.push_back(-3);
    rs.push_back(T + 1);
    rs.push_back(T + 50);
    for (int levels : {2, 4, 1000000})
      for (int64_t r : rs) {
        const Vec s = tied_scores(T, rng, levels);
        const std::string tag = "T=" + std::to_string(T) + " r=" + std::to_string(r) + " levels=" + std::to_string(levels);
        const TokenSet h2o = select_h2o(s, r), snap = select_snapkv(s, r), tova = select_tova(s, r),
                       kn = select_knorm(s, r), kd = select_keydiff(s, r);
        expect_valid_set(h2o, T, r, "h2o " + tag);
        expect_valid_set(snap, T, r, "snapkv " + tag);
        expect_valid_set(tova, T, r, "tova " + tag);
        expect_valid_set(kn, T, r, "knorm " + tag);
        expect_valid_set(kd, T, r, "keydiff " + tag);
        EXPECT_EQ(h2o, ref_h2o(s, r)) << "h2o " << tag;
        EXPECT_EQ(snap, ref_snapkv(s, r)) << "snapkv " << tag;
        EXPECT_EQ(tova, ref_best(s, r, true)) << "tova " << tag;
        EXPECT_EQ(kn, ref_best(s, r, false)) << "knorm " << tag;
        EXPECT_EQ(kd, ref_best(s, r, false)) << "keydiff " << tag;
      }
  }
}

TEST(BaselinesSelect, HandBuiltExamples) {
  // T = 8. h2o r = 4: 0, the last 2 (6, 7), then the most received of 1..5: 3 (ties 3 and 5 → 3).
  const Vec rec = {10, 1, 2, 4, 0, 4, 9, 9};
  EXPECT_EQ(select_h2o(rec, 4), (TokenSet{0, 3, 6, 7}));
  EXPECT_EQ(select_h2o(rec, 1), (TokenSet{0}));
  EXPECT_EQ(select_h2o(rec, 2), (TokenSet{0, 7}));
  EXPECT_EQ(select_h2o(rec, 3), (TokenSet{0, 6, 7}));  // ⌊3/2⌋ = 1 forced (7), then the most received: 6
  // tova: token 0, then the highest; ties to the earlier.
  EXPECT_EQ(select_tova({0, 1, 3, 3, 2}, 3), (TokenSet{0, 2, 3}));
  EXPECT_EQ(select_tova({0, 3, 1, 3, 3}, 3), (TokenSet{0, 1, 3}));
  // knorm / keydiff: the smallest; token 0 is kept even when its score is the worst.
  EXPECT_EQ(select_knorm({100, 2, 1, 2, 5}, 3), (TokenSet{0, 1, 2}));
  EXPECT_EQ(select_keydiff({-1, 0.5, -0.2, 0.5, -0.2}, 3), (TokenSet{0, 2, 4}));
  // snapkv T = 12: w = 3. r = 6: 0, the window 9..11, then pooled best of 1..8.
  //   x = 0 0 0 0 7 0 0 0 0 1 1 1  → pooled 0 0 7 7 7 7 7 1 1 1 1 1 → 2 and 3 (ties → the earlier)
  const Vec x = {0, 0, 0, 0, 7, 0, 0, 0, 0, 1, 1, 1};
  EXPECT_EQ(select_snapkv(x, 6), (TokenSet{0, 2, 3, 9, 10, 11}));
  // r − 1 < w: only the last r − 1 tokens of the window are forced.
  EXPECT_EQ(select_snapkv(x, 3), (TokenSet{0, 10, 11}));
  EXPECT_EQ(select_snapkv(x, 4), (TokenSet{0, 9, 10, 11}));
  EXPECT_EQ(select_snapkv(x, 5), (TokenSet{0, 2, 9, 10, 11}));
}

// The attention methods end to end on explicit attention: attention_stats + select_* against the
// reference statistics + the reference selection. The selection on the implementation's own
// statistics must match the reference exactly; on the double-precision statistics it must match
// unless two scores straddling the cut are within float rounding of each other.
TEST(BaselinesSelect, AttentionMethodsOnExplicitAttention) {
  int checked_exact = 0;
  for (int64_t T : kTs)
    for (bool dup : {false, true}) {
      const int64_t H = 3, hd = 8;
      AttnCase c = attn_case(H, T, hd, 5000 + 3 * T + (dup ? 1 : 0), dup);
      const RefStats ref = ref_stats(c.k, c.p);
      const AttentionStats got = attention_stats(c.kt, c.pt);
      for (int64_t r : budgets(T)) {
        const std::string tag = "T=" + std::to_string(T) + " r=" + std::to_string(r) + (dup ? " dup" : "");
        struct Case {
          const char* name;
          TokenSet got, ref_on_got, ref_on_ref, fixed;
          Vec ref_score;
        };
        const int64_t forced_snap = std::min<int64_t>(ref_window(T), r - 1);
        std::vector<Case> cases = {
            {"h2o", select_h2o(got.received, r), ref_h2o(got.received, r), ref_h2o(ref.received, r),
             last_tokens(T, r / 2), ref.received},
            {"snapkv", select_snapkv(got.window_received, r), ref_snapkv(got.window_received, r),
             ref_snapkv(ref.window_received, r), last_tokens(T, forced_snap), ref_max_pool(ref.window_received, 5)},
            {"tova", select_tova(got.last_query, r), ref_best(got.last_query, r, true), ref_best(ref.last_query, r, true),
             {}, ref.last_query},
            {"knorm", select_knorm(got.key_norm, r), ref_best(got.key_norm, r, false), ref_best(ref.key_norm, r, false),
             {}, ref.key_norm},
            {"keydiff", select_keydiff(got.key_cos_to_mean, r), ref_best(got.key_cos_to_mean, r, false),
             ref_best(ref.key_cos_to_mean, r, false), {}, ref.key_cos_to_mean},
        };
        for (const Case& m : cases) {
          expect_valid_set(m.got, T, r, std::string(m.name) + " " + tag);
          EXPECT_EQ(m.got, m.ref_on_got) << m.name << " on its own stats, " << tag;
          if (!near_tie(m.ref_on_ref, m.fixed, m.ref_score, 1e-4)) {
            EXPECT_EQ(m.got, m.ref_on_ref) << m.name << " vs the double-precision reference, " << tag;
            ++checked_exact;
          }
        }
        if (dup && T >= 6 && r >= 2) {
          // knorm ties between 1 and 3 (and 2 and T−2): whenever exactly one of a tied pair is
          // chosen, it is the earlier.
          const TokenSet kn = select_knorm(got.key_norm, r);
          auto has = [&](int64_t t) { return std::binary_search(kn.begin(), kn.end(), t); };
          if (r == 2) {
            EXPECT_EQ(kn, (TokenSet{0, 1})) << tag;
          }
          if (r == 4) {
            EXPECT_EQ(kn, (TokenSet{0, 1, 2, 3})) << tag;
          }
          if (r == 5) {
            EXPECT_EQ(kn, (TokenSet{0, 1, 2, 3, T - 2})) << tag;
          }
          if (has(1) != has(3)) {
            EXPECT_TRUE(has(1)) << tag;
          }
          if (has(2) != has(T - 2)) {
            EXPECT_TRUE(has(2)) << tag;
          }
        }
      }
    }
  EXPECT_GT(checked_exact, 200);  // the near-tie guard skips only a few cases
}

// ---- leverage ---------------------------------------------------------------------------------------

namespace {
// x̂_jᵀ (X̂ᵀX̂ + λI)⁻¹ x̂_j, λ = 1e-3 · trace(X̂ᵀX̂) / d, by Gaussian elimination with partial pivoting.
Vec ref_leverage(const Mat& x) {
  const size_t T = x.size(), d = x[0].size();
  Mat A(d, Vec(d, 0.0));
  for (size_t a = 0; a < d; ++a)
    for (size_t b = 0; b < d; ++b)
      for (size_t t = 0; t < T; ++t) A[a][b] += x[t][a] * x[t][b];
  double tr = 0;
  for (size_t a = 0; a < d; ++a) tr += A[a][a];
  const double lambda = 1e-3 * tr / static_cast<double>(d);
  for (size_t a = 0; a < d; ++a) A[a][a] += lambda;
  // Solve A Y = Xᵀ (d × T).
  Mat Y(d, Vec(T));
  for (size_t a = 0; a < d; ++a)
    for (size_t t = 0; t < T; ++t) Y[a][t] = x[t][a];
  for (size_t col = 0; col < d; ++col) {
    size_t piv = col;
    for (size_t i = col + 1; i < d; ++i)
      if (std::abs(A[i][col]) > std::abs(A[piv][col])) piv = i;
    std::swap(A[col], A[piv]);
    std::swap(Y[col], Y[piv]);
    for (size_t i = 0; i < d; ++i) {
      if (i == col) continue;
      const double f = A[i][col] / A[col][col];
      if (f == 0) continue;
      for (size_t j = col; j < d; ++j) A[i][j] -= f * A[col][j];
      for (size_t t = 0; t < T; ++t) Y[i][t] -= f * Y[col][t];
    }
  }
  Vec lev(T, 0.0);
  for (size_t t = 0; t < T; ++t)
    for (size_t a = 0; a < d; ++a) lev[t] += x[t][a] * Y[a][t] / A[a][a];
  return lev;
}
}  // namespace

TEST(BaselinesLeverage, RidgeLeverageAgainstGaussianElimination) {
  for (int64_t T : kTs)
    for (int64_t d : {4, 16}) {
      Rng rng(300 + T * 7 + d);
      Mat x = random_mat(T, d, rng);
      if (T >= 8) x[5] = x[2];  // duplicated row
      const Mat xh = round2(normalize(x));
      const Vec ref = ref_leverage(xh);
      const std::vector<double> got = ridge_leverage(tensor2(xh));
      ASSERT_EQ(static_cast<int64_t>(got.size()), T);
      for (int64_t t = 0; t < T; ++t) {
        EXPECT_NEAR(got[t], ref[t], 1e-7 * std::max(1.0, std::abs(ref[t]))) << "T=" << T << " d=" << d << " t=" << t;
        EXPECT_GE(got[t], 0.0);
        EXPECT_LE(got[t], 1.0 + 1e-9);
      }
      // Σ_j leverage = tr(G (G + λI)⁻¹) ≤ min(T, d).
      EXPECT_LE(std::accumulate(got.begin(), got.end(), 0.0), static_cast<double>(std::min(T, d)) + 1e-6);
    }
}

TEST(BaselinesLeverage, HandBuiltOrthogonalRows) {
  // Rows e0, e0, e1 in d = 2: X̂ᵀX̂ = diag(2, 1), λ = 1e-3 · 3 / 2 = 1.5e-3.
  // leverage(e0) = 1 / (2 + λ), leverage(e1) = 1 / (1 + λ).
  const std::vector<double> lev = ridge_leverage(at::tensor({1.0f, 0.0f, 1.0f, 0.0f, 0.0f, 1.0f}).reshape({3, 2}));
  ASSERT_EQ(lev.size(), 3u);
  EXPECT_NEAR(lev[0], 1.0 / 2.0015, 1e-12);
  EXPECT_NEAR(lev[1], 1.0 / 2.0015, 1e-12);
  EXPECT_NEAR(lev[2], 1.0 / 1.0015, 1e-12);
  EXPECT_EQ(select_leverage(at::tensor({1.0f, 0.0f, 1.0f, 0.0f, 0.0f, 1.0f}).reshape({3, 2}), 2), (TokenSet{0, 2}));
}

TEST(BaselinesLeverage, SelectLeverageMatchesReference) {
  int checked_exact = 0;
  for (int64_t T : kTs)
    for (int64_t d : {4, 16}) {
      Rng rng(900 + T * 5 + d);
      Mat x = random_mat(T, d, rng);
      if (T >= 8) x[6] = x[3];  // a tie: the earlier of 3 and 6 goes first
      const Mat xh = round2(normalize(x));
      const at::Tensor xt = tensor2(xh);
      const Vec ref = ref_leverage(xh);
      const std::vector<double> got_lev = ridge_leverage(xt);
      std::vector<int64_t> rs = budgets(T);
      rs.push_back(0);
      rs.push_back(T + 2);
      for (int64_t r : rs) {
        const std::string tag = "T=" + std::to_string(T) + " d=" + std::to_string(d) + " r=" + std::to_string(r);
        const TokenSet got = select_leverage(xt, r);
        expect_valid_set(got, T, r, "leverage " + tag);
        EXPECT_EQ(got, ref_best(got_lev, r, true)) << "leverage on its own scores, " << tag;
        const TokenSet want = ref_best(ref, r, true);
        if (!near_tie(want, {}, ref, 1e-9)) {
          EXPECT_EQ(got, want) << "leverage vs the dense solve, " << tag;
          ++checked_exact;
        }
      }
    }
  EXPECT_GT(checked_exact, 50);
}

// ---- random -------------------------------------------------------------------------------------------

TEST(BaselinesRandom, ValidAndReproducible) {
  for (int64_t T : kTs) {
    std::vector<int64_t> rs = budgets(T);
    rs.push_back(0);
    rs.push_back(T + 3);
    for (int64_t r : rs)
      for (uint64_t seed : {0ull, 1ull, 42ull, 0xFFFFFFFFFFFFFFFFull}) {
        const TokenSet a = select_random(T, r, seed);
        expect_valid_set(a, T, r, "random");
        EXPECT_EQ(a, select_random(T, r, seed)) << "T=" << T << " r=" << r << " seed=" << seed;
      }
  }
  // Different seeds give different sets (almost always: 20 seeds, C(199, 9) sets).
  std::set<TokenSet> distinct;
  for (uint64_t seed = 0; seed < 20; ++seed) distinct.insert(select_random(200, 10, derived_seed(5, 0, seed)));
  EXPECT_GE(distinct.size(), 19u);
}

namespace {
// χ² of the inclusion counts of tokens 1..K over n draws of m tokens without replacement from K.
// The counts are not multinomial: Var = n·p(1−p) with p = m/K and Cov = −n·m(K−m)/(K²(K−1)); on
// the subspace Σ(O−E) = 0 (always true here) the covariance is n·m(K−m)/(K(K−1))·I, so
//   χ² = Σ_j (O_j − E_j)² / (n·m(K−m)/(K(K−1)))  ~  χ²_{K−1}.
double inclusion_chi2(const std::vector<int64_t>& count, int64_t n, int64_t m, int64_t K) {
  const double E = static_cast<double>(n) * m / K;
  const double var = static_cast<double>(n) * m * (K - m) / (static_cast<double>(K) * (K - 1));
  double chi2 = 0;
  for (int64_t j = 1; j <= K; ++j) chi2 += (count[j] - E) * (count[j] - E) / var;
  return chi2;
}
// χ²_8 at p = 0.001: 26.12 (the 99.9% quantile of the χ² distribution with 8 degrees of freedom).
constexpr double kChi2Df8P001 = 26.12;
}  // namespace

TEST(BaselinesRandom, UniformOverTokensChiSquare) {
  const int64_t T = 10, r = 4, n = 20000, K = T - 1, m = r - 1;
  for (int variant = 0; variant < 2; ++variant) {
    std::vector<int64_t> count(T, 0);
    for (int64_t i = 0; i < n; ++i) {
      // The seeds a run uses (derived per layer), and plain consecutive seeds.
      const uint64_t seed = variant == 0 ? derived_seed(2024, 3, i) : static_cast<uint64_t>(i);
      const TokenSet s = select_random(T, r, seed);
      ASSERT_EQ(static_cast<int64_t>(s.size()), r);
      for (int64_t t : s) ++count[t];
    }
    EXPECT_EQ(count[0], n);
    const double chi2 = inclusion_chi2(count, n, m, K);
    EXPECT_LT(chi2, kChi2Df8P001) << "variant " << variant << ": χ² = " << chi2;
  }
  // The bound has teeth: a sampler with modulo bias (4 random bits mapped onto 9 tokens, so
  // tokens 1..7 are twice as likely as 8 and 9 as a first pick) fails it by far.
  Rng rng(99);
  std::vector<int64_t> biased(T, 0);
  for (int64_t i = 0; i < n; ++i) {
    std::set<int64_t> s;
    while (static_cast<int64_t>(s.size()) < m) s.insert(1 + static_cast<int64_t>(rng.next() & 15) % 9);
    for (int64_t t : s) ++biased[t];
  }
  EXPECT_GT(inclusion_chi2(biased, n, m, K), 10 * kChi2Df8P001);
  // And a slightly biased one (token 1 drawn 5% more often as the first pick) fails it too.
  std::vector<int64_t> slight(T, 0);
  for (int64_t i = 0; i < n; ++i) {
    std::set<int64_t> s;
    if (rng.uniform() < 0.05) s.insert(1);
    while (static_cast<int64_t>(s.size()) < m) s.insert(1 + rng.below(9));
    for (int64_t t : s) ++slight[t];
  }
  EXPECT_GT(inclusion_chi2(slight, n, m, K), kChi2Df8P001);
}

// ---- kmeans ---------------------------------------------------------------------------------------

namespace {
// Rows around K random unit centres (relative noise), normalised. Token 0 is a plain random row.
Mat clustered_rows(int64_t T, int64_t d, int64_t K, double noise, Rng& rng) {
  Mat centres = normalize(random_mat(K, d, rng));
  Mat x(T, Vec(d));
  for (int64_t t = 0; t < T; ++t) {
    const Vec& c = centres[rng.below(K)];
    for (int64_t a = 0; a < d; ++a) x[t][a] = c[a] + noise * rng.normal();
  }
  return round2(normalize(x));
}

// Checks every documented property of one k-means result on X̂ (rows already unit norm).
void check_kmeans(const KMeansResult& km, const Mat& xh, int64_t r, int64_t max_iterations, const std::string& tag) {
  const int64_t T = static_cast<int64_t>(xh.size()), d = static_cast<int64_t>(xh[0].size());
  const int64_t rr = clamp_r(r, T), k = rr - 1;
  expect_valid_set(km.set, T, r, "kmeans " + tag);
  ASSERT_EQ(static_cast<int64_t>(km.medoids.size()), k) << tag;
  EXPECT_LE(km.iterations, max_iterations) << tag;
  if (k == 0) return;  // no clusters: the set is {0} (no cluster index exists for an assignment)
  ASSERT_EQ(static_cast<int64_t>(km.assignment.size()), T - 1) << tag;
  EXPECT_EQ(static_cast<int64_t>(km.objective.size()), km.iterations) << tag;
  // The set is {0} ∪ the medoids.
  TokenSet want = km.medoids;
  want.push_back(0);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(km.set, want) << tag;
  // Clusters: every row of 1..T−1 in exactly one of 0..k−1 (sizes sum to T−1), none empty.
  std::vector<std::vector<int64_t>> members(k);
  for (int64_t t = 1; t < T; ++t) {
    const int64_t a = km.assignment[t - 1];
    ASSERT_GE(a, 0) << tag;
    ASSERT_LT(a, k) << tag;
    members[a].push_back(t);
  }
  int64_t total = 0;
  for (const auto& m : members) total += static_cast<int64_t>(m.size());
  EXPECT_EQ(total, T - 1) << tag;
  // Centroids: normalised means of the members.
  Mat cent(k, Vec(d, 0.0));
  for (int64_t c = 0; c < k; ++c) {
    ASSERT_FALSE(members[c].empty()) << tag << ": cluster " << c << " is empty";
    for (int64_t t : members[c])
      for (int64_t a = 0; a < d; ++a) cent[c][a] += xh[t][a];
    const double n = norm(cent[c]);
    for (double& v : cent[c]) v = n < 1e-12 ? 0.0 : v / n;
  }
  double objective = 0;
  for (int64_t c = 0; c < k; ++c) {
    const int64_t med = km.medoids[c];
    EXPECT_EQ(km.assignment[med - 1], c) << tag << ": medoid " << med << " is not a member of cluster " << c;
    // The member with the highest cosine to the centroid (ties to the earlier token).
    int64_t best = -1;
    double best_cos = -kInf, second = -kInf;
    for (int64_t t : members[c]) {
      const double cs = dot(xh[t], cent[c]);
      objective += 1.0 - cs;
      if (cs > best_cos) second = best_cos, best_cos = cs, best = t;
      else second = std::max(second, cs);
    }
    EXPECT_GE(dot(xh[med], cent[c]), best_cos - 1e-5) << tag << ": medoid " << med << " of cluster " << c;
    if (best_cos - second > 1e-5 || best_cos == second) {
      EXPECT_EQ(med, best) << tag << ": cluster " << c;
    }
  }
  // The objective never increases, and its last value is the final clustering's.
  for (size_t i = 1; i < km.objective.size(); ++i)
    EXPECT_LE(km.objective[i], km.objective[i - 1] + 1e-5 * T) << tag << " iteration " << i;
  if (!km.objective.empty()) {
    EXPECT_NEAR(km.objective.back(), objective, 1e-4 * T) << tag;
  }
  // Converged before the cap: no row would move (each row is in a cluster with the highest cosine).
  if (km.iterations < max_iterations) {
    for (int64_t t = 1; t < T; ++t) {
      const double own = dot(xh[t], cent[km.assignment[t - 1]]);
      for (int64_t c = 0; c < k; ++c) EXPECT_GE(own, dot(xh[t], cent[c]) - 1e-5) << tag << " row " << t;
    }
  }
}
}  // namespace

TEST(BaselinesKMeans, PropertiesOnClusteredData) {
  for (int64_t T : kTs)
    for (int64_t K : {3, 12}) {
      Rng rng(4000 + T * 3 + K);
      const Mat xh = clustered_rows(T, 8, K, 0.3, rng);
      const at::Tensor xt = tensor2(xh);
      std::vector<int64_t> rs = budgets(T);
      rs.push_back(0);
      rs.push_back(T + 4);
      for (int64_t r : rs) {
        const std::string tag = "T=" + std::to_string(T) + " K=" + std::to_string(K) + " r=" + std::to_string(r);
        const KMeansResult km = spherical_kmeans(xt, r, 17);
        check_kmeans(km, xh, r, 50, tag);
        // Same seed → the same result.
        const KMeansResult again = spherical_kmeans(xt, r, 17);
        EXPECT_EQ(again.set, km.set) << tag;
        EXPECT_EQ(again.assignment, km.assignment) << tag;
        EXPECT_EQ(again.medoids, km.medoids) << tag;
        EXPECT_EQ(again.objective, km.objective) << tag;
      }
    }
}

TEST(BaselinesKMeans, OneClusterMedoidIsTheMostCentralRow) {
  // k = 1 (r = 2) needs no seeding: one cluster of rows 1..T−1, its medoid the row with the highest
  // cosine to the normalised mean.
  for (int64_t T : {2, 5, 17, 64, 200}) {
    Rng rng(77 + T);
    const Mat xh = clustered_rows(T, 6, 4, 0.5, rng);
    Vec mean(6, 0.0);
    for (int64_t t = 1; t < T; ++t)
      for (int a = 0; a < 6; ++a) mean[a] += xh[t][a];
    int64_t best = 1;
    for (int64_t t = 2; t < T; ++t)
      if (dot(xh[t], mean) > dot(xh[best], mean)) best = t;
    for (uint64_t seed : {1ull, 2ull, 3ull}) {
      const KMeansResult km = spherical_kmeans(tensor2(xh), 2, seed);
      EXPECT_EQ(km.set, (TokenSet{0, best})) << "T=" << T << " seed=" << seed;
      check_kmeans(km, xh, 2, 50, "k=1 T=" + std::to_string(T));
    }
  }
}

TEST(BaselinesKMeans, EveryRowItsOwnCluster) {
  Rng rng(5);
  const Mat xh = round2(normalize(random_mat(17, 8, rng)));
  const KMeansResult km = spherical_kmeans(tensor2(xh), 17, 3);
  TokenSet all(17);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(km.set, all);
  check_kmeans(km, xh, 17, 50, "k=T-1");
}

TEST(BaselinesKMeans, SeedChangesTheSeedingOnManyClusters) {
  // 40 loose clusters, k = 9: k-means++ from different seeds lands in different local optima.
  Rng rng(123);
  const Mat xh = clustered_rows(200, 8, 40, 0.4, rng);
  const at::Tensor xt = tensor2(xh);
  std::set<std::vector<int64_t>> assignments;
  std::set<TokenSet> sets;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    const KMeansResult km = spherical_kmeans(xt, 10, derived_seed(seed, 0, 4));
    check_kmeans(km, xh, 10, 50, "seed " + std::to_string(seed));
    assignments.insert(km.assignment);
    sets.insert(km.set);
  }
  EXPECT_GE(sets.size(), 3u);
  EXPECT_GE(assignments.size(), 3u);
}

TEST(BaselinesKMeans, FewerDistinctRowsThanClusters) {
  // Rows 1..T−1 take only 3 distinct values, k = 7: still 7 non-empty clusters and 7 medoids.
  Rng rng(31);
  const Mat base = round2(normalize(random_mat(3, 5, rng)));
  for (int64_t T : {9, 12, 30})
    for (int64_t r : {5, 8}) {
      Mat xh(T);
      xh[0] = round2(normalize(random_mat(1, 5, rng)))[0];
      for (int64_t t = 1; t < T; ++t) xh[t] = base[rng.below(3)];
      for (uint64_t seed : {1ull, 9ull}) {
        const KMeansResult km = spherical_kmeans(tensor2(xh), r, seed);
        check_kmeans(km, xh, r, 50, "T=" + std::to_string(T) + " r=" + std::to_string(r) + " few distinct");
      }
    }
  // All rows 1..T−1 identical.
  Mat same(10, Vec{0.6, 0.8});
  same[0] = {1.0, 0.0};
  const KMeansResult km = spherical_kmeans(tensor2(same), 5, 4);
  check_kmeans(km, round2(same), 5, 50, "identical rows");
}

TEST(BaselinesKMeans, IterationCap) {
  Rng rng(8);
  const Mat xh = clustered_rows(64, 8, 20, 0.6, rng);
  const KMeansResult km = spherical_kmeans(tensor2(xh), 12, 5, 2);
  check_kmeans(km, xh, 12, 2, "cap 2");
  EXPECT_LE(km.iterations, 2);
}

// ======================================================================================================
// budget, methods, seeds
// ======================================================================================================

TEST(BaselinesBudget, Parse) {
  EXPECT_EQ(parse_budget("cascade").kind, Budget::Kind::Cascade);
  EXPECT_EQ(parse_budget("independent").kind, Budget::Kind::Independent);
  const Budget r = parse_budget("ratio:0.25");
  EXPECT_EQ(r.kind, Budget::Kind::Ratio);
  EXPECT_DOUBLE_EQ(r.ratio, 0.25);
  EXPECT_DOUBLE_EQ(parse_budget("ratio:1").ratio, 1.0);
  const Budget c = parse_budget("count:64");
  EXPECT_EQ(c.kind, Budget::Kind::Count);
  EXPECT_EQ(c.count, 64);
  EXPECT_EQ(parse_budget("count:1").count, 1);
  // Round trip through to_string.
  for (const char* text : {"cascade", "independent", "ratio:0.25", "ratio:1", "count:64", "count:1"}) {
    const Budget b = parse_budget(text);
    const Budget b2 = parse_budget(to_string(b));
    EXPECT_EQ(b2.kind, b.kind) << text;
    EXPECT_DOUBLE_EQ(b2.ratio, b.ratio) << text;
    EXPECT_EQ(b2.count, b.count) << text;
  }
  for (const std::string bad : {"ratio:0", "ratio:2", "ratio:1.5", "ratio:-0.5", "ratio:abc", "ratio:", "count:0",
                                "count:-3", "count:abc", "count:", "count:2.5", "foo", "", "ratio", "count"}) {
    try {
      parse_budget(bad);
      ADD_FAILURE() << "'" << bad << "' was accepted";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << "'" << bad << "': " << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "'" << bad << "' threw a non-UsageError: " << e.what();
    }
  }
}

TEST(BaselinesBudget, Size) {
  const Budget casc = parse_budget("cascade"), ind = parse_budget("independent");
  bool clamped = true;
  EXPECT_EQ(budget_size(casc, 100, 30, 40, &clamped), 40);
  EXPECT_FALSE(clamped);
  clamped = true;
  EXPECT_EQ(budget_size(ind, 100, 30, 40, &clamped), 30);
  EXPECT_FALSE(clamped);
  EXPECT_EQ(budget_size(casc, 100, 30, 40), 40);  // null flag pointer is fine
  // ratio: max(1, round(ratio · T)).
  struct R {
    double ratio;
    int64_t T, want;
  };
  for (const R& c : {R{0.34, 10, 3}, R{0.36, 10, 4}, R{0.26, 10, 3}, R{0.05, 7, 1}, R{0.01, 10, 1}, R{1.0, 7, 7},
                     R{0.5, 1, 1}, R{0.1, 312, 31}, R{0.999, 3, 3}}) {
    Budget b;
    b.kind = Budget::Kind::Ratio;
    b.ratio = c.ratio;
    clamped = true;
    EXPECT_EQ(budget_size(b, c.T, 2, 2, &clamped), c.want) << "ratio " << c.ratio << " T=" << c.T;
    EXPECT_FALSE(clamped) << "ratio " << c.ratio;
    EXPECT_EQ(budget_size(parse_budget("ratio:" + std::to_string(c.ratio)), c.T, 2, 2), c.want) << c.ratio;
  }
  // count: N, clamped to T (the flag set) when N > T.
  const Budget cnt = parse_budget("count:900");
  clamped = false;
  EXPECT_EQ(budget_size(cnt, 312, 5, 6, &clamped), 312);
  EXPECT_TRUE(clamped);
  clamped = true;
  EXPECT_EQ(budget_size(parse_budget("count:312"), 312, 5, 6, &clamped), 312);
  EXPECT_FALSE(clamped);
  clamped = true;
  EXPECT_EQ(budget_size(parse_budget("count:7"), 312, 5, 6, &clamped), 7);
  EXPECT_FALSE(clamped);
  // cascade / independent sizes beyond T clamp too (and below 1 to 1).
  clamped = false;
  EXPECT_EQ(budget_size(casc, 10, 3, 12, &clamped), 10);
  EXPECT_TRUE(clamped);
  EXPECT_EQ(budget_size(ind, 10, 0, 12), 1);
}

TEST(BaselinesMethods, NamesAndParsing) {
  const std::vector<std::string> names = {"independent", "cascade", "random",  "inherit-only", "recency",
                                          "streaming-llm", "h2o",   "snapkv",  "tova",         "knorm",
                                          "keydiff",     "leverage", "kmeans", "top-k",        "top-theta"};
  const std::vector<Method>& all = all_methods();
  ASSERT_EQ(all.size(), names.size());
  const Method order[] = {Method::Independent, Method::Cascade, Method::Random,  Method::InheritOnly, Method::Recency,
                          Method::StreamingLlm, Method::H2o,   Method::SnapKv,  Method::Tova,        Method::KNorm,
                          Method::KeyDiff,     Method::Leverage, Method::KMeans, Method::TopK,      Method::TopTheta};
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(all[i], order[i]) << i;
    EXPECT_EQ(to_string(all[i]), names[i]);
    EXPECT_EQ(parse_method(names[i]), all[i]);
    EXPECT_EQ(is_element_method(all[i]), all[i] == Method::TopK || all[i] == Method::TopTheta) << names[i];
    EXPECT_EQ(own_size(all[i]),
              all[i] == Method::Independent || all[i] == Method::Cascade || all[i] == Method::InheritOnly)
        << names[i];
    const bool attn = all[i] == Method::H2o || all[i] == Method::SnapKv || all[i] == Method::Tova ||
                      all[i] == Method::KNorm || all[i] == Method::KeyDiff || all[i] == Method::TopK ||
                      all[i] == Method::TopTheta;
    EXPECT_EQ(needs_attention(all[i]), attn) << names[i];
    EXPECT_EQ(needs_model(all[i]), attn) << names[i];
  }
  EXPECT_EQ(parse_methods("all"), all);
  EXPECT_EQ(parse_methods("h2o"), (std::vector<Method>{Method::H2o}));
  EXPECT_EQ(parse_methods("tova,h2o,tova,random"), (std::vector<Method>{Method::Tova, Method::H2o, Method::Random}));
  EXPECT_EQ(parse_methods("kmeans,top-k,leverage"), (std::vector<Method>{Method::KMeans, Method::TopK, Method::Leverage}));
  for (const std::string bad : {"bogus", "h2o2", "topk"}) {
    try {
      parse_method(bad);
      ADD_FAILURE() << bad << " accepted";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
  try {
    parse_methods("h2o,wibble,tova");
    ADD_FAILURE() << "wibble accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("wibble"), std::string::npos) << e.what();
  }
}

TEST(BaselinesMethods, DerivedSeed) {
  std::set<uint64_t> seen;
  for (uint64_t run : {0ull, 1ull, 12345ull})
    for (uint64_t doc = 0; doc < 6; ++doc)
      for (int64_t layer = 0; layer < 40; ++layer) {
        const uint64_t s = derived_seed(run, doc, layer);
        EXPECT_EQ(s, derived_seed(run, doc, layer));
        seen.insert(s);
      }
  EXPECT_EQ(seen.size(), 3u * 6u * 40u);  // distinct across run seeds, documents and layers
  EXPECT_NE(derived_seed(1, 2, 3), derived_seed(1, 3, 2));
  EXPECT_NE(derived_seed(1, 0, 0), derived_seed(0, 1, 0));
}

TEST(BaselinesMethods, ResultMeansAndFind) {
  MethodResult m;
  m.layers.resize(3);
  m.layers[0].r = 4;
  m.layers[1].r = 6;
  m.layers[2].r = 11;
  m.layers[0].coverage = 0.5;
  m.layers[2].coverage = 0.9;
  EXPECT_DOUBLE_EQ(m.mean_r(), 7.0);
  ASSERT_TRUE(m.mean(&MethodLayer::coverage).has_value());
  EXPECT_DOUBLE_EQ(*m.mean(&MethodLayer::coverage), 0.7);
  EXPECT_FALSE(m.mean(&MethodLayer::attn_err).has_value());
  Comparison c;
  c.methods.resize(2);
  c.methods[0].method = Method::H2o;
  c.methods[1].method = Method::Tova;
  ASSERT_NE(c.find(Method::Tova), nullptr);
  EXPECT_EQ(c.find(Method::Tova)->method, Method::Tova);
  EXPECT_EQ(c.find(Method::KMeans), nullptr);
}

TEST(BaselinesMethods, SelectionMacsCostModel) {
  const int64_t T = 100, d = 64, H = 4, hd = 16, r = 10;
  EXPECT_EQ(selection_macs(Method::Random, T, d, H, hd, r), 0);
  EXPECT_EQ(selection_macs(Method::Recency, T, d, H, hd, r), 0);
  EXPECT_EQ(selection_macs(Method::StreamingLlm, T, d, H, hd, r), 0);
  EXPECT_EQ(selection_macs(Method::InheritOnly, T, d, H, hd, r), 0);
  EXPECT_EQ(selection_macs(Method::Independent, T, d, H, hd, r), T * T * d);
  // The header documents H·T²/2 for h2o; the causal half with its diagonal is H·T(T+1)/2. SPEC §7
  // fixes no formula, so either count is accepted.
  const int64_t h2o = selection_macs(Method::H2o, T, d, H, hd, r);
  EXPECT_TRUE(h2o == H * T * T / 2 || h2o == H * T * (T + 1) / 2) << h2o;
  EXPECT_EQ(selection_macs(Method::SnapKv, T, d, H, hd, r), H * snapkv_window(T) * T);
  EXPECT_EQ(selection_macs(Method::Tova, T, d, H, hd, r), H * T);
  EXPECT_EQ(selection_macs(Method::KNorm, T, d, H, hd, r), H * T * hd);
  EXPECT_EQ(selection_macs(Method::KeyDiff, T, d, H, hd, r), 2 * H * T * hd);
  const int64_t d3 = 48;  // d³ divisible by 3
  EXPECT_EQ(selection_macs(Method::Leverage, T, d3, H, hd, r), T * d3 * d3 + d3 * d3 * d3 / 3 + T * d3 * d3);
}

// ======================================================================================================
// the axes
// ======================================================================================================

TEST(BaselinesAxes, CoverageAndCoveredAgainstLoops) {
  for (int64_t T : kTs)
    for (int64_t tile : {int64_t{3}, kDefaultTile}) {
      Rng rng(600 + T);
      Mat x = random_mat(T, 6, rng);
      if (T >= 5) {
        x[4] = x[1];  // a duplicate (|cos| = 1)
        x[3] = x[2];  // a negated duplicate (|cos| = 1, cos = −1)
        for (double& v : x[3]) v = -v;
      }
      const Mat xh = round2(normalize(x));
      const at::Tensor xt = tensor2(xh);
      for (int64_t r : budgets(T)) {
        const TokenSet set = random_set(T, r, rng);
        for (double theta : {0.3, 0.6, 0.91}) {
          double cov = 0;
          int64_t covered = 0, near = 0;
          for (int64_t t = 0; t < T; ++t) {
            double best = 0;
            for (int64_t s : set) best = std::max(best, std::abs(dot(xh[t], xh[s])));
            cov += best;
            covered += best >= theta;
            near += std::abs(best - theta) < 1e-5;
          }
          const Coverage got = coverage_of(xt, set, theta, tile);
          EXPECT_NEAR(got.coverage, cov / T, 1e-5) << "T=" << T << " r=" << r << " theta=" << theta;
          EXPECT_NEAR(got.covered, static_cast<double>(covered) / T, static_cast<double>(near) / T + 1e-12)
              << "T=" << T << " r=" << r << " theta=" << theta;
        }
      }
      // Every token in the set: coverage 1, covered 1.
      TokenSet all(T);
      std::iota(all.begin(), all.end(), 0);
      const Coverage full = coverage_of(xt, all, 0.91, tile);
      EXPECT_NEAR(full.coverage, 1.0, 1e-5) << "T=" << T;
      EXPECT_DOUBLE_EQ(full.covered, 1.0) << "T=" << T;
    }
}

TEST(BaselinesAxes, CoverageHandBuilt) {
  // Rows e0, e1, (e0+e1)/√2, −e0 with S = {0}: |cos| = 1, 0, 1/√2, 1.
  const float h = static_cast<float>(1.0 / std::sqrt(2.0));
  const at::Tensor x = at::tensor({1.0f, 0.0f, 0.0f, 1.0f, h, h, -1.0f, 0.0f}).reshape({4, 2});
  const Coverage c = coverage_of(x, {0}, 0.9);
  EXPECT_NEAR(c.coverage, (1.0 + 0.0 + 1.0 / std::sqrt(2.0) + 1.0) / 4.0, 1e-6);
  EXPECT_DOUBLE_EQ(c.covered, 0.5);
  const Coverage c2 = coverage_of(x, {0}, 0.7);
  EXPECT_DOUBLE_EQ(c2.covered, 0.75);
  // A zero row (X̂ keeps it zero) has |cos| 0 with everything, itself included: even the full set
  // covers only the nonzero rows.
  const at::Tensor z = at::tensor({1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f}).reshape({3, 2});
  const Coverage cz = coverage_of(z, {0, 1, 2}, 0.5);
  EXPECT_NEAR(cz.coverage, 2.0 / 3.0, 1e-6);
  EXPECT_NEAR(cz.covered, 2.0 / 3.0, 1e-12);
}

namespace {
// ADA with `set` as representatives: rep rows s renormalise p[s, ·] over the set's keys (causal:
// p[s, s'] = 0 for s' > s), the other rows copy nearest[t]'s row; the mean over heads of the
// relative Frobenius error against probs · v.
double ref_set_error(const Mat3& p, const Mat3& v, const TokenSet& set, const std::vector<int64_t>& nearest) {
  const size_t H = p.size(), T = p[0].size(), hd = v[0][0].size();
  double total = 0;
  for (size_t h = 0; h < H; ++h) {
    Mat exact(T, Vec(hd, 0.0)), rep(T, Vec(hd, 0.0));
    for (size_t i = 0; i < T; ++i)
      for (size_t j = 0; j < T; ++j)
        for (size_t c = 0; c < hd; ++c) exact[i][c] += p[h][i][j] * v[h][j][c];
    for (int64_t s : set) {
      double z = 0;
      for (int64_t s2 : set)
        if (s2 <= s) z += p[h][s][s2];
      for (int64_t s2 : set)
        if (s2 <= s)
          for (size_t c = 0; c < hd; ++c) rep[s][c] += p[h][s][s2] * v[h][s2][c] / z;
    }
    double num = 0, den = 0;
    for (size_t t = 0; t < T; ++t)
      for (size_t c = 0; c < hd; ++c) {
        const double a = rep[nearest[t]][c] - exact[t][c];
        num += a * a;
        den += exact[t][c] * exact[t][c];
      }
    total += std::sqrt(num) / std::sqrt(den);
  }
  return total / H;
}
}  // namespace

TEST(BaselinesAxes, SetAttentionErrorAgainstLoops) {
  for (int64_t T : kTs) {
    const int64_t H = 2, hd = 4;
    AttnCase c = attn_case(H, T, hd, 7000 + T, false);
    Rng rng(70 + T);
    // Every token in the set, each its own nearest: ADA is exact.
    TokenSet all(T);
    std::iota(all.begin(), all.end(), 0);
    EXPECT_NEAR(set_attention_error(c.pt, c.vt, all, all), 0.0, 1e-6) << "T=" << T;
    for (int64_t r : budgets(T)) {
      const TokenSet set = random_set(T, r, rng);
      // A copy map: reps to themselves, every other token to some rep (earlier or later).
      std::vector<int64_t> nearest(T);
      for (int64_t t = 0; t < T; ++t) nearest[t] = set[rng.below(static_cast<int64_t>(set.size()))];
      for (int64_t s : set) nearest[s] = s;
      const double want = ref_set_error(c.p, c.v, set, nearest);
      const double got = set_attention_error(c.pt, c.vt, set, nearest);
      EXPECT_NEAR(got, want, 1e-5 * std::max(1.0, want)) << "T=" << T << " r=" << r;
      // A causal-nearest copy map (the nearest earlier rep: here the latest one ≤ t).
      for (int64_t t = 0, last = 0; t < T; ++t) {
        if (std::binary_search(set.begin(), set.end(), t)) last = t;
        nearest[t] = last;
      }
      EXPECT_NEAR(set_attention_error(c.pt, c.vt, set, nearest), ref_set_error(c.p, c.v, set, nearest),
                  1e-5 * std::max(1.0, want))
          << "causal T=" << T << " r=" << r;
    }
  }
}

// ---- element-level masks -------------------------------------------------------------------------

namespace {
// Scores [H, T, T] with the causal mask as −inf and, optionally, a sliding window of `window`
// keys (also −inf) — so rows have 1..T visible keys. `levels` > 0 quantises the scores (ties).
Mat3 element_scores(int64_t H, int64_t T, int64_t window, int levels, Rng& rng) {
  Mat3 s(H, Mat(T, Vec(T, -kInf)));
  for (int64_t h = 0; h < H; ++h)
    for (int64_t i = 0; i < T; ++i)
      for (int64_t j = 0; j <= i; ++j) {
        if (window > 0 && i - j >= window) continue;
        s[h][i][j] = levels > 0 ? static_cast<double>(rng.below(levels)) * 0.5 - 1.0 : 3.0 * rng.normal();
      }
  return round3(s);
}
std::vector<int64_t> ordered_visible(const Vec& row) {  // visible keys, largest score first, ties earlier
  std::vector<int64_t> js;
  for (int64_t j = 0; j < static_cast<int64_t>(row.size()); ++j)
    if (row[j] > -kInf) js.push_back(j);
  std::stable_sort(js.begin(), js.end(), [&](int64_t a, int64_t b) { return row[a] > row[b]; });
  return js;
}
}  // namespace

TEST(BaselinesElement, TopKMask) {
  for (int64_t T : kTs)
    for (int64_t window : {int64_t{0}, int64_t{7}})
      for (int levels : {0, 3}) {
        Rng rng(800 + T + window + levels);
        const int64_t H = 2;
        const Mat3 s = element_scores(H, T, window, levels, rng);
        const at::Tensor st = tensor3(s);
        for (int64_t k : {int64_t{1}, int64_t{2}, int64_t{5}, T / 2, T, T + 3}) {
          if (k < 1) continue;
          const at::Tensor keep = top_k_mask(st, k);
          ASSERT_EQ(keep.sizes(), st.sizes());
          const auto km = mask3(keep);
          for (int64_t h = 0; h < H; ++h)
            for (int64_t i = 0; i < T; ++i) {
              const std::vector<int64_t> order = ordered_visible(s[h][i]);
              const int64_t n = std::min<int64_t>(k, static_cast<int64_t>(order.size()));
              std::vector<bool> want(T, false);
              for (int64_t a = 0; a < n; ++a) want[order[a]] = true;
              int64_t kept = 0;
              for (int64_t j = 0; j < T; ++j) kept += km[h][i][j];
              EXPECT_EQ(kept, n) << "T=" << T << " window=" << window << " levels=" << levels << " k=" << k << " h=" << h << " i=" << i;
              for (int64_t j = 0; j < T; ++j)
                EXPECT_EQ(km[h][i][j], want[j]) << "T=" << T << " window=" << window << " levels=" << levels << " k=" << k
                                                << " h=" << h << " i=" << i << " j=" << j;
            }
        }
      }
}

TEST(BaselinesElement, TopThetaAndCalibrationAgainstLoops) {
  for (int64_t T : kTs)
    for (int64_t window : {int64_t{0}, int64_t{7}}) {
      Rng rng(850 + T + window);
      const int64_t H = 3;
      const Mat3 s = element_scores(H, T, window, 0, rng);
      const at::Tensor st = tensor3(s);
      for (int64_t k : {int64_t{1}, int64_t{3}, int64_t{8}, T, T + 1}) {
        // calibrate_top_theta: the mean over rows with ≥ k visible keys of the k-th largest.
        std::vector<double> want_theta(H);
        for (int64_t h = 0; h < H; ++h) {
          double sum = 0;
          int64_t rows = 0;
          for (int64_t i = 0; i < T; ++i) {
            std::vector<int64_t> order = ordered_visible(s[h][i]);
            if (static_cast<int64_t>(order.size()) >= k) sum += s[h][i][order[k - 1]], ++rows;
          }
          want_theta[h] = rows ? sum / rows : -kInf;
        }
        const std::vector<double> theta = calibrate_top_theta(st, k);
        ASSERT_EQ(static_cast<int64_t>(theta.size()), H);
        for (int64_t h = 0; h < H; ++h) {
          if (std::isinf(want_theta[h])) {
            EXPECT_TRUE(std::isinf(theta[h]) && theta[h] < 0) << "T=" << T << " k=" << k << " h=" << h << ": " << theta[h];
          } else {
            EXPECT_NEAR(theta[h], want_theta[h], 1e-5 * std::max(1.0, std::abs(want_theta[h]))) << "T=" << T << " k=" << k;
          }
        }
        // top_theta_mask with those thresholds: keep the visible elements ≥ θ_h; a row with none
        // keeps its largest.
        const auto km = mask3(top_theta_mask(st, theta));
        for (int64_t h = 0; h < H; ++h)
          for (int64_t i = 0; i < T; ++i) {
            const std::vector<int64_t> order = ordered_visible(s[h][i]);
            std::vector<bool> want(T, false);
            bool any = false;
            for (int64_t j : order)
              if (s[h][i][j] >= theta[h]) want[j] = true, any = true;
            if (!any) want[order[0]] = true;
            for (int64_t j = 0; j < T; ++j)
              EXPECT_EQ(km[h][i][j], want[j]) << "T=" << T << " k=" << k << " h=" << h << " i=" << i << " j=" << j;
          }
      }
      // θ = −∞ keeps exactly the visible elements; θ = +∞ keeps each row's maximum only.
      const auto all = mask3(top_theta_mask(st, std::vector<double>(H, -kInf)));
      const auto top1 = mask3(top_theta_mask(st, std::vector<double>(H, kInf)));
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < T; ++i) {
          const std::vector<int64_t> order = ordered_visible(s[h][i]);
          for (int64_t j = 0; j < T; ++j) {
            EXPECT_EQ(all[h][i][j], s[h][i][j] > -kInf) << "T=" << T << " i=" << i << " j=" << j;
            EXPECT_EQ(top1[h][i][j], j == order[0]) << "T=" << T << " i=" << i << " j=" << j;
          }
        }
    }
}

TEST(BaselinesElement, CalibrateHandBuilt) {
  // H = 1, T = 3, causal: rows {2}, {1, 4}, {0, 3, 5}. k = 2: rows 1 and 2 → (1 + 3) / 2 = 2.
  const float ni = -std::numeric_limits<float>::infinity();
  const at::Tensor s = at::tensor({2.0f, ni, ni, 1.0f, 4.0f, ni, 0.0f, 3.0f, 5.0f}).reshape({1, 3, 3});
  EXPECT_NEAR(calibrate_top_theta(s, 2)[0], 2.0, 1e-6);
  EXPECT_NEAR(calibrate_top_theta(s, 1)[0], (2.0 + 4.0 + 5.0) / 3.0, 1e-6);
  EXPECT_NEAR(calibrate_top_theta(s, 3)[0], 0.0, 1e-6);
  const double t4 = calibrate_top_theta(s, 4)[0];
  EXPECT_TRUE(std::isinf(t4) && t4 < 0) << t4;
  // θ = 3.5: row 0 has none ≥ θ → keeps its max (0); row 1 keeps 1 (4); row 2 keeps 2 (5).
  const auto m = mask3(top_theta_mask(s, {3.5}));
  EXPECT_EQ(m[0][0], (std::vector<bool>{true, false, false}));
  EXPECT_EQ(m[0][1], (std::vector<bool>{false, true, false}));
  EXPECT_EQ(m[0][2], (std::vector<bool>{false, false, true}));
  // top-k, k = 2 with a tie (row 2: 3, 3, 1 → keys 0 and 1).
  const at::Tensor s2 = at::tensor({2.0f, ni, ni, 1.0f, 1.0f, ni, 3.0f, 3.0f, 3.0f}).reshape({1, 3, 3});
  const auto m2 = mask3(top_k_mask(s2, 2));
  EXPECT_EQ(m2[0][0], (std::vector<bool>{true, false, false}));
  EXPECT_EQ(m2[0][1], (std::vector<bool>{true, true, false}));
  EXPECT_EQ(m2[0][2], (std::vector<bool>{true, true, false}));
}

TEST(BaselinesElement, MaskAttentionErrorAgainstLoops) {
  for (int64_t T : kTs) {
    const int64_t H = 2, hd = 4;
    AttnCase c = attn_case(H, T, hd, 9100 + T, false);
    // Every visible element kept (and also everything, masked ones included): exact.
    Mat3 vis(H, Mat(T, Vec(T, 0.0)));
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < T; ++i)
        for (int64_t j = 0; j <= i; ++j) vis[h][i][j] = 1.0;
    EXPECT_NEAR(mask_attention_error(c.pt, c.vt, tensor3(vis).to(at::kBool)), 0.0, 1e-6) << "T=" << T;
    EXPECT_NEAR(mask_attention_error(c.pt, c.vt, at::ones({H, T, T}, at::kBool)), 0.0, 1e-6) << "T=" << T;
    // A random keep-mask (the diagonal always kept): renormalised probabilities over the kept keys.
    Rng rng(91 + T);
    for (double frac : {0.2, 0.6}) {
      Mat3 keep(H, Mat(T, Vec(T, 0.0)));
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < T; ++i)
          for (int64_t j = 0; j <= i; ++j) keep[h][i][j] = (j == i || rng.uniform() < frac) ? 1.0 : 0.0;
      double want = 0;
      for (int64_t h = 0; h < H; ++h) {
        double num = 0, den = 0;
        for (int64_t i = 0; i < T; ++i) {
          double z = 0;
          for (int64_t j = 0; j <= i; ++j) z += keep[h][i][j] * c.p[h][i][j];
          for (int64_t a = 0; a < hd; ++a) {
            double ex = 0, ap = 0;
            for (int64_t j = 0; j <= i; ++j) {
              ex += c.p[h][i][j] * c.v[h][j][a];
              ap += keep[h][i][j] * c.p[h][i][j] * c.v[h][j][a] / z;
            }
            num += (ap - ex) * (ap - ex);
            den += ex * ex;
          }
        }
        want += std::sqrt(num / den) / H;
      }
      const double got = mask_attention_error(c.pt, c.vt, tensor3(keep).to(at::kBool));
      EXPECT_NEAR(got, want, 1e-5 * std::max(1.0, want)) << "T=" << T << " frac=" << frac;
    }
    // top-k with k = T keeps everything visible: exact; smaller k matches the brute-force rule above.
    Rng rs(5 + T);
    const Mat3 sc = element_scores(H, T, 0, 0, rs);
    EXPECT_NEAR(mask_attention_error(c.pt, c.vt, top_k_mask(tensor3(sc), T)), 0.0, 1e-6) << "T=" << T;
  }
}
