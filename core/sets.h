#pragma once
// Small set algebra on sorted token lists. The functions use no tensors, but the header is not
// Torch-free: TokenSet comes from core/selection.h, which includes <ATen/core/Tensor.h>.
#include <algorithm>
#include <iterator>

#include "core/selection.h"

namespace cascade {

inline TokenSet set_intersection(const TokenSet& a, const TokenSet& b) {
  TokenSet out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}
inline TokenSet set_union(const TokenSet& a, const TokenSet& b) {
  TokenSet out;
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}
inline TokenSet set_difference(const TokenSet& a, const TokenSet& b) {
  TokenSet out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}
// |A∩B| / |A∪B|, 1 when both are empty (SPEC §4).
inline double jaccard(const TokenSet& a, const TokenSet& b) {
  if (a.empty() && b.empty()) return 1.0;
  const auto inter = set_intersection(a, b).size();
  const auto uni = a.size() + b.size() - inter;
  return static_cast<double>(inter) / static_cast<double>(uni);
}

}  // namespace cascade
