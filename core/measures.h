#pragma once
// Every measure of SPEC §4, under exactly those names, computed from the per-layer sets and the
// cascade traces. No Torch: the GUI, the files and the tests share these definitions.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/selection.h"

namespace cascade {

struct LayerMeasures {
  int64_t layer = 0;  // absolute layer index (SPEC §1)
  TokenSet reps_ind, reps_casc;
  TokenSet missed, extra;     // R_ind \ R_casc, R_casc \ R_ind
  TokenSet added, removed;    // of the cascade step into this layer (empty at the first layer)
  int64_t r_ind = 0, r_casc = 0;
  std::optional<double> depth_jaccard;  // jaccard(R_ind^(l), R_ind^(l+1)); none at the last layer
  double casc_fidelity = 1.0;           // jaccard(R_casc^(l), R_ind^(l))
  int64_t adds = 0, removes = 0;
  std::optional<double> turnover;       // (adds + removes) / |R^(l−1)|; none at the first layer
  int64_t gram_entries_ind = 0, gram_entries_casc = 0;
  int64_t gram_macs_ind = 0, gram_macs_casc = 0;  // entries × d
  double compression_ind = 0, compression_casc = 0;  // T / r
};

struct Summary {
  std::optional<double> mean_depth_jaccard;  // none with a single layer
  double gram_savings = 0;                   // 1 − Σ casc entries / Σ ind entries
  int64_t gram_entries_ind = 0, gram_entries_casc = 0;  // the two sums
  double mean_r_ind = 0, mean_r_casc = 0;
  double mean_compression_ind = 0, mean_compression_casc = 0;  // T / mean r
  double mean_casc_fidelity = 0;
  std::optional<double> mean_turnover;       // none with a single layer
  int64_t total_missed = 0, total_extra = 0, total_adds = 0, total_removes = 0;
};

struct Analysis {
  int64_t T = 0, d = 0;
  double tau = 0, theta = 0;
  Rule rule = Rule::PriorMax;
  std::vector<LayerMeasures> layers;
  std::vector<std::vector<double>> jaccard_matrix;  // jaccard(R_ind^(i), R_ind^(j)) over analysed layers
  Summary summary;
  int64_t L() const { return static_cast<int64_t>(layers.size()); }
};

// Assembles an Analysis. `independent[i]` is R_ind at analysed layer i; `steps[i]` is the cascade
// step into layer i for i ≥ 1 (steps[0] is ignored: layer 0 of the range uses the independent set).
Analysis measure(int64_t T, int64_t d, double tau, Rule rule, const std::vector<int64_t>& layer_ids,
                 const std::vector<TokenSet>& independent, const std::vector<CascadeTrace>& steps);

}  // namespace cascade
