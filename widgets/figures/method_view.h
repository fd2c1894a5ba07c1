#pragma once
// SPEC §7 baselines in the figures: the depth player's and the token map's colouring by a picked
// method's set (FigureState::method_a, method_b) and the lookups the Methods and trade-off figures
// share. Torch-free: it reads core/methods.h's Comparison only.
#include <QColor>
#include <QString>

#include <array>
#include <vector>

#include "widgets/figure.h"
#include "widgets/plot.h"

namespace cascade::widgets {

// Where a token stands against the picked sets at one layer. With one method: Both = kept by it,
// Neither = not kept.
enum class Membership { Neither, AOnly, BOnly, Both };

// The methods a token picker offers: every token-set method (top-k and top-theta have no set).
std::vector<Method> pickable_methods();
QString method_label(Method m);  // to_string(m), the one spelling
// The set of `m` at analysed layer `layer` in state.comparison, or null (no comparison, the method
// was not compared, or it could not run there: "needs the model").
const TokenList* method_set(const FigureState& state, Method m, int64_t layer);
// The figures colour by method_a's set at `layer` (it is picked and the comparison holds it) ...
bool method_colouring(const FigureState& state, int64_t layer);
// ... and by the difference with method_b's.
bool method_difference(const FigureState& state, int64_t layer);
Membership membership(const FigureState& state, int64_t layer, int64_t t);
QColor membership_color(Membership m, bool difference);
// How many of tokens 0..T−1 fall in each Membership at `layer` (indexed by it).
std::array<int64_t, 4> membership_counts(const FigureState& state, int64_t layer, int64_t T);
// "kept by h2o", "h2o only", "both", ... naming the methods.
QString membership_name(const FigureState& state, Membership m);
// The legend under the depth player and the token map in method mode (with the counts at `layer`).
std::vector<LegendEntry> membership_legend(const FigureState& state, int64_t layer, int64_t T);
// "Kept by h2o" / "h2o vs cascade" for titles.
QString method_caption(const FigureState& state);

// The comparison made at τ among `comparisons` (the last one when several were), or null.
const Comparison* comparison_at(const std::vector<Comparison>& comparisons, double tau);
// What the figures show of a run's comparisons at its τ, rule and T: the one of `budget` at τ
// (null when none), and into `sweep` those of the cascade budget at two or more τ (the trade-off:
// each τ's own budget, whatever `budget` the Methods figure shows).
const Comparison* shown_comparison(const std::vector<Comparison>& comparisons, double tau, const std::string& rule,
                                   int64_t T, const Budget& budget, std::vector<Comparison>& sweep);
// Those of `budget` at two or more distinct τ, one per τ, ascending (the trade-off figure's data);
// empty when there are fewer.
std::vector<Comparison> sweep_comparisons(const std::vector<Comparison>& comparisons, const Budget& budget);

// What the Methods and trade-off figures say when nothing was compared.
inline const char* kNoComparison = "no comparison computed — run `cascadelens-cli compare` or open the Methods dock";

}  // namespace cascade::widgets

namespace cascade::widgets {

// One series per method in the Methods and trade-off figures: the cascade emphasised (ink, thick),
// the others Okabe–Ito colours with a dash pattern each, so that no two look alike in greyscale.
struct SeriesStyle {
  QColor color;
  Qt::PenStyle style = Qt::SolidLine;
  double width = 1.4;
};
SeriesStyle method_style(Method m);
// The reason a method has no values on an axis ("needs the model"), from its layers; "" when it has some.
QString missing_reason(const MethodResult& r, std::optional<double> MethodLayer::*axis);

}  // namespace cascade::widgets
