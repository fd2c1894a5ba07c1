#pragma once
// A stack of per-layer activations, the input of every analysis (SPEC §1: layer l is the residual
// stream entering block l).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cascade {

struct ActivationSet {
  at::Tensor hidden;                // [L, T, d]; float32, float16 or bfloat16; any device
  std::vector<int64_t> layer_ids;   // absolute layer index of each slice (0..L-1 unless sliced)
  std::vector<std::string> tokens;  // display strings, empty or exactly T of them
  std::string source;               // where it came from, for messages

  int64_t num_layers() const;
  int64_t num_tokens() const;
  int64_t dim() const;
};

// Half-open layer range "A:B" (Python style: A:B is A..B-1; "A:" to the end; ":B" from 0; "A" alone
// is the single layer A). Negative bounds count from the end.
struct LayerRange {
  std::optional<int64_t> begin, end;
};
LayerRange parse_layer_range(const std::string& text);  // throws UsageError

// Checks shape (rank 3, L, T, d > 0), dtype, token count and finiteness; throws InputError naming
// `source` and the first problem (e.g. "layer 3 token 7 is NaN"). Fills layer_ids when empty.
void validate(ActivationSet& acts);

// The layers in `range`, keeping absolute layer ids. Throws UsageError "selects no layer (…)" when
// the range is empty (the CLI puts "--layers " in front).
ActivationSet select_layers(const ActivationSet& acts, const LayerRange& range);
// The same check against L layers without the data: what select_layers would keep, [begin, end).
std::pair<int64_t, int64_t> layer_bounds(const LayerRange& range, int64_t L);

}  // namespace cascade
