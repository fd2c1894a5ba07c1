#pragma once
// ADA attention planners (SPEC §5): which tokens are representatives at each block, and which
// representative every token copies its attention output from.
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>

#include "core/model.h"
#include "core/selection.h"

namespace cascade {

enum class AttentionMode { Exact, AdaIndependent, AdaCascade };
std::string to_string(AttentionMode mode);
AttentionMode parse_attention_mode(const std::string& name);  // exact | ada-independent | ada-cascade

// paper: s* = argmax_{s∈R} |G_ts| over all representatives; causal-nearest: only s ≤ t (no look-ahead).
enum class NearestRule { Paper, CausalNearest };
std::string to_string(NearestRule rule);
NearestRule parse_nearest_rule(const std::string& name);  // paper | causal-nearest

// nearest[t] for every token; representatives map to themselves. xhat: normalised [T, d].
std::vector<int64_t> nearest_representative(const at::Tensor& xhat, const TokenSet& reps, NearestRule rule,
                                            int64_t tile = kDefaultTile);

// A planner for `mode` (nullptr for Exact). The cascade planner carries its set from block to block,
// starting from the independent set at block 0; make a new planner for each forward pass.
std::unique_ptr<AttentionPlanner> make_planner(AttentionMode mode, double tau, Rule rule, NearestRule nearest);

}  // namespace cascade
