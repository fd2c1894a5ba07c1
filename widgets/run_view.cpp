#include "widgets/run_view.h"

#include <algorithm>
#include <cmath>

#include "widgets/figures/method_view.h"

namespace cascade::widgets {

RunView::RunView(QObject* parent) : QObject(parent) { state_.gram_limit = kMaxGramTokens; }

void RunView::set_snapshot(std::shared_ptr<const RunSnapshot> snapshot) {
  const bool new_data = !snapshot_ || !snapshot || &snapshot_->record() != &snapshot->record();
  snapshot_ = std::move(snapshot);
  if (!snapshot_) {
    state_ = FigureState{};
  } else {
    state_.layer = std::clamp<int64_t>(state_.layer, 0, snapshot_->L() - 1);
    if (state_.token >= snapshot_->T()) state_.token = -1;
    state_.hover_token = state_.link_to = -1;
    state_.phase = 0;
    if (new_data) state_.gram_zoom = QRectF();
  }
  if (new_data) {  // the Gram matrix is τ-free: keep it across τ changes of the same run
    gram_.clear();
    gram_layer_ = -1;
    state_.gram = nullptr;
  }
  drop_explanation();
  if (new_data) {  // a new run brings its record's comparisons (a session's), at their budget
    comparisons_ = snapshot_ ? snapshot_->record().comparisons : std::vector<Comparison>{};
    if (!comparisons_.empty() &&
        std::none_of(comparisons_.begin(), comparisons_.end(), [&](const Comparison& c) { return c.budget == budget_; }))
      budget_ = comparisons_.back().budget;
  }
  point_comparison();
  if (new_data) Q_EMIT comparisons_changed();
  Q_EMIT run_changed();
  Q_EMIT changed();
}

void RunView::point_comparison() {
  state_.comparison = nullptr;
  state_.tradeoff = nullptr;
  tradeoff_.clear();
  if (!snapshot_) return;
  state_.comparison = shown_comparison(comparisons_, snapshot_->tau(), to_string(snapshot_->rule()), snapshot_->T(), budget_,
                                       tradeoff_);
  if (!tradeoff_.empty()) state_.tradeoff = &tradeoff_;
}

void RunView::add_comparisons(const std::vector<Comparison>& comparisons) {
  for (const Comparison& c : comparisons) {
    auto same = std::find_if(comparisons_.begin(), comparisons_.end(), [&](const Comparison& o) {
      return o.budget == c.budget && o.rule == c.rule && std::abs(o.tau - c.tau) < 1e-9;
    });
    if (same != comparisons_.end()) *same = c;
    else comparisons_.push_back(c);
  }
  point_comparison();
  Q_EMIT comparisons_changed();
  Q_EMIT changed();
}

void RunView::set_comparison_budget(const Budget& budget) {
  if (budget == budget_) return;
  budget_ = budget;
  point_comparison();
  Q_EMIT changed();
}

void RunView::set_methods(std::optional<Method> a, std::optional<Method> b) {
  if (!a) b.reset();  // a difference needs its first method
  state_.method_a = a;
  state_.method_b = b == a ? std::nullopt : b;
  Q_EMIT changed();
}

void RunView::set_methods_coverage(bool coverage) {
  state_.methods_coverage = coverage;
  Q_EMIT changed();
}

void RunView::set_layer(int64_t layer) {
  if (!snapshot_) return;
  layer = std::clamp<int64_t>(layer, 0, snapshot_->L() - 1);
  if (layer == state_.layer && state_.phase == 0) return;
  state_.layer = layer;
  state_.phase = 0;
  state_.gram = gram_layer_ == layer && !gram_.empty() ? &gram_ : nullptr;
  if (state_.hover_token >= 0) set_hover(state_.hover_token);
  drop_explanation();
  Q_EMIT layer_changed(layer);
  Q_EMIT changed();
}

void RunView::step_layer(int delta) {
  if (snapshot_) set_layer(state_.layer + delta);
}

void RunView::set_token(int64_t token) {
  if (!snapshot_ || token >= snapshot_->T()) token = -1;
  if (token == state_.token) return;
  state_.token = token;
  Q_EMIT token_changed(token);
  Q_EMIT changed();
}

void RunView::set_hover(int64_t token) {
  if (!snapshot_ || token >= snapshot_->T()) token = -1;
  int64_t link = -1;
  if (token >= 0) {
    const TokenStatus s = snapshot_->status(state_.layer, token);
    if (s == TokenStatus::Redundant || s == TokenStatus::Removed || s == TokenStatus::Missed)
      link = snapshot_->nearest_representative(state_.layer, token).token;
  }
  if (token == state_.hover_token && link == state_.link_to) return;
  state_.hover_token = token;
  state_.link_to = link;
  Q_EMIT changed();
}

void RunView::set_phase(double phase) {
  state_.phase = std::clamp(phase, 0.0, 1.0);
  Q_EMIT changed();
}

void RunView::set_teach_step(int step) {
  state_.teach_step = std::clamp(step, 0, 4);
  Q_EMIT changed();
}

void RunView::set_gram_zoom(const QRectF& tokens) {
  state_.gram_zoom = tokens;
  Q_EMIT changed();
}

bool RunView::ensure_gram() {
  // Without activations (a session saved without them) there are no cosines to compute.
  if (!snapshot_ || !snapshot_->has_activations() || snapshot_->T() > kMaxGramTokens) return false;
  if (gram_layer_ != state_.layer || gram_.empty()) {
    gram_ = snapshot_->gram(state_.layer);
    gram_layer_ = state_.layer;
  }
  state_.gram = &gram_;
  Q_EMIT changed();
  return true;
}

void RunView::drop_explanation() {
  explanation_.reset();
  state_.explanation = nullptr;
}

bool RunView::ensure_explanation() {
  if (!snapshot_ || !snapshot_->has_activations() || state_.layer < 1 || snapshot_->T() > kMaxGramTokens) return false;
  if (!explanation_) {
    explanation_ = std::make_unique<CascadeExplanation>(snapshot_->explain(state_.layer));
    state_.explanation = explanation_.get();
    Q_EMIT changed();
  }
  return true;
}

bool RunView::ensure(Demand demand) {
  switch (demand) {
    case Demand::Gram: return ensure_gram();
    case Demand::Explanation: return ensure_explanation();
    case Demand::None: return true;
  }
  return false;
}

bool RunView::can_provide(Demand demand) const {
  if (!snapshot_ || !snapshot_->has_activations() || snapshot_->T() > kMaxGramTokens) return false;
  switch (demand) {
    case Demand::Gram: return !gram_ready();
    case Demand::Explanation: return state_.layer >= 1 && !explanation_;
    case Demand::None: return false;
  }
  return false;
}

}  // namespace cascade::widgets
