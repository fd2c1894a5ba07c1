#include "widgets/inspector_panel.h"

#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QVBoxLayout>

#include <algorithm>

#include "widgets/palette.h"

namespace cascade::widgets {

// One cell per layer, the token's status colour; the selected layer outlined.
class StatusTimeline : public QWidget {
 public:
  explicit StatusTimeline(RunView* view, QWidget* parent) : QWidget(parent), view_(view) {
    setMinimumHeight(34);
    setObjectName("status-timeline");
  }

 protected:
  void paintEvent(QPaintEvent*) override {
    QPainter p(this);
    p.fillRect(rect(), Qt::white);
    if (!view_->has_run() || view_->state().token < 0) return;
    const RunSnapshot& run = *view_->snapshot();
    const int64_t L = run.L(), t = view_->state().token;
    const double w = static_cast<double>(width() - 2) / static_cast<double>(L);
    for (int64_t l = 0; l < L; ++l)
      p.fillRect(QRectF(1 + l * w, 4, std::max(1.0, w - 1), height() - 8), status_color(run.status(l, t)));
    p.setPen(QPen(kInk, 2));
    p.setBrush(Qt::NoBrush);
    p.drawRect(QRectF(1 + view_->state().layer * w, 2, w, height() - 4));
  }
  void mousePressEvent(QMouseEvent* e) override {
    if (!view_->has_run()) return;
    const int64_t L = view_->snapshot()->L();
    view_->set_layer(std::clamp<int64_t>(static_cast<int64_t>(e->position().x() / width() * L), 0, L - 1));
  }

 private:
  RunView* view_;
};

InspectorPanel::InspectorPanel(RunView* view, QWidget* parent) : QWidget(parent), view_(view) {
  setObjectName("inspector");
  auto* layout = new QVBoxLayout(this);
  label_ = new QLabel(this);
  label_->setTextFormat(Qt::RichText);
  label_->setWordWrap(true);
  label_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  timeline_ = new StatusTimeline(view, this);
  layout->addWidget(label_);
  layout->addWidget(new QLabel("Status across layers (click to go to a layer):", this));
  layout->addWidget(timeline_);
  layout->addStretch(1);
  // Not on every changed() (hover, animation phase): the represented-by query is a T×r product.
  connect(view_, &RunView::token_changed, this, &InspectorPanel::refresh);
  connect(view_, &RunView::layer_changed, this, &InspectorPanel::refresh);
  connect(view_, &RunView::run_changed, this, &InspectorPanel::refresh);
  refresh();
}

QString InspectorPanel::text() const { return label_->text(); }

namespace {

QString esc(const std::string& s) { return QString::fromStdString(s).toHtmlEscaped(); }

QString swatch(TokenStatus s) {
  return QString("<span style='background:%1;color:%2'>&nbsp;%3&nbsp;</span>")
      .arg(status_color(s).name(), status_text_color(s).name(), status_name(s));
}

}  // namespace

void InspectorPanel::refresh() {
  timeline_->update();
  if (!view_->has_run() || view_->state().token < 0) {
    label_->setText("<i>Click a token in any view to inspect it.</i>");
    return;
  }
  const RunSnapshot& run = *view_->snapshot();
  const int64_t t = view_->state().token, l = view_->state().layer;
  const LayerMeasures& m = run.analysis().layers[l];
  const bool ind = std::binary_search(m.reps_ind.begin(), m.reps_ind.end(), t);
  const bool casc = std::binary_search(m.reps_casc.begin(), m.reps_casc.end(), t);
  QString html = QString("<b style='font-size:14pt'>\"%1\"</b> &nbsp; token %2 of %3").arg(esc(run.token(t))).arg(t).arg(run.T());
  const std::vector<int64_t>& ids = run.record().ids;  // empty for activation files
  if (t < static_cast<int64_t>(ids.size())) html += QString(" &nbsp; id %1").arg(ids[static_cast<size_t>(t)]);
  html += "<br>";
  QString statuses = swatch(run.status(l, t));
  if (const TokenStatus also = run.also(l, t); also != TokenStatus::Redundant) statuses += " + " + swatch(also);
  html += QString("layer %1 (block %2): %3<br>").arg(l).arg(m.layer).arg(statuses);
  const QString rule = QString::fromStdString(to_string(run.rule()));
  html += QString("independent set (%1, τ = %2): <b>%3</b> &nbsp; cascade set: <b>%4</b><br>")
              .arg(rule).arg(run.tau(), 0, 'f', 3)
              .arg(ind ? "representative" : "redundant", casc ? "representative" : "redundant");
  const float g = run.gamma(l)[t];
  const int64_t partner = run.partner(l)[t];
  // γ and π are the prior-max scan's (τ-free); under greedy-cover they are shown for reference only.
  const QString scan = run.rule() == Rule::PriorMax ? "prior-max" : "prior-max scan (not used by greedy-cover)";
  if (partner >= 0)
    html += QString("%5: γ = %1 (θ = %2), π = token %3 \"%4\"<br>").arg(g, 0, 'f', 4).arg(run.analysis().theta, 0, 'f', 4)
                .arg(partner).arg(esc(run.token(partner))).arg(scan);
  else
    html += scan + ": γ = −∞ (the first token has no earlier one)<br>";
  if (!run.has_activations()) {  // nearest and represented-by are cosines: X̂ is not in this session
    html += QString("<i>%1 needs the activations (session saved without them)</i><br>")
                .arg(casc ? "Which tokens it represents" : "Its nearest representative");
  } else {
    // Each set's answer: the tokens it represents there, or its nearest representative there. The
    // independent set's is shown only where it differs from the cascade set's.
    auto answer = [&](RepSet set, const QString& name) {
      const bool member = set == RepSet::Cascade ? casc : ind;
      if (member) {
        const auto members = run.represented_by(l, t, set);
        QString line = QString("in the %1 it represents %2 token%3").arg(name).arg(members.size()).arg(members.size() == 1 ? "" : "s");
        if (!members.empty()) {
          line += ": ";
          for (size_t i = 0; i < std::min<size_t>(members.size(), 24); ++i)
            line += QString("%1\"%2\" [%3]").arg(i ? ", " : "").arg(esc(run.token(members[i]))).arg(members[i]);
          if (members.size() > 24) line += ", …";
        }
        return line + "<br>";
      }
      const Nearest n = run.nearest_representative(l, t, set);
      if (n.token < 0) return QString("the %1 is empty<br>").arg(name);
      return QString("nearest representative in the %1: token %2 \"%3\", cos = %4<br>").arg(name).arg(n.token)
          .arg(esc(run.token(n.token))).arg(n.cosine, 0, 'f', 4);
    };
    const QString in_casc = answer(RepSet::Cascade, "cascade set");
    const QString in_ind = answer(RepSet::Independent, "independent set (" + rule + ")");
    html += in_casc;
    if (QString(in_ind).replace("independent set (" + rule + ")", "cascade set") != in_casc) html += in_ind;
  }
  label_->setText(html);
}

}  // namespace cascade::widgets
