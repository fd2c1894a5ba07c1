// bench_baselines: selection time of every SPEC §7 method at one layer, next to the cascade step
// and the independent prior-max scan in the same run (run by hand, never by CTest).
//
//   bench_baselines [--T 2048,8192] [--d 768] [--heads 12] [--reps N] [--threads N]
//
// The layer: clustered unit rows (about T/4 clusters, so the sets are a few hundred to a few
// thousand tokens), a second layer that perturbs them (the cascade step's input), and attention
// from random projections of the rows (q, k, v [H, T, 64], causal softmax). The budget is the
// cascade's r at the second layer. The attention itself is not timed (the model computes it
// anyway); the attention methods' time is the reduction they need (attention_stats) plus the pick.
// Medians of --reps repetitions, every method timed within each repetition (noise hits all).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/baselines.h"
#include "core/selection.h"
#include "core/version.h"

namespace {

using namespace cascade;

double time_ms(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::vector<int64_t> parse_list(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(std::stoll(item));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> Ts{2048, 8192};
  int64_t d = 768, H = 12, hd = 64;
  int reps = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--T") Ts = parse_list(v);
    else if (a == "--d") d = std::stoll(v);
    else if (a == "--heads") H = std::stoll(v);
    else if (a == "--reps") reps = std::stoi(v);
    else if (a == "--threads") at::set_num_threads(std::stoi(v));
    else {
      std::fprintf(stderr, "usage: bench_baselines [--T 2048,8192] [--d 768] [--heads 12] [--reps N] [--threads N]\n");
      return 2;
    }
  }
  std::printf("bench_baselines — Cascade Lens %s, LibTorch %s, %d threads\n\n", version().c_str(), torch_version().c_str(),
              at::get_num_threads());
  at::manual_seed(1);
  const double theta = theta_of_tau(0.3);
  for (const int64_t T : Ts) {
    // Two layers of clustered rows.
    const int64_t K = std::max<int64_t>(T / 4, 1);
    const at::Tensor centres = at::randn({K, d});
    const at::Tensor member = at::randint(K, {T}, at::kLong);
    const at::Tensor x0 = normalize_rows(centres.index_select(0, member) + 0.25 * at::randn({T, d}) / std::sqrt(d) * 4);
    const at::Tensor x1 = normalize_rows(x0 + 0.02 * at::randn({T, d}) / std::sqrt(d));
    const TokenSet r0 = reps_from_gamma(prior_max_scan(x0).gamma, theta);
    const TokenSet casc = cascade_step(x1, r0, theta).result;
    const int64_t r = static_cast<int64_t>(casc.size());
    // Attention of the second layer.
    const at::Tensor wq = at::randn({d, H * hd}) / std::sqrt(d), wk = at::randn({d, H * hd}) / std::sqrt(d);
    const at::Tensor wv = at::randn({d, H * hd}) / std::sqrt(d);
    const auto heads = [&](const at::Tensor& w) { return at::mm(x1 * std::sqrt(d), w).view({T, H, hd}).transpose(0, 1).contiguous(); };
    const at::Tensor q = heads(wq), k = heads(wk), v = heads(wv);
    AttentionShape shape;
    shape.scale = 1.0 / std::sqrt(static_cast<double>(hd));
    const at::Tensor scores = masked_scores(q, k, shape);
    const at::Tensor probs = at::softmax(scores, -1);
    (void)v;

    std::vector<std::pair<std::string, std::function<void()>>> methods = {
        {"independent (prior-max scan + set)", [&] { reps_from_gamma(prior_max_scan(x1).gamma, theta); }},
        {"cascade step", [&] { cascade_step(x1, r0, theta); }},
        {"random", [&] { select_random(T, r, 7); }},
        {"recency", [&] { select_recency(T, r); }},
        {"streaming-llm", [&] { select_streaming_llm(T, r); }},
        {"attention_stats (shared by the next five)", [&] { attention_stats(k, probs); }},
        {"h2o", [&] { select_h2o(attention_stats(k, probs).received, r); }},
        {"snapkv", [&] { select_snapkv(attention_stats(k, probs).window_received, r); }},
        {"tova", [&] { select_tova(attention_stats(k, probs).last_query, r); }},
        {"knorm", [&] { select_knorm(attention_stats(k, probs).key_norm, r); }},
        {"keydiff", [&] { select_keydiff(attention_stats(k, probs).key_cos_to_mean, r); }},
        {"leverage", [&] { select_leverage(x1, r); }},
        {"kmeans", [&] { spherical_kmeans(x1, r, 7); }},
        {"top-k (mask)", [&] { top_k_mask(scores, r); }},
        {"top-theta (calibrate + mask)", [&] { top_theta_mask(scores, calibrate_top_theta(scores, r)); }},
    };
    std::map<std::string, std::vector<double>> ms;
    for (int rep = 0; rep < reps; ++rep)
      for (auto& [name, f] : methods) ms[name].push_back(time_ms(f));
    const KMeansResult km = spherical_kmeans(x1, r, 7);
    const double scan = median(ms[methods[0].first]);
    std::printf("### T = %lld, d = %lld, H = %lld, budget r = %lld (the cascade's), %d reps (median)\n\n",
                static_cast<long long>(T), static_cast<long long>(d), static_cast<long long>(H),
                static_cast<long long>(r), reps);
    std::printf("| method | selection ms | vs the independent scan | selection MACs (cost model) |\n|---|---:|---:|---:|\n");
    const std::map<std::string, Method> method_of = {
        {"random", Method::Random},   {"recency", Method::Recency}, {"streaming-llm", Method::StreamingLlm},
        {"h2o", Method::H2o},         {"snapkv", Method::SnapKv},   {"tova", Method::Tova},
        {"knorm", Method::KNorm},     {"keydiff", Method::KeyDiff}, {"leverage", Method::Leverage},
        {"kmeans", Method::KMeans},   {"top-k (mask)", Method::TopK}, {"top-theta (calibrate + mask)", Method::TopTheta},
        {"independent (prior-max scan + set)", Method::Independent}};
    for (auto& [name, f] : methods) {
      const double m = median(ms[name]);
      std::string macs = "-";
      if (name == "cascade step") macs = std::to_string(cascade_gram_entries(T, static_cast<int64_t>(r0.size()),
                                                                            static_cast<int64_t>(cascade_step(x1, r0, theta).valid.size())) * d);
      else if (auto it = method_of.find(name); it != method_of.end())
        macs = std::to_string(selection_macs(it->second, T, d, H, hd, r, km.iterations));
      std::printf("| %s | %.2f | %.3f× | %s |\n", name.c_str(), m, m / scan, macs.c_str());
    }
    std::printf("\nkmeans: %lld Lloyd iterations\n\n", static_cast<long long>(km.iterations));
    std::fflush(stdout);
  }
  return 0;
}
