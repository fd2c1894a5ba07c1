#include "gui/controller.h"

#include <QMetaObject>

#include <chrono>
#include <exception>

#include "core/activations.h"
#include "core/analyzer.h"
#include "core/engine.h"
#include "core/errors.h"
#include "data/activation_io.h"
#include "data/model_source.h"

namespace cascade::app {

namespace {

std::string s(const QString& q) { return q.toUtf8().toStdString(); }

}  // namespace

Controller::Controller(widgets::RunView* view, QObject* parent) : QObject(parent), view_(view) {}

Controller::~Controller() {
  cancel_ = true;
  if (worker_.joinable()) worker_.join();
}

void Controller::cancel() { cancel_ = true; }

void Controller::wait() {
  if (worker_.joinable()) worker_.join();
}

void Controller::start(const QString& what, Job job) {
  if (busy_) {
    Q_EMIT job_rejected("Another job is still running: wait for it or press Cancel.");
    return;
  }
  if (worker_.joinable()) worker_.join();
  busy_ = true;
  cancel_ = false;
  Q_EMIT job_started(what);
  worker_ = std::thread([this, job = std::move(job)] {
    JobControl control;
    control.cancel = &cancel_;
    // Throttled to ~30 updates a second (the scan reports every tile).
    auto last = std::make_shared<std::pair<std::string, std::chrono::steady_clock::time_point>>();
    control.on_progress = [this, last](const Progress& p) {
      const auto now = std::chrono::steady_clock::now();
      if (p.stage == last->first && p.done != p.total && now - last->second < std::chrono::milliseconds(33)) return;
      *last = {p.stage, now};
      QMetaObject::invokeMethod(this, [this, stage = QString::fromStdString(p.stage), done = p.done, total = p.total] {
        Q_EMIT progress(stage, done, total);
      }, Qt::QueuedConnection);
    };
    std::function<void()> finish;
    try {
      finish = job(control);
    } catch (const Cancelled&) {
      finish = [this] { Q_EMIT job_cancelled(); };
    } catch (const std::exception& e) {
      finish = [this, message = QString::fromStdString(e.what())] { Q_EMIT job_failed(message); };
    }
    QMetaObject::invokeMethod(this, [this, finish = std::move(finish)] {
      busy_ = false;
      finish();
      // τ or rule moved while the job ran (the job used the old ones): catch up now.
      rederive_pending_ = false;
      if (view_->has_run() && (view_->snapshot()->tau() != tau_ || view_->snapshot()->rule() != parse_rule(s(rule_))))
        rederive();
    }, Qt::QueuedConnection);
  });
}

void Controller::run_model(const RunSettings& settings) {
  if (!busy_) tau_ = settings.tau, rule_ = settings.rule;
  const QString key = settings.model + "|" + settings.device + "|" + settings.dtype;
  std::shared_ptr<data::LoadedModel> cached = key == model_key_ ? model_ : nullptr;
  start("Running " + (settings.model.isEmpty() ? QString("the bundled demo model") : settings.model),
        [this, settings, key, cached](const JobControl& control) -> std::function<void()> {
          const auto t0 = std::chrono::steady_clock::now();
          std::shared_ptr<data::LoadedModel> model = cached;
          if (!model) {
            control.report("loading model", 0, 1);
            model = std::make_shared<data::LoadedModel>(
                data::load_model(data::ModelRequest{s(settings.model), s(settings.device), s(settings.dtype)}));
            control.report("loading model", 1, 1);
          }
          control.check();
          RunRequest request;
          request.ids = data::encode_text(*model, s(settings.text));
          request.tokens = data::display_tokens(*model, request.ids);
          if (static_cast<int64_t>(request.ids.size()) > model->config.max_positions &&
              model->config.max_positions > 0)
            throw UsageError("the text is " + std::to_string(request.ids.size()) + " tokens; this model's context is " +
                             std::to_string(model->config.max_positions));
          request.tau = settings.tau;
          request.rule = parse_rule(s(settings.rule));
          request.attention = parse_attention_mode(s(settings.attention));
          request.quality = settings.quality;
          request.gram_cache_bytes = widgets::kInteractiveGramCacheBytes;  // fast τ slider
          const Run run = ::cascade::run_model(*model->model, request, control);
          const auto taus = parse_tau_grid(s(settings.sweep));
          auto data = widgets::run_data_from_run(run, taus, request.rule, control);
          if (settings.quality_sweep) {
            for (size_t i = 0; i < taus.size(); ++i) {
              control.check();
              control.report("quality sweep", static_cast<int64_t>(i), static_cast<int64_t>(taus.size()));
              RunRequest q = request;
              q.tau = taus[i];
              q.attention = AttentionMode::Exact;
              q.quality = true;
              q.gram_cache_bytes = 0;  // only the quality numbers are used
              const Run r = ::cascade::run_model(*model->model, q, JobControl{nullptr, control.cancel});
              data->sweep[i].ada_error = mean_attention_error(*r.quality);
              data->sweep[i].delta_ppl = r.quality->ppl_ada - r.quality->ppl_exact;
            }
          }
          data->meta.source = model->label();
          data->meta.device = s(settings.device);
          data->meta.dtype = s(settings.dtype);
          data->meta.text = s(settings.text);
          auto snap = widgets::RunSnapshot::of(data, run.analysis);  // the run already analysed at τ
          const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          return [this, model, key, snap, secs] {
            model_ = model;
            model_key_ = key;
            view_->set_snapshot(snap);
            Q_EMIT job_finished(QString("%1: %2 tokens, %3 layers in %4 s").arg(QString::fromStdString(snap->data().meta.source))
                                    .arg(snap->T()).arg(snap->L()).arg(secs, 0, 'f', 2));
          };
        });
}

void Controller::open_activations(const QString& path, double tau, const QString& rule, const QString& sweep) {
  if (!busy_) tau_ = tau, rule_ = rule;
  start("Opening " + path, [this, path, tau, rule, sweep](const JobControl& control) -> std::function<void()> {
    const ActivationSet acts = data::load_activations(s(path), "");
    const Rule r = parse_rule(s(rule));
    auto data = widgets::run_data_from_activations(acts, parse_tau_grid(s(sweep)), r, control);
    data->meta.source = s(path);
    auto snap = widgets::RunSnapshot::derive(data, tau, r, control);
    return [this, snap, path] {
      view_->set_snapshot(snap);
      Q_EMIT job_finished(QString("%1: %2 tokens, %3 layers").arg(path).arg(snap->T()).arg(snap->L()));
    };
  });
}

void Controller::set_tau(double tau) {
  if (tau == tau_ && view_->has_run()) return;
  tau_ = tau;
  rederive();
  Q_EMIT tau_changed(tau);
}

void Controller::set_rule(const QString& rule) {
  if (rule == rule_) return;
  rule_ = rule;
  rederive();
}

void Controller::rederive() {
  if (!view_->has_run()) return;
  const auto data = view_->snapshot()->data_ptr();
  const double tau = tau_;
  const QString rule = rule_;
  // Gram-cached runs re-derive in a few ms (bench_gui), and so do small ones (the cascade's GEMMs
  // are at most L·T²·d multiply-adds): do it now, on the UI thread.
  const double T = static_cast<double>(data->num_tokens()), work = static_cast<double>(data->num_layers()) * T * T *
                                                                    static_cast<double>(data->analyzer->dim());
  const bool quick = data->analyzer->has_gram_cache() || work <= 2e8;
  if (quick && !busy_) {
    try {
      view_->set_snapshot(widgets::RunSnapshot::derive(data, tau, parse_rule(s(rule))));
    } catch (const std::exception& e) {
      Q_EMIT job_failed(QString::fromStdString(e.what()));
    }
    return;
  }
  // Large runs: on the worker, the latest τ wins (a slider drag queues at most one more).
  if (busy_) {
    rederive_pending_ = true;
    return;
  }
  start(QString("Re-deriving at τ = %1").arg(tau, 0, 'f', 3), [this, data, tau, rule](const JobControl& control) -> std::function<void()> {
    auto snap = widgets::RunSnapshot::derive(data, tau, parse_rule(s(rule)), control);
    return [this, snap] {
      view_->set_snapshot(snap);
      Q_EMIT job_finished(QString("τ = %1").arg(snap->tau(), 0, 'f', 3));
    };
  });
}

}  // namespace cascade::app
