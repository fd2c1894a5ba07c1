#pragma once
// SPEC §7 baselines at an equal budget: every method as a function of one layer's data, the axes
// they are scored on, and compare_methods, which runs them all on a RunRecord (with the model for
// the methods and axes that need its attention).
//
// Every select_* returns a sorted set of exactly r tokens (r clamped to 1..T) that contains token
// 0; scores are ranked with ties going to the earlier token.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "core/methods.h"
#include "core/model.h"
#include "core/progress.h"
#include "core/run_record.h"
#include "core/selection.h"

namespace cascade {

// ---- one layer's attention, reduced to what the attention methods read (O(T) each) ----------
// Of one block's exact attention: k [H, T, hd] (GQA: expanded to the query heads), probs [H, T, T].
struct AttentionStats {
  std::vector<double> received;         // Σ_h Σ_{i ≥ j} A^h_ij (h2o)
  std::vector<double> window_received;  // Σ_h Σ_{i ≥ T − w} A^h_ij, w = snapkv_window(T) (snapkv, before pooling)
  std::vector<double> last_query;       // Σ_h A^h_{T−1, j} (tova)
  std::vector<double> key_norm;         // mean_h ‖k^h_j‖ (knorm)
  std::vector<double> key_cos_to_mean;  // mean_h cos(k^h_j, mean_t k^h_t) (keydiff)
};
AttentionStats attention_stats(const at::Tensor& k, const at::Tensor& probs);
int64_t snapkv_window(int64_t T);  // min(32, ⌈T/4⌉)

// ---- the methods ------------------------------------------------------------------------------
// The fixed tokens first (token 0 and the method's forced ones), then the best `r − |fixed|` of the
// rest by score (higher_is_better or lower), ties to the earlier token. Sorted result.
TokenSet fill_by_score(int64_t T, int64_t r, const TokenSet& fixed, const std::vector<double>& score, bool higher_is_better);

TokenSet select_random(int64_t T, int64_t r, uint64_t seed);  // token 0 + r−1 uniform from 1..T−1
TokenSet select_recency(int64_t T, int64_t r);                // token 0 + the last r−1
TokenSet select_streaming_llm(int64_t T, int64_t r);          // the first min(4, r) + the last r−4
TokenSet select_h2o(const std::vector<double>& received, int64_t r);        // 0, the last ⌊r/2⌋, the most received
TokenSet select_snapkv(const std::vector<double>& window_received, int64_t r);  // 0, the window, the pooled best
TokenSet select_tova(const std::vector<double>& last_query, int64_t r);
TokenSet select_knorm(const std::vector<double>& key_norm, int64_t r);       // smallest key norms
TokenSet select_keydiff(const std::vector<double>& key_cos_to_mean, int64_t r);  // lowest cos to the mean key
std::vector<double> max_pool(const std::vector<double>& x, int64_t width);  // centred, clipped at the ends

// Ridge leverage x̂_jᵀ (X̂ᵀX̂ + λI)⁻¹ x̂_j with λ = 1e-3 · trace(X̂ᵀX̂) / d, in float64. xhat [T, d].
std::vector<double> ridge_leverage(const at::Tensor& xhat);
TokenSet select_leverage(const at::Tensor& xhat, int64_t r);

// Spherical k-means on rows 1..T−1 of X̂ with k = r − 1 (k-means++ seeding from `seed`, at most 50
// Lloyd iterations or until no assignment changes, an empty cluster re-seeded with the row farthest
// from its centroid), and the set {0} ∪ the medoids (the member with the highest cosine to its
// centroid).
struct KMeansResult {
  TokenSet set;
  std::vector<int64_t> assignment;  // cluster of rows 1..T−1 (index t−1), in 0..k−1
  std::vector<int64_t> medoids;     // per cluster: its medoid token
  std::vector<double> objective;    // Σ_t (1 − cos(x_t, c_{a(t)})) after each iteration's update
  int64_t iterations = 0;
};
KMeansResult spherical_kmeans(const at::Tensor& xhat, int64_t r, uint64_t seed, int64_t max_iterations = 50);

// ---- element-level attention (top-k, top-theta) ----------------------------------------------
// scores: [H, T, T] pre-softmax (scaled, soft-capped) with the block's causal/window mask as −inf.
// top-k: per query the k largest scores (ties to the earlier key). top-theta: per head h the
// elements ≥ theta[h]; a row with none keeps its largest. Both return the boolean keep-mask.
at::Tensor top_k_mask(const at::Tensor& scores, int64_t k);
at::Tensor top_theta_mask(const at::Tensor& scores, const std::vector<double>& theta);
// Per head: the mean over the rows with at least k visible keys of each row's k-th largest score
// (−∞ when no row has k: everything is kept).
std::vector<double> calibrate_top_theta(const at::Tensor& scores, int64_t k);

// ---- the axes ---------------------------------------------------------------------------------
// coverage = mean_t max_{s∈S} |cos(x_t, x_s)|; covered = the fraction with that max ≥ θ.
struct Coverage {
  double coverage = 0, covered = 0;
};
Coverage coverage_of(const at::Tensor& xhat, const TokenSet& set, double theta, int64_t tile = kDefaultTile);
// SPEC §5 error of one block's ADA attention with `set` as representatives and `nearest` as the
// copy map, against the exact output probs·v: the mean over heads of ‖ADA − exact‖_F / ‖exact‖_F.
// ADA among the set is the exact probabilities renormalised over the set's keys (the same
// softmax restricted to those keys). probs [H, T, T], v [H, T, hd].
double set_attention_error(const at::Tensor& probs, const at::Tensor& v, const TokenSet& set,
                           const std::vector<int64_t>& nearest);
// Per head ‖ADA − exact‖_F / ‖exact‖_F of two [H, T, hd] attention outputs (SPEC §5), in float64.
std::vector<double> per_head_relative_error(const at::Tensor& ada, const at::Tensor& exact);
// The same for an element keep-mask [H, T, T] (softmax over the kept scores).
double mask_attention_error(const at::Tensor& probs, const at::Tensor& v, const at::Tensor& keep);

// Selection MACs (multiply-accumulates) of each method at one layer, the documented cost model:
// independent T²d, cascade its gram_macs; leverage T·d² + d³/3 + T·d²; kmeans iterations·T·k·d;
// attention reductions H·T(T+1)/2 (h2o), H·w·T (snapkv), H·T (tova), H·T·d_h (knorm), 2·H·T·d_h (keydiff);
// 0 for random, recency, streaming-llm and inherit-only.
int64_t selection_macs(Method m, int64_t T, int64_t d, int64_t H, int64_t head_dim, int64_t r, int64_t iterations = 0);

// ---- everything on a run ------------------------------------------------------------------------
struct CompareRequest {
  std::vector<Method> methods = all_methods();
  Budget budget;
  bool quality = false;  // end-to-end ppl/kl with each method's sets in every block (needs the model)
  uint64_t seed = 0;
  uint64_t document = 0;
};

// Every requested method at every analysed layer of `analysis` (a τ of `record`), at the budget.
// `model` may be null (an activation file or a session without the model): the methods and axes
// that need attention are then left out and say "needs the model". Needs record.has_activations().
// With quality: one ADA forward pass per method, plus one exact pass. Throws UsageError when the
// record has no activations, or quality without the model or without every block analysed.
Comparison compare_methods(const RunRecord& record, const Analysis& analysis, const CausalLM* model,
                           const CompareRequest& request, const JobControl& control = {});

// The planner that runs `method` in every block of an ADA forward pass, each set chosen on that
// block's residual of the pass itself (attention methods: on its exact attention) at budget[block]
// tokens. Element methods use top_k / top-theta with theta[block][head] (top-theta only).
std::unique_ptr<AttentionPlanner> make_method_planner(Method method, const std::vector<int64_t>& budget, double tau,
                                                      Rule rule, NearestRule nearest, uint64_t seed, uint64_t document,
                                                      std::vector<std::vector<double>> theta = {});

}  // namespace cascade
