#include "core/activations.h"

#include <ATen/ATen.h>

#include <charconv>

#include "core/errors.h"

namespace cascade {

int64_t ActivationSet::num_layers() const { return hidden.defined() ? hidden.size(0) : 0; }
int64_t ActivationSet::num_tokens() const { return hidden.defined() ? hidden.size(1) : 0; }
int64_t ActivationSet::dim() const { return hidden.defined() ? hidden.size(2) : 0; }

namespace {

std::optional<int64_t> parse_bound(const std::string& text, const std::string& whole) {
  if (text.empty()) return std::nullopt;
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size())
    throw UsageError("'" + whole + "' is not a layer range like 2:8, 4:, :6 or 3");
  return value;
}

}  // namespace

LayerRange parse_layer_range(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) {
    const auto single = parse_bound(text, text);
    if (!single) throw UsageError("empty layer range");
    return LayerRange{single, *single == -1 ? std::nullopt : std::optional<int64_t>(*single + 1)};
  }
  if (text.find(':', colon + 1) != std::string::npos)
    throw UsageError("'" + text + "' has more than one ':'");
  return LayerRange{parse_bound(text.substr(0, colon), text), parse_bound(text.substr(colon + 1), text)};
}

void validate(ActivationSet& acts) {
  const std::string& src = acts.source.empty() ? std::string("activations") : acts.source;
  if (!acts.hidden.defined()) throw InputError(src, "no activations");
  if (acts.hidden.dim() != 3)
    throw InputError(src, "expected activations of rank 3 [L, T, d], got rank " + std::to_string(acts.hidden.dim()));
  const auto st = acts.hidden.scalar_type();
  if (st != at::kFloat && st != at::kHalf && st != at::kBFloat16 && st != at::kDouble)
    throw InputError(src, std::string("unsupported dtype ") + c10::toString(st) +
                              " (expected float32, float16, bfloat16 or float64)");
  const int64_t L = acts.hidden.size(0), T = acts.hidden.size(1), d = acts.hidden.size(2);
  if (L == 0) throw InputError(src, "no layers (L = 0)");
  if (T == 0) throw InputError(src, "no tokens (T = 0)");
  if (d == 0) throw InputError(src, "hidden size is 0");
  if (!acts.tokens.empty() && static_cast<int64_t>(acts.tokens.size()) != T)
    throw InputError(src, std::to_string(acts.tokens.size()) + " token strings for " + std::to_string(T) + " tokens");
  if (acts.layer_ids.empty())
    for (int64_t l = 0; l < L; ++l) acts.layer_ids.push_back(l);
  if (static_cast<int64_t>(acts.layer_ids.size()) != L) throw InputError(src, "layer ids do not match L");
  // Finiteness, reported at the first offending element.
  at::Tensor bad = at::logical_not(at::isfinite(acts.hidden));
  if (bad.any().item<bool>()) {
    at::Tensor first = bad.reshape({-1}).nonzero()[0][0].to(at::kCPU);
    const int64_t flat = first.item<int64_t>();
    const int64_t l = flat / (T * d), t = (flat / d) % T;
    const double v = acts.hidden.reshape({-1})[flat].item<double>();
    const std::string what = std::isnan(v) ? "a NaN" : "an infinite";
    throw InputError(src, "layer " + std::to_string(acts.layer_ids[l]) + " token " + std::to_string(t) +
                              " contains " + what + " value");
  }
}

std::pair<int64_t, int64_t> layer_bounds(const LayerRange& range, int64_t L) {
  auto resolve = [L](std::optional<int64_t> v, int64_t fallback) {
    if (!v) return fallback;
    int64_t x = *v < 0 ? *v + L : *v;
    return std::clamp<int64_t>(x, 0, L);
  };
  const int64_t b = resolve(range.begin, 0), e = resolve(range.end, L);
  if (b >= e)
    throw UsageError("selects no layer (the input has " + std::to_string(L) + " layers, 0.." +
                     std::to_string(L - 1) + ")");
  return {b, e};
}

ActivationSet select_layers(const ActivationSet& acts, const LayerRange& range) {
  const auto [b, e] = layer_bounds(range, acts.num_layers());
  ActivationSet out = acts;
  out.hidden = acts.hidden.narrow(0, b, e - b);
  out.layer_ids.assign(acts.layer_ids.begin() + b, acts.layer_ids.begin() + e);
  return out;
}

}  // namespace cascade
