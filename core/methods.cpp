#include "core/methods.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>
#include <sstream>

#include "core/errors.h"
#include "core/names.h"

namespace cascade {

namespace {

struct MethodName {
  Method method;
  const char* name;
};
// The one table of names (SPEC §7), in the order of tables and views.
const MethodName kMethodNames[] = {
    {Method::Independent, "independent"}, {Method::Cascade, "cascade"},     {Method::Random, "random"},
    {Method::InheritOnly, "inherit-only"}, {Method::Recency, "recency"},    {Method::StreamingLlm, "streaming-llm"},
    {Method::H2o, "h2o"},                 {Method::SnapKv, "snapkv"},       {Method::Tova, "tova"},
    {Method::KNorm, "knorm"},             {Method::KeyDiff, "keydiff"},     {Method::Leverage, "leverage"},
    {Method::KMeans, "kmeans"},           {Method::TopK, "top-k"},          {Method::TopTheta, "top-theta"},
};

}  // namespace

std::string method_names() {
  std::string out;
  for (const auto& m : kMethodNames) out += std::string(out.empty() ? "" : ", ") + m.name;
  return out;
}

std::string to_string(Method m) {
  for (const auto& n : kMethodNames)
    if (n.method == m) return n.name;
  return "?";
}

Method parse_method(const std::string& name) {
  for (const auto& n : kMethodNames)
    if (name == n.name) return n.method;
  throw UsageError("unknown method '" + name + "' (expected all or a list of " + method_names() + ")");
}

const std::vector<Method>& all_methods() {
  static const std::vector<Method> all = [] {
    std::vector<Method> v;
    for (const auto& n : kMethodNames) v.push_back(n.method);
    return v;
  }();
  return all;
}

bool is_element_method(Method m) { return m == Method::TopK || m == Method::TopTheta; }

bool needs_attention(Method m) {
  switch (m) {
    case Method::H2o:
    case Method::SnapKv:
    case Method::Tova:
    case Method::KNorm:
    case Method::KeyDiff:
    case Method::TopK:
    case Method::TopTheta: return true;
    default: return false;
  }
}

bool needs_model(Method m) { return needs_attention(m); }

bool own_size(Method m) { return m == Method::Independent || m == Method::Cascade || m == Method::InheritOnly; }

std::vector<Method> parse_methods(const std::string& list) {
  if (list == "all") return all_methods();
  std::vector<Method> out;
  std::stringstream ss(list);
  for (std::string item; std::getline(ss, item, ',');) {
    if (item.empty()) continue;
    const Method m = parse_method(item);
    if (std::find(out.begin(), out.end(), m) == out.end()) out.push_back(m);
  }
  if (out.empty()) throw UsageError("no method given (expected all or a list of " + method_names() + ")");
  return out;
}

Budget parse_budget(const std::string& text) {
  const auto bad = [&](const std::string& why) {
    return UsageError("unknown budget '" + text + "' (" + why + ")");
  };
  const std::string expected = "expected cascade, independent, ratio:R with 0 < R <= 1, or count:N with N >= 1";
  Budget b;
  if (text == "cascade") return b;
  if (text == "independent") {
    b.kind = Budget::Kind::Independent;
    return b;
  }
  const auto colon = text.find(':');
  if (colon == std::string::npos) throw bad(expected);
  const std::string kind = text.substr(0, colon), value = text.substr(colon + 1);
  try {
    size_t used = 0;
    if (kind == "ratio") {
      b.kind = Budget::Kind::Ratio;
      b.ratio = std::stod(value, &used);
      if (used != value.size() || !(b.ratio > 0 && b.ratio <= 1)) throw bad(expected);
      return b;
    }
    if (kind == "count") {
      b.kind = Budget::Kind::Count;
      b.count = std::stoll(value, &used);
      if (used != value.size() || b.count < 1) throw bad(expected);
      return b;
    }
  } catch (const std::logic_error&) {  // stod/stoll: not a number
    throw bad(expected);
  }
  throw bad(expected);
}

std::string to_string(const Budget& b) {
  switch (b.kind) {
    case Budget::Kind::Cascade: return "cascade";
    case Budget::Kind::Independent: return "independent";
    case Budget::Kind::Ratio: {  // the shortest text that reads back to the same ratio (session files store it)
      char buf[32];
      const auto end = std::to_chars(buf, buf + sizeof buf, b.ratio).ptr;
      return "ratio:" + std::string(buf, end);
    }
    case Budget::Kind::Count: return "count:" + std::to_string(b.count);
  }
  return "?";
}

int64_t budget_size(const Budget& b, int64_t T, int64_t r_ind, int64_t r_casc, bool* clamped) {
  int64_t r = r_casc;
  switch (b.kind) {
    case Budget::Kind::Cascade: r = r_casc; break;
    case Budget::Kind::Independent: r = r_ind; break;
    case Budget::Kind::Ratio: r = std::max<int64_t>(1, std::llround(b.ratio * static_cast<double>(T))); break;
    case Budget::Kind::Count: r = b.count; break;
  }
  if (clamped) *clamped = r > T;
  return std::clamp<int64_t>(r, std::min<int64_t>(1, T), T);
}

std::optional<double> MethodResult::mean(std::optional<double> MethodLayer::*axis) const {
  double sum = 0;
  int64_t n = 0;
  for (const MethodLayer& l : layers)
    if (const auto& v = l.*axis) sum += *v, ++n;
  if (n == 0) return std::nullopt;
  return sum / static_cast<double>(n);
}

double MethodResult::mean_r() const {
  if (layers.empty()) return 0;
  double sum = 0;
  for (const MethodLayer& l : layers) sum += static_cast<double>(l.r);
  return sum / static_cast<double>(layers.size());
}

const MethodResult* Comparison::find(Method m) const {
  for (const MethodResult& r : methods)
    if (r.method == m) return &r;
  return nullptr;
}

uint64_t derived_seed(uint64_t run_seed, uint64_t document, int64_t layer) {
  // splitmix64 (Steele, Lea, Flood 2014) folded over the three inputs.
  const auto mix = [](uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  return mix(mix(mix(run_seed) ^ document) ^ static_cast<uint64_t>(layer));
}

namespace names {
namespace method_layer {
// clang-format off
const MethodField layer{"layer", true, [](const MethodLayer& m) -> std::optional<double> { return static_cast<double>(m.layer); },
    "the layer: the residual stream entering block l (0 = the embeddings)"};
const MethodField r{"r", true, [](const MethodLayer& m) -> std::optional<double> { return static_cast<double>(m.r); },
    "tokens the method keeps at this layer (the budget r_l, or the method's own size)"};
const MethodField coverage{"coverage", false, [](const MethodLayer& m) { return m.coverage; },
    "mean over tokens of the largest |cos| with a kept token"};
const MethodField covered{"covered", false, [](const MethodLayer& m) { return m.covered; },
    "fraction of tokens within theta(tau) of a kept token"};
const MethodField attn_err{"attn_err", false, [](const MethodLayer& m) { return m.attn_err; },
    "relative error of this block's attention output with the method's keys (mean over heads)"};
const MethodField selection_ms{"selection_ms", false, [](const MethodLayer& m) { return m.selection_ms; },
    "measured time of the selection at this layer (ms)"};
const MethodField selection_macs{"selection_macs", true, [](const MethodLayer& m) -> std::optional<double> {
      if (!m.selection_macs) return std::nullopt;
      return static_cast<double>(*m.selection_macs);
    },
    "multiply-adds the selection needs at this layer (the cost model of core/baselines.h)"};
// clang-format on
}  // namespace method_layer

const std::vector<const MethodField*>& method_fields() {
  static const std::vector<const MethodField*> fields = {&method_layer::layer,    &method_layer::r,
                                                         &method_layer::coverage, &method_layer::covered,
                                                         &method_layer::attn_err, &method_layer::selection_ms,
                                                         &method_layer::selection_macs};
  return fields;
}
}  // namespace names

}  // namespace cascade
