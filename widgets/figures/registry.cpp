// The one list of figure kinds: views, "export all" and `cascadelens-cli figures` iterate it.
#include "widgets/figure.h"

#include <algorithm>

#include "widgets/figures/cascade_step.h"
#include "widgets/figures/depth_player.h"
#include "widgets/figures/gram.h"
#include "widgets/figures/gram_cost.h"
#include "widgets/figures/jaccard.h"
#include "widgets/figures/methods.h"
#include "widgets/figures/profile.h"
#include "widgets/figures/sweep.h"
#include "widgets/figures/token_map.h"
#include "widgets/figures/tradeoff.h"

namespace cascade::widgets {

std::vector<std::unique_ptr<Figure>> all_figures() {
  std::vector<std::unique_ptr<Figure>> out;
  out.push_back(std::make_unique<DepthPlayerFigure>());
  out.push_back(std::make_unique<TokenMapFigure>());
  out.push_back(std::make_unique<JaccardFigure>());
  out.push_back(std::make_unique<ProfileFigure>());
  out.push_back(std::make_unique<GramCostFigure>());
  out.push_back(std::make_unique<SweepFigure>());
  out.push_back(std::make_unique<GramFigure>());
  out.push_back(std::make_unique<CascadeStepFigure>());
  out.push_back(std::make_unique<MethodsFigure>());
  out.push_back(std::make_unique<TradeoffFigure>());
  return out;
}

std::unique_ptr<Figure> make_figure(const QString& id) {
  for (auto& f : all_figures())
    if (f->id() == id) return std::move(f);
  return nullptr;
}

QStringList figure_ids() {
  QStringList out;
  for (const auto& f : all_figures()) out << f->id();
  return out;
}

}  // namespace cascade::widgets

namespace cascade::widgets {

std::pair<int64_t, int64_t> Span::within(int64_t n) const {
  if (n <= 0) return {0, 0};
  const int64_t a = std::clamp<int64_t>(begin, 0, n - 1);
  const int64_t b = end < 0 ? n : std::clamp<int64_t>(end, a + 1, n);
  return {a, b};
}

double type_pt(const FigureState& state, double design) { return std::max(design * state.scale, state.font_pt); }

}  // namespace cascade::widgets
