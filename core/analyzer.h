#pragma once
// The τ-free cache of one set of activations and the τ-dependent analyses derived from it.
//
// Construction does the expensive, τ-independent work once: normalise every layer and run the
// prior-max scan (γ, π). analyze(τ) and sweep(τs) then only derive sets (O(T) per layer for
// prior-max) and run the cascade steps on the cached X̂ — never the normalisation or the scan again.
#include <ATen/core/Tensor.h>

#include <vector>

#include "core/activations.h"
#include "core/measures.h"
#include "core/progress.h"
#include "core/selection.h"

namespace cascade {

class Analyzer {
 public:
  // `acts` must have passed validate(). Throws Cancelled if control.cancel is raised.
  // gram_cache_bytes > 0: also keep every layer's |X̂ X̂ᵀ| when L·T²·4 bytes fit it, so analyze()
  // re-derives the cascade by reading cached entries instead of GEMMs (interactive τ; gram_cache.h).
  explicit Analyzer(const ActivationSet& acts, int64_t tile = kDefaultTile, const JobControl& control = {},
                    int64_t gram_cache_bytes = 0);
  // From a cache saved earlier (a session): one X̂ [T, d] per layer (any float dtype; re-normalised
  // to float32) and the γ/π that were computed with the original activations — kept as given, not
  // re-scanned, so independent sets at any τ are exactly the saved run's. Throws InputError when the
  // sizes disagree.
  Analyzer(std::vector<at::Tensor> xhat, std::vector<PriorMax> prior_max, std::vector<int64_t> layer_ids,
           int64_t tile = kDefaultTile, const JobControl& control = {}, int64_t gram_cache_bytes = 0);

  Analysis analyze(double tau, Rule rule, const JobControl& control = {}) const;
  std::vector<Analysis> sweep(const std::vector<double>& taus, Rule rule, const JobControl& control = {}) const;

  int64_t num_layers() const { return static_cast<int64_t>(xhat_.size()); }
  int64_t num_tokens() const { return T_; }
  int64_t dim() const { return d_; }
  const std::vector<int64_t>& layer_ids() const { return layer_ids_; }
  const PriorMax& prior_max(int64_t i) const { return prior_max_.at(i); }
  const at::Tensor& normalized(int64_t i) const { return xhat_.at(i); }
  bool has_gram_cache() const { return !abs_gram_.empty(); }

 private:
  void build_gram_cache(int64_t gram_cache_bytes, const JobControl& control);
  std::vector<at::Tensor> xhat_;
  std::vector<PriorMax> prior_max_;
  std::vector<at::Tensor> abs_gram_;  // [T, T] float32 per layer, or empty
  std::vector<int64_t> layer_ids_;
  int64_t T_ = 0, d_ = 0, tile_ = kDefaultTile;
};

// τ grid "A:B:S" (inclusive of B up to rounding) or a comma list "0.1,0.2". Throws UsageError.
std::vector<double> parse_tau_grid(const std::string& text);

}  // namespace cascade
