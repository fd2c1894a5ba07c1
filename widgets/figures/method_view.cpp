#include "widgets/figures/method_view.h"

#include <algorithm>
#include <cmath>

#include "widgets/palette.h"

namespace cascade::widgets {

std::vector<Method> pickable_methods() {
  std::vector<Method> out;
  for (Method m : all_methods())
    if (!is_element_method(m)) out.push_back(m);
  return out;
}

QString method_label(Method m) { return QString::fromStdString(to_string(m)); }

const TokenList* method_set(const FigureState& state, Method m, int64_t layer) {
  if (!state.comparison || is_element_method(m)) return nullptr;
  const MethodResult* r = state.comparison->find(m);
  if (!r || layer < 0 || layer >= static_cast<int64_t>(r->layers.size())) return nullptr;
  const auto& set = r->layers[static_cast<size_t>(layer)].set;
  return set ? &*set : nullptr;
}

bool method_colouring(const FigureState& state, int64_t layer) {
  return state.method_a && method_set(state, *state.method_a, layer) != nullptr;
}

bool method_difference(const FigureState& state, int64_t layer) {
  return method_colouring(state, layer) && state.method_b && method_set(state, *state.method_b, layer) != nullptr;
}

namespace {
bool in(const TokenList* s, int64_t t) { return s && std::binary_search(s->begin(), s->end(), t); }
}  // namespace

Membership membership(const FigureState& state, int64_t layer, int64_t t) {
  if (!method_colouring(state, layer)) return Membership::Neither;
  const bool a = in(method_set(state, *state.method_a, layer), t);
  if (!method_difference(state, layer)) return a ? Membership::Both : Membership::Neither;
  const bool b = in(method_set(state, *state.method_b, layer), t);
  return a && b ? Membership::Both : a ? Membership::AOnly : b ? Membership::BOnly : Membership::Neither;
}

QColor membership_color(Membership m, bool difference) {
  // Kept is the representatives' blue, not kept the redundant grey; the difference adds orange and
  // sky blue, which stay apart from each other and from blue under protanopia and deuteranopia
  // (tests/widgets/test_colour_vision.cpp).
  switch (m) {
    case Membership::Both: return okabe_ito::blue;
    case Membership::AOnly: return difference ? okabe_ito::orange : okabe_ito::blue;
    case Membership::BOnly: return okabe_ito::sky_blue;
    case Membership::Neither: break;
  }
  return status_color(TokenStatus::Redundant);
}

std::array<int64_t, 4> membership_counts(const FigureState& state, int64_t layer, int64_t T) {
  std::array<int64_t, 4> n{};
  for (int64_t t = 0; t < T; ++t) ++n[static_cast<size_t>(membership(state, layer, t))];
  return n;
}

QString membership_name(const FigureState& state, Membership m) {
  const QString a = state.method_a ? method_label(*state.method_a) : QString("A");
  const QString b = state.method_b ? method_label(*state.method_b) : QString("B");
  const bool diff = state.method_b.has_value();
  switch (m) {
    case Membership::Both: return diff ? QString("both") : "kept by " + a;
    case Membership::AOnly: return diff ? a + " only" : "kept by " + a;
    case Membership::BOnly: return b + " only";
    case Membership::Neither: break;
  }
  return diff ? QString("neither") : "not kept by " + a;
}

std::vector<LegendEntry> membership_legend(const FigureState& state, int64_t layer, int64_t T) {
  const bool diff = method_difference(state, layer);
  const auto n = membership_counts(state, layer, T);
  std::vector<LegendEntry> out;
  const std::vector<Membership> shown = diff ? std::vector{Membership::AOnly, Membership::BOnly, Membership::Both, Membership::Neither}
                                             : std::vector{Membership::Both, Membership::Neither};
  for (Membership m : shown)
    out.push_back({membership_color(m, diff), QString("%1 (%2)").arg(membership_name(state, m)).arg(n[static_cast<size_t>(m)]), false});
  if (state.method_b && !diff)  // B picked but it has no set here
    out.push_back({kMuted, method_label(*state.method_b) + ": needs the model", true, Qt::DotLine});
  return out;
}

QString method_caption(const FigureState& state) {
  if (!state.method_a) return {};
  if (state.method_b) return method_label(*state.method_a) + " vs " + method_label(*state.method_b);
  return "kept by " + method_label(*state.method_a);
}

const Comparison* comparison_at(const std::vector<Comparison>& comparisons, double tau) {
  const Comparison* found = nullptr;
  for (const Comparison& c : comparisons)
    if (std::abs(c.tau - tau) < 1e-9) found = &c;
  return found;
}

const Comparison* shown_comparison(const std::vector<Comparison>& comparisons, double tau, const std::string& rule,
                                   int64_t T, const Budget& budget, std::vector<Comparison>& sweep) {
  std::vector<Comparison> same;  // this rule and T
  const Comparison* at = nullptr;
  for (const Comparison& c : comparisons)
    if (c.rule == rule && c.T == T) {
      same.push_back(c);
      if (c.budget == budget && std::abs(c.tau - tau) < 1e-9) at = &c;
    }
  sweep = sweep_comparisons(same, Budget{});  // the sweep's own budgets: the cascade's r at each τ
  return at;
}

std::vector<Comparison> sweep_comparisons(const std::vector<Comparison>& comparisons, const Budget& budget) {
  std::vector<Comparison> out;
  for (const Comparison& c : comparisons) {
    if (!(c.budget == budget)) continue;
    auto same = std::find_if(out.begin(), out.end(), [&](const Comparison& o) { return std::abs(o.tau - c.tau) < 1e-9; });
    if (same != out.end()) *same = c;
    else out.push_back(c);
  }
  std::sort(out.begin(), out.end(), [](const Comparison& a, const Comparison& b) { return a.tau < b.tau; });
  if (out.size() < 2) out.clear();
  return out;
}

}  // namespace cascade::widgets

namespace cascade::widgets {

SeriesStyle method_style(Method m) {
  // One colour and dash pair per method (no two alike); random, the floor, in grey.
  switch (m) {
    case Method::Cascade: return {kInk, Qt::SolidLine, 2.8};
    case Method::Independent: return {okabe_ito::orange, Qt::DashLine, 1.6};
    case Method::Random: return {kMuted, Qt::DotLine};
    case Method::InheritOnly: return {okabe_ito::reddish_purple, Qt::SolidLine};
    case Method::Recency: return {okabe_ito::blue, Qt::DashLine};
    case Method::StreamingLlm: return {okabe_ito::sky_blue, Qt::SolidLine};
    case Method::H2o: return {okabe_ito::vermillion, Qt::SolidLine};
    case Method::SnapKv: return {okabe_ito::bluish_green, Qt::SolidLine};
    case Method::Tova: return {okabe_ito::vermillion, Qt::DashLine};
    case Method::KNorm: return {okabe_ito::reddish_purple, Qt::DashLine};
    case Method::KeyDiff: return {okabe_ito::bluish_green, Qt::DashLine};
    case Method::Leverage: return {okabe_ito::blue, Qt::SolidLine};
    case Method::KMeans: return {okabe_ito::sky_blue, Qt::DashLine};
    case Method::TopK: return {okabe_ito::orange, Qt::SolidLine};
    case Method::TopTheta: return {okabe_ito::blue, Qt::DashDotLine};
  }
  return {kMuted, Qt::SolidLine};
}

QString missing_reason(const MethodResult& r, std::optional<double> MethodLayer::*axis) {
  if (is_element_method(r.method) && axis != &MethodLayer::attn_err) {
    for (const MethodLayer& l : r.layers)
      if (l.*axis) return {};
    return "no token set (keys per query)";
  }
  QString why;
  for (const MethodLayer& l : r.layers) {
    if (l.*axis) return {};
    if (why.isEmpty() && !l.why.empty()) why = QString::fromStdString(l.why);
  }
  return why.isEmpty() ? QString("not measured") : why;
}

}  // namespace cascade::widgets
