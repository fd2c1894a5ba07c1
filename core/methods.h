#pragma once
// SPEC §7 baselines: the method names, the budget, and the result of comparing methods at an equal
// budget. Torch-free data (the GUI's views, the session file and the CLI share it); the methods
// themselves are in core/baselines.h.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cascade {

using TokenList = std::vector<int64_t>;  // a sorted token set (core/selection.h's TokenSet)

// Token-set methods (each returns exactly r_l tokens at layer l, token 0 among them) and the two
// element-level attention variants (top-k, top-theta: keys per query, no token set). Names are
// SPEC's, lower-case, in files and the CLI.
enum class Method {
  Independent, Cascade, Random, InheritOnly, Recency, StreamingLlm, H2o, SnapKv, Tova, KNorm, KeyDiff, Leverage,
  KMeans, TopK, TopTheta
};
std::string to_string(Method m);
Method parse_method(const std::string& name);  // UsageError "unknown method 'x' (expected ...)"
const std::vector<Method>& all_methods();      // in the order above (the order of tables and views)
std::string method_names();                   // "independent, cascade, …, top-theta"
bool is_element_method(Method m);              // top-k, top-theta
bool needs_attention(Method m);                // h2o, snapkv, tova, knorm, keydiff (and the element methods)
bool needs_model(Method m);                    // needs_attention
bool own_size(Method m);                       // independent, cascade, inherit-only keep their own sizes
// "all" or a comma list of names (repeats removed, order kept). UsageError naming an unknown one.
std::vector<Method> parse_methods(const std::string& list);

// The per-layer budget r_l (SPEC §7).
struct Budget {
  enum class Kind { Cascade, Independent, Ratio, Count } kind = Kind::Cascade;
  double ratio = 0;   // Kind::Ratio: r_l = max(1, round(ratio · T))
  int64_t count = 0;  // Kind::Count
  bool operator==(const Budget&) const = default;
};
// cascade | independent | ratio:R (0 < R <= 1) | count:N (N >= 1). UsageError naming the text.
Budget parse_budget(const std::string& text);
std::string to_string(const Budget& b);
// r_l at one layer, clamped to 1..T; *clamped is set when the budget asked for more than T.
int64_t budget_size(const Budget& b, int64_t T, int64_t r_ind, int64_t r_casc, bool* clamped = nullptr);

// One method at one analysed layer. An axis that cannot be measured is nullopt and `why` says why
// ("needs the model", ...).
struct MethodLayer {
  int64_t layer = 0;             // absolute layer id (SPEC §1)
  int64_t r = 0;                 // the set's size (the budget, or the method's own size)
  std::optional<TokenList> set;  // sorted; none for element methods and for methods that could not run
  std::optional<double> coverage, covered, attn_err;
  std::optional<double> selection_ms;  // measured time of the selection at this layer
  std::optional<int64_t> selection_macs;
  std::string why;  // why an axis is missing, "" when every axis was measured
};

struct MethodResult {
  Method method = Method::Cascade;
  std::vector<MethodLayer> layers;  // one per analysed layer
  // End to end (--quality): the model run with this method's sets (or element rule) in every block.
  std::optional<double> ppl, delta_ppl, kl;
  std::string quality_why;  // why ppl/kl are missing when they were asked for
  bool self_calibrated = false;  // top-theta calibrated on the text itself
  // Means over the layers where the axis was measured (nullopt when none was).
  std::optional<double> mean(std::optional<double> MethodLayer::*axis) const;
  double mean_r() const;
};

// Every method side by side at one τ, rule and budget.
struct Comparison {
  double tau = 0;
  std::string rule;     // prior-max | greedy-cover (the run's)
  std::string nearest;  // paper | causal-nearest (the ADA nearest rule attn_err uses)
  Budget budget;
  uint64_t seed = 0;       // the run seed random and kmeans derive theirs from
  uint64_t document = 0;   // the document id (0 for a single run)
  int64_t T = 0;
  std::optional<double> ppl_exact;  // with quality
  std::vector<MethodResult> methods;
  std::vector<std::string> notes;   // e.g. "count:900 > T = 312: clamped to T"
  const MethodResult* find(Method m) const;
};

// The seed random and kmeans use at one layer: splitmix64 over (run seed, document id, layer).
uint64_t derived_seed(uint64_t run_seed, uint64_t document, int64_t layer);

}  // namespace cascade
