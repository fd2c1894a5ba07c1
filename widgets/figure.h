#pragma once
// One class per figure kind, each painting a RunSnapshot with QPainter into a rectangle measured in
// points. The same paint() draws the screen (through render_figure) and every export, so what is
// exported is what is seen.
#include <QPainter>
#include <QRectF>
#include <QSizeF>
#include <QString>

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "core/methods.h"
#include "core/snapshot.h"

namespace cascade::widgets {

// A window onto layers or tokens: [begin, end), Python slice style; end −1 means "to the last".
struct Span {
  int64_t begin = 0, end = -1;
  bool all() const { return begin == 0 && end < 0; }
  // The window within 0..n as a clamped [first, last) pair (never empty when n > 0).
  std::pair<int64_t, int64_t> within(int64_t n) const;
  bool contains(int64_t i, int64_t n) const {
    const auto [a, b] = within(n);
    return i >= a && i < b;
  }
};

// The view state a figure needs besides the snapshot: what is selected and where the animation is.
struct FigureState {
  int64_t layer = 0;           // selected analysed layer (index into the snapshot's layers)
  int64_t token = -1;          // selected token, −1 none
  int64_t hover_token = -1;    // token under the pointer, −1 none
  int64_t link_to = -1;        // a representative to draw a link to from hover_token, −1 none
  double phase = 0;            // 0..1: the depth player's blend from `layer` to `layer + 1`
  int teach_step = 0;          // teaching: 0 inherit, 1 validate, 2 cross-Gram, 3 remove, 4 add
  const CascadeExplanation* explanation = nullptr;  // teaching: the step into `layer`
  const std::vector<float>* gram = nullptr;          // Gram view: T×T |cos| of `layer`
  QRectF gram_zoom;            // Gram view: the visible token range (x, y, w, h in tokens); empty = all
  int64_t gram_limit = 4096;   // Gram view: the largest T whose Gram matrix the caller computes on request
  double scale = 1;            // type scale (teaching mode draws everything larger)
  bool hints = true;           // on-screen hints ("→ next: …"); exports leave them out
  bool anonymous = false;      // no model or file name anywhere (double-blind review)
  // Paper layout (figures --font-size/--no-title/--no-highlight/--layers/--tokens, the export presets):
  double font_pt = 0;          // no text smaller than this (points); 0: the figure's own type sizes
  bool title = true;           // the title line (a paper's caption usually replaces it)
  bool highlight = true;       // the selected layer and token emphasised
  Span layers, tokens;         // the layers and tokens drawn (the τ sweep has neither axis)
  // teaching
  int intro_stage = 0;                             // the opening sequence's stage (TeachingIntroFigure)
  const std::vector<int64_t>* guesses = nullptr;   // the exercise: tokens the student picked (sorted)
  bool reveal = false;                             // the exercise: the answer is shown
  // SPEC §7 baselines (widgets/figures/method_view.h): the comparison at the shown τ (the Methods
  // dock's, or the record's), and the sweep's comparisons for the trade-off figure (ascending τ).
  const Comparison* comparison = nullptr;
  const std::vector<Comparison>* tradeoff = nullptr;
  // The depth player and the token map colour by method_a's set (kept / not kept) instead of the
  // cascade statuses; with method_b too, by the difference (A only / B only / both / neither).
  std::optional<Method> method_a, method_b;
  bool methods_coverage = false;  // the Methods figure plots coverage instead of attn_err
};

// The figure's body type size: its design size (points, at scale 1) times the scale, and never
// below state.font_pt. Smaller texts (legends, ticks) are kept at or above font_pt by the floor
// render_figure and export_figure set (palette.h, TypeFloor).
double type_pt(const FigureState& state, double design = 9);
// The selected layer and token when they are emphasised, else −1.
inline int64_t highlighted_layer(const FigureState& s) { return s.highlight ? s.layer : -1; }
inline int64_t highlighted_token(const FigureState& s) { return s.highlight ? s.token : -1; }

// Data a figure needs that is computed on request, not in paint() (RunView::ensure).
enum class Demand { None, Gram, Explanation };

// Where the desktop app shows a figure: the centre, a dock (right or bottom), only in the
// teaching window, or in the Methods dock beside its controls (budget, axis, the method picker).
enum class Placement { Centre, RightDock, BottomDock, Teaching, Methods };

// What lies under a point of a figure.
struct Hit {
  int64_t layer = -1, token = -1;
  QString tooltip;  // values under the pointer ("J(3, 7) = 0.62")
};

class Figure {
 public:
  virtual ~Figure() = default;
  virtual QString id() const = 0;     // file-name stem: "depth", "jaccard", ...
  virtual QString title() const = 0;  // menu/dock title
  // A good default size in points (export default; a column is ~240 pt, a page ~500 pt wide).
  virtual QSizeF natural_size(const RunSnapshot& run) const { return {500, 300}; }
  // The height at another width for this state (its type size, title, layer and token windows):
  // the plot scales with the width, the text margins (about 6.2 type sizes: title, ticks, axis
  // label) with the type. The plot figures compute their own (a column is narrow, its type large).
  virtual double height_for_width(const RunSnapshot& run, const FigureState& state, double width) const {
    const QSizeF n = natural_size(run);
    const double margins = 6.2 * 9, f = type_pt(state);
    return std::max(n.height() * 0.25, (n.height() - margins) * width / n.width()) + (state.title ? 6.2 : 4.4) * f;
  }
  // Whether the figure can draw this state (the Gram view needs state.gram, teaching an explanation).
  virtual bool available(const RunSnapshot& run, const FigureState& state) const { return true; }
  // Why it cannot, in a few words ("the session was saved without activations"); the screen and
  // `figures` both show it.
  virtual QString unavailable_reason(const RunSnapshot& run, const FigureState& state) const {
    return "nothing to draw for this run";
  }
  // The data the figure asks for on demand; true when the run could provide it at all.
  virtual Demand demand() const { return Demand::None; }
  virtual Placement placement() const { return Placement::BottomDock; }

  // Interaction beyond click-to-select (FigureView asks; the defaults do nothing):
  // hovering a token links it to its representative;
  virtual bool links_on_hover() const { return false; }
  // pressing and dragging picks a τ (the sweep: a drag there does nothing else);
  virtual bool picks_tau() const { return false; }
  virtual std::optional<double> tau_at(const QRectF& rect, const RunSnapshot& run, const FigureState& state,
                                       QPointF pos) const {
    return std::nullopt;
  }
  // the wheel zooms and dragging pans a token range (the Gram matrix): the range after the gesture,
  // or nullopt when the figure does not zoom. An empty range means "everything".
  virtual std::optional<QRectF> zoomed(const QRectF& rect, const RunSnapshot& run, const FigureState& state,
                                       QPointF at, double factor) const {
    return std::nullopt;
  }
  virtual std::optional<QRectF> panned(const QRectF& rect, const RunSnapshot& run, const FigureState& state,
                                       const QRectF& from, QPointF delta) const {
    return std::nullopt;
  }
  virtual void paint(QPainter& p, const QRectF& rect, const RunSnapshot& run, const FigureState& state) const = 0;
  virtual Hit hit(const QRectF& rect, const RunSnapshot& run, const FigureState& state, QPointF pos) const {
    return {};
  }
};

// Every figure kind, in menu order (the one registry views and exports iterate).
std::vector<std::unique_ptr<Figure>> all_figures();
std::unique_ptr<Figure> make_figure(const QString& id);  // nullptr for an unknown id
QStringList figure_ids();

}  // namespace cascade::widgets
