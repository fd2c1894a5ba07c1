#pragma once
// One class per figure kind, each painting a RunSnapshot with QPainter into a rectangle measured in
// points. The same paint() draws the screen (through render_figure) and every export, so what is
// exported is what is seen.
#include <QPainter>
#include <QRectF>
#include <QSizeF>
#include <QString>

#include <memory>
#include <optional>
#include <vector>

#include "core/snapshot.h"

namespace cascade::widgets {

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
  // teaching
  int intro_stage = 0;                             // the opening sequence's stage (TeachingIntroFigure)
  const std::vector<int64_t>* guesses = nullptr;   // the exercise: tokens the student picked (sorted)
  bool reveal = false;                             // the exercise: the answer is shown
};

// Data a figure needs that is computed on request, not in paint() (RunView::ensure).
enum class Demand { None, Gram, Explanation };

// Where the desktop app shows a figure: the centre, a dock (right or bottom), or only in the
// teaching window.
enum class Placement { Centre, RightDock, BottomDock, Teaching };

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
