#include "core/synthetic.h"

#include <ATen/ATen.h>

#include <cmath>
#include <random>

#include "core/errors.h"

namespace cascade {

namespace {

const char* const kWords[] = {"the",  "cat",   "sat",   "on",    "mat",  "a",     "dog",  "ran",
                              "to",   "park",  "and",   "then",  "it",   "was",   "warm", "sun",
                              "over", "hill",  "we",    "saw",   "blue", "river", "of",   "light",
                              "in",   "quiet", "north", "field", "by",   "stone", "old",  "road"};
constexpr int64_t kWordCount = sizeof(kWords) / sizeof(kWords[0]);

// Unit vector plus `step` of fresh Gaussian direction, renormalised: a slow random walk on the sphere.
void drift(std::vector<float>& v, double step, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0.0, 1.0 / std::sqrt(static_cast<double>(v.size())));
  double norm = 0;
  for (float& x : v) {
    x = static_cast<float>(x + step * normal(rng));
    norm += static_cast<double>(x) * x;
  }
  norm = std::sqrt(norm);
  for (float& x : v) x = static_cast<float>(x / norm);
}

}  // namespace

ActivationSet make_synthetic(const SyntheticSpec& spec) {
  if (spec.layers < 1 || spec.tokens < 1 || spec.dim < 1 || spec.clusters < 1)
    throw UsageError("synthetic: layers, tokens, dim and clusters must be >= 1");
  const int64_t L = spec.layers, T = spec.tokens, d = spec.dim, K = std::min(spec.clusters, spec.tokens);
  std::mt19937_64 rng(spec.seed);
  std::uniform_int_distribution<int64_t> pick_cluster(0, K - 1);
  std::uniform_real_distribution<double> pick_scale(0.6, 1.4);

  std::vector<std::vector<float>> centre(K, std::vector<float>(d, 0.0f)), noise(T, std::vector<float>(d, 0.0f));
  for (auto& c : centre) drift(c, 1.0, rng);
  for (auto& n : noise) drift(n, 1.0, rng);
  std::vector<int64_t> cluster(T);
  std::vector<double> scale(T);
  for (int64_t t = 0; t < T; ++t) {
    cluster[t] = t < K ? t : pick_cluster(rng);  // every cluster appears at least once
    scale[t] = pick_scale(rng);
  }

  ActivationSet acts;
  acts.hidden = at::empty({L, T, d}, at::kFloat);
  float* out = acts.hidden.data_ptr<float>();
  for (int64_t l = 0; l < L; ++l) {
    // Noise profile over depth: low in the middle third (most redundancy), high at both ends.
    const double phase = L > 1 ? static_cast<double>(l) / static_cast<double>(L - 1) : 0.5;
    const double level = spec.noise_low + (spec.noise_high - spec.noise_low) * std::pow(2.0 * phase - 1.0, 2.0);
    for (int64_t t = 0; t < T; ++t) {
      const auto& c = centre[cluster[t]];
      const auto& n = noise[t];
      const double sigma = level * scale[t];
      for (int64_t k = 0; k < d; ++k) out[(l * T + t) * d + k] = static_cast<float>(c[k] + sigma * n[k]);
    }
    for (auto& c : centre) drift(c, spec.drift, rng);
    for (auto& n : noise) drift(n, 2.0 * spec.drift, rng);
  }
  for (int64_t t = 0; t < T; ++t) acts.tokens.push_back(kWords[cluster[t] % kWordCount]);
  for (int64_t l = 0; l < L; ++l) acts.layer_ids.push_back(l);
  acts.source = "synthetic(seed=" + std::to_string(spec.seed) + ")";
  return acts;
}

}  // namespace cascade
