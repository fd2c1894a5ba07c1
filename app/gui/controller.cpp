#include "gui/controller.h"

#include <QFileInfo>
#include <QLocale>
#include <QMetaObject>
#include <QSysInfo>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>

#include "core/activations.h"
#include "core/tokenizer.h"
#include "core/analyzer.h"
#include "core/baselines.h"
#include "core/engine.h"
#include "core/errors.h"
#include "core/snapshot.h"
#include "data/formats/activation_io.h"
#include "data/hf/model_source.h"
#include "data/remote/engine_client.h"
#include "data/session/session_file.h"

namespace cascade::app {

namespace {

std::string s(const QString& q) { return q.toUtf8().toStdString(); }
QString q(const std::string& s) { return QString::fromStdString(s); }

// The stored τ nearest to `tau` (taus non-empty, ascending), as an index.
size_t nearest_index(const std::vector<double>& taus, double tau) {
  size_t best = 0;
  for (size_t i = 1; i < taus.size(); ++i)
    if (std::abs(taus[i] - tau) < std::abs(taus[best] - tau)) best = i;
  return best;
}

// "0.05, 0.1, 0.3" for a message.
QString tau_list(const std::vector<double>& taus) {
  QStringList parts;
  for (double t : taus) parts << QString::number(t, 'g', 4);
  return parts.join(", ");
}

// The Run panel's settings on a request: the local run's, or the one a remote run's options are
// copied from (remote::copy_run_settings), so both ask for the same run.
void apply_settings(const RunSettings& settings, RunRequest& request) {
  request.tau = settings.tau;
  request.rule = settings.rule;
  request.attention = settings.attention;
  request.quality = settings.quality;
  request.sweep_taus = parse_tau_grid(s(settings.sweep));
  request.quality_sweep = settings.quality_sweep;
}

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
      if (view_->has_run() && (view_->snapshot()->tau() != tau_ || view_->snapshot()->rule() != parse_rule(s(rule_))))
        rederive();
    }, Qt::QueuedConnection);
  });
}

void Controller::log(const QString& line) {
  QMetaObject::invokeMethod(this, [this, line] { Q_EMIT engine_log(line); }, Qt::QueuedConnection);
}

QString Controller::engine_description() const {
  if (!client_) return "local: " + QSysInfo::machineHostName();
  return "remote: " + engine_summary_ + " (" + engine_url_ + ")";
}

void Controller::connect_engine(const QString& url, const QString& token) {
  start("Connecting to " + url, [this, url, token](const JobControl& control) -> std::function<void()> {
    control.report("connecting to " + s(url), 0, 1);
    log("connecting to " + url);
    auto client = std::make_shared<remote::EngineClient>(s(url), s(token));
    const remote::ServerInfo info = client->info();
    const std::vector<remote::RemoteModel> models = client->models();
    control.check();
    QStringList ids;
    QString listing;
    for (const auto& m : models) {
      ids << q(m.id);
      listing += QString("\n  %1 (%2, %3 layers, d = %4%5)").arg(q(m.id), q(m.type)).arg(m.num_layers).arg(m.hidden_size)
                     .arg(m.has_tokenizer ? "" : ", no tokenizer: studies' ids only");
    }
    const QString summary = q(info.summary());
    const QString details = QString("connected to %1: Cascade Lens %2 (protocol %3), runs on %4 = %5, BLAS %6; %7 model(s):%8")
                                .arg(url, q(info.version)).arg(info.protocol).arg(q(info.device), summary, q(info.blas))
                                .arg(models.size()).arg(listing);
    return [this, client, url, summary, ids, details] {
      client_ = client;
      engine_url_ = url;
      engine_summary_ = summary;
      Q_EMIT engine_log(details);
      Q_EMIT engine_changed();
      Q_EMIT engine_connected(engine_description(), ids);
    };
  });
}

void Controller::use_local_engine() {
  if (!client_) return;
  if (busy_) {
    Q_EMIT job_rejected("A job is running on the engine: wait for it or press Cancel.");
    return;
  }
  client_.reset();
  engine_url_.clear();
  engine_summary_.clear();
  Q_EMIT engine_log("runs execute here again (" + engine_description() + ")");
  Q_EMIT engine_changed();
}

void Controller::run_remote_model(const RunSettings& settings) {
  if (!busy_) tau_ = settings.tau, rule_ = q(to_string(settings.rule));
  auto client = client_;
  const QString where = engine_description();
  start("Running " + settings.model + " on the engine at " + engine_url_,
        [this, settings, client, where](const JobControl& control) -> std::function<void()> {
          const auto t0 = std::chrono::steady_clock::now();
          remote::RunOptions o;
          o.model = s(settings.model);
          o.text = s(settings.text);
          o.ids = settings.ids;
          if (!o.ids.empty()) o.text.clear();
          RunRequest asked;
          apply_settings(settings, asked);
          remote::copy_run_settings(asked, o);
          o.dtype = settings.dtype;  // the device is the server's (its --device)
          o.with_activations = true;  // τ and the rule stay local and instant
          log(QString("run %1 on %2: %3").arg(settings.model, where,
                                              o.ids.empty() ? QString("%1 bytes of text").arg(o.text.size())
                                                            : QString("%1 token ids").arg(o.ids.size())));
          remote::RemoteRun run;
          try {
            run = remote::run_remote(*client, o, control, {true, kInteractiveGramCacheBytes});
          } catch (const remote::RemoteError& e) {
            log(QString("failed: ") + e.what());
            if (e.status == 0)
              throw Error(std::string("Lost the connection to the engine: ") + e.what() +
                          "\n\nThe previous run is still shown.");
            throw;
          } catch (const Cancelled&) {
            log("cancelled");
            throw;
          }
          auto record = std::make_shared<const RunRecord>(std::move(run.record));
          auto snap = RunSnapshot::of(record, record->analysis);
          const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          const QString received = QLocale().formattedDataSize(static_cast<qint64>(run.session_bytes.size()));
          log(QString("run %1 done: %2 tokens, %3 layers in %4 s; received %5").arg(q(run.id)).arg(snap->T()).arg(snap->L())
                  .arg(secs, 0, 'f', 2).arg(received));
          return [this, snap, secs, where, received, model = settings.model] {
            model_record_ = nullptr;  // the model is on the server: compare's attention methods need it here
            session_path_.clear();
            shown_engine_ = where;
            view_->set_snapshot(snap);
            Q_EMIT job_finished(QString("%1: %2 tokens, %3 layers in %4 s — %5, %6 received")
                                    .arg(model).arg(snap->T()).arg(snap->L()).arg(secs, 0, 'f', 2)
                                    .arg(where, received));
          };
        });
}

void Controller::run_model(const RunSettings& settings) {
  if (client_) {
    run_remote_model(settings);
    return;
  }
  if (!busy_) tau_ = settings.tau, rule_ = q(to_string(settings.rule));
  const QString key = settings.model + "|" + q(to_string(settings.device)) + "|" +
                      (settings.dtype ? q(to_string(*settings.dtype)) : QString("auto"));
  std::shared_ptr<data::LoadedModel> cached = key == model_key_ ? model_ : nullptr;
  start("Running " + (settings.model.isEmpty() ? QString("the bundled demo model") : settings.model),
        [this, settings, key, cached](const JobControl& control) -> std::function<void()> {
          const auto t0 = std::chrono::steady_clock::now();
          std::shared_ptr<data::LoadedModel> model = cached;
          if (!model) {
            control.report("loading model", 0, 1);
            data::ModelRequest load{s(settings.model), settings.device, settings.dtype, {}};
            // The weights' size and dtype on the progress bar while they load ("loading 4.6 GiB in float32").
            load.on_dtype_chosen = [&control](const data::DtypeChoice& choice) {
              control.report("loading " + data::format_bytes(choice.weight_bytes) + " in " + to_string(choice.dtype), 0, 1);
            };
            model = std::make_shared<data::LoadedModel>(data::load_model(load));
            control.report("loading model", 1, 1);
          }
          control.check();
          std::string text = s(settings.text);
          std::vector<int64_t> ids = settings.ids;
          if (ids.empty()) ids = data::encode_text(*model, text);
          else if (model->tokenizer) text = model->tokenizer->decode(ids);
          // The run as a record: saving it keeps the model's identity, device, dtype and text.
          RunRequest request = data::request_for(*model, std::move(ids), text);
          if (static_cast<int64_t>(request.ids.size()) > model->config.max_positions &&
              model->config.max_positions > 0)
            throw UsageError("the text is " + std::to_string(request.ids.size()) + " tokens; this model's context is " +
                             std::to_string(model->config.max_positions));
          apply_settings(settings, request);
          request.gram_cache_bytes = kInteractiveGramCacheBytes;  // fast τ slider
          auto record = std::make_shared<const RunRecord>(::cascade::run_model(*model->model, request, control));
          auto snap = RunSnapshot::of(record, record->analysis);  // the run already analysed at τ
          const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          // A model just loaded: the status line also says its dtype and the weights' size, and why.
          const QString loaded = cached ? QString() : " — " + q(model->dtype_note);
          return [this, model, key, snap, secs, loaded] {
            model_ = model;
            model_key_ = key;
            model_record_ = &snap->record();
            session_path_.clear();
            shown_engine_ = engine_description();
            view_->set_snapshot(snap);
            Q_EMIT job_finished(QString("%1: %2 tokens, %3 layers in %4 s%5").arg(q(snap->record().source))
                                    .arg(snap->T()).arg(snap->L()).arg(secs, 0, 'f', 2).arg(loaded));
          };
        });
}

void Controller::open_activations(const QString& path, double tau, Rule rule, const QString& sweep) {
  if (data::is_session_file(s(path))) {  // a session carries its own τ, rule and sweep
    open_session(path);
    return;
  }
  if (!busy_) tau_ = tau, rule_ = q(to_string(rule));
  start("Opening " + path, [this, path, tau, rule, sweep](const JobControl& control) -> std::function<void()> {
    const ActivationSet acts = data::load_activations(s(path), "");
    auto record = std::make_shared<RunRecord>(
        analyze_activations(acts, parse_tau_grid(s(sweep)), rule, control, kInteractiveGramCacheBytes));
    record->source = s(path);
    auto snap = RunSnapshot::derive(record, tau, rule, control);
    return [this, snap, path] {
      session_path_.clear();
      shown_engine_.clear();
      view_->set_snapshot(snap);
      Q_EMIT job_finished(QString("%1: %2 tokens, %3 layers").arg(path).arg(snap->T()).arg(snap->L()));
    };
  });
}

void Controller::open_session(const QString& path) {
  start("Opening session " + path, [this, path](const JobControl& control) -> std::function<void()> {
    auto record = std::make_shared<const RunRecord>(
        data::read_session(s(path), {true, kInteractiveGramCacheBytes}, control));
    auto snap = RunSnapshot::of(record, record->analysis);  // at the saved τ and rule
    return [this, snap, path] {
      session_path_ = path;
      shown_engine_.clear();
      tau_ = snap->tau();
      rule_ = q(to_string(snap->rule()));
      view_->set_snapshot(snap);
      Q_EMIT tau_changed(tau_);
      Q_EMIT rule_changed(rule_);
      QString summary = QString("%1: %2 tokens, %3 layers, τ = %4, %5").arg(path).arg(snap->T()).arg(snap->L())
                            .arg(snap->tau(), 0, 'f', 3).arg(rule_);
      if (!snap->has_activations())
        summary += QString(" — saved without activations: τ limited to %1").arg(tau_list(snap->record().stored_taus(snap->rule())));
      Q_EMIT job_finished(summary);
    };
  });
}

void Controller::save_session(const QString& path, bool with_activations) {
  if (!view_->has_run()) {
    Q_EMIT job_failed("Nothing to save yet: run a model or open a file first.");
    return;
  }
  // The snapshot is immutable and shared: the worker builds the session from it while the UI goes on.
  const std::shared_ptr<const RunSnapshot> snap = view_->snapshot_ptr();
  const std::vector<Comparison> comparisons = view_->comparisons();
  start("Saving " + path, [this, snap, comparisons, path, with_activations](const JobControl& control) -> std::function<void()> {
    control.report("preparing the session", 0, 1);
    RunRecord record = snap->record_at_snapshot();
    record.comparisons = comparisons;  // what the Methods dock computed (and the record's own)
    control.check();
    try {
      data::write_session(s(path), record, {with_activations}, control);
    } catch (const Cancelled&) {
      throw;
    } catch (const std::exception& e) {
      throw Error(std::string("The session was not saved. ") + e.what());
    }
    const qint64 bytes = QFileInfo(path).size();
    const bool stored = with_activations && record.has_activations();
    return [this, path, bytes, stored, with_activations] {
      const QString what = stored ? "with activations"
                           : with_activations ? "without activations: this run has none"
                                              : "without activations: τ limited to the stored values when reopened";
      Q_EMIT session_saved(path);
      Q_EMIT job_finished(QString("Saved %1 (%2, %3)").arg(path, QLocale().formattedDataSize(bytes), what));
    };
  });
}

bool Controller::tau_limited() const { return view_->has_run() && !view_->snapshot()->has_activations(); }

double Controller::allowed_tau(double tau) const {
  if (!tau_limited()) return tau;
  const auto taus = view_->snapshot()->record().stored_taus(parse_rule(s(rule_)));
  return taus.empty() ? tau : taus[nearest_index(taus, tau)];
}

void Controller::set_tau(double tau) {
  const double asked = tau;
  tau = allowed_tau(tau);
  if (tau == tau_ && view_->has_run()) {
    if (asked != tau) Q_EMIT tau_changed(tau);  // snapped back: the controls show the τ in use
    return;
  }
  tau_ = tau;
  rederive();
  Q_EMIT tau_changed(tau);
}

void Controller::step_tau(int steps) {
  if (!tau_limited()) {
    set_tau(std::clamp(tau_ + 0.01 * steps, 0.0, 1.0));
    return;
  }
  const auto taus = view_->snapshot()->record().stored_taus(parse_rule(s(rule_)));
  if (taus.empty()) return;
  const auto i = static_cast<int64_t>(nearest_index(taus, tau_)) + steps;
  set_tau(taus[static_cast<size_t>(std::clamp<int64_t>(i, 0, static_cast<int64_t>(taus.size()) - 1))]);
}

void Controller::set_rule(const QString& rule) {
  if (rule == rule_) return;
  if (tau_limited()) {
    const auto taus = view_->snapshot()->record().stored_taus(parse_rule(s(rule)));
    if (taus.empty()) {
      Q_EMIT rule_changed(rule_);  // the controls go back to the rule in use
      Q_EMIT job_failed(QString("This session was saved without activations and holds no analysis for the %1 rule, "
                                "so it stays on %2. Open a session saved with activations (or run the model) to "
                                "change the rule freely.").arg(rule, rule_));
      return;
    }
    rule_ = rule;
    const double tau = allowed_tau(tau_);
    const bool moved = tau != tau_;
    tau_ = tau;
    rederive();
    if (moved) Q_EMIT tau_changed(tau_);
    return;
  }
  rule_ = rule;
  rederive();
}

void Controller::rederive() {
  if (!view_->has_run()) return;
  const auto record = view_->snapshot()->record_ptr();
  const double tau = tau_;
  const QString rule = rule_;
  // Gram-cached runs re-derive in a few ms (bench_gui), and so do small ones (the cascade's GEMMs
  // are at most L·T²·d multiply-adds): do it now, on the UI thread.
  // Without activations the snapshot is one of the stored analyses: nothing to compute.
  const double T = static_cast<double>(record->num_tokens());
  const double work = record->analyzer ? static_cast<double>(record->num_layers()) * T * T * static_cast<double>(record->analyzer->dim()) : 0;
  const bool quick = !record->analyzer || record->analyzer->has_gram_cache() || work <= 2e8;
  if (quick && !busy_) {
    try {
      view_->set_snapshot(RunSnapshot::derive(record, tau, parse_rule(s(rule))));
    } catch (const std::exception& e) {
      Q_EMIT job_failed(QString::fromStdString(e.what()));
    }
    return;
  }
  // Large runs: on the worker, the latest τ wins (a change during a job is caught up when it ends).
  if (busy_) return;
  start(QString("Re-deriving at τ = %1").arg(tau, 0, 'f', 3), [this, record, tau, rule](const JobControl& control) -> std::function<void()> {
    auto snap = RunSnapshot::derive(record, tau, parse_rule(s(rule)), control);
    return [this, snap] {
      view_->set_snapshot(snap);
      Q_EMIT job_finished(QString("τ = %1").arg(snap->tau(), 0, 'f', 3));
    };
  });
}

}  // namespace cascade::app

namespace cascade::app {

RunRecord Controller::session_record() const {
  RunRecord record = view_->snapshot()->record_at_snapshot();
  record.comparisons = view_->comparisons();
  return record;
}

bool Controller::has_model_for_run() const {
  return view_->has_run() && model_ && model_record_ == &view_->snapshot()->record();
}

std::vector<double> Controller::tradeoff_taus(size_t n) const {
  if (!view_->has_run()) return {};
  const auto taus = view_->snapshot()->record().stored_taus(view_->snapshot()->rule());
  if (taus.size() <= n || n < 2) return taus;
  std::vector<double> out;
  for (size_t i = 0; i < n; ++i) {
    const double tau = taus[(i * (taus.size() - 1) + (n - 1) / 2) / (n - 1)];
    if (out.empty() || out.back() != tau) out.push_back(tau);
  }
  out.back() = taus.back();
  return out;
}

void Controller::compare(const Budget& budget, bool quality, const std::vector<double>& taus) {
  if (!view_->has_run()) {
    Q_EMIT job_failed("Nothing to compare yet: run a model or open a file first.");
    return;
  }
  const std::shared_ptr<const RunSnapshot> snap = view_->snapshot_ptr();
  if (!snap->has_activations()) {
    Q_EMIT job_failed("This session was saved without activations: the methods need them. Open a session saved with "
                      "activations, an activation file, or run the model.");
    return;
  }
  const CausalLM* model = has_model_for_run() ? model_->model.get() : nullptr;
  if (quality && !model) {
    Q_EMIT job_failed("Perplexity and KL run the model with each method's sets: they need the model run in this window "
                      "(not an activation file or a session). Untick “quality” to compare the sets.");
    return;
  }
  const std::shared_ptr<data::LoadedModel> keep = model ? model_ : nullptr;  // alive while the job runs
  const std::vector<double> at = taus.empty() ? std::vector<double>{snap->tau()} : taus;
  const QString what = at.size() == 1 ? QString("Comparing methods at τ = %1").arg(at.front(), 0, 'f', 3)
                                      : QString("Comparing methods at %1 τ values").arg(at.size());
  start(what, [this, snap, model, keep, budget, quality, at](const JobControl& control) -> std::function<void()> {
    CompareRequest request;
    request.budget = budget;
    request.quality = quality;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<Comparison> out;
    for (size_t i = 0; i < at.size(); ++i) {
      control.check();
      JobControl step = control;  // each τ's progress on the bar, in its stage's words
      if (at.size() > 1)
        step.on_progress = [&control, i, n = at.size(), tau = at[i]](const Progress& p) {
          control.report("τ " + std::to_string(i + 1) + "/" + std::to_string(n) + " (" + QString::number(tau, 'f', 3).toStdString() +
                             "): " + p.stage, p.done, p.total);
        };
      const auto shown = std::abs(at[i] - snap->tau()) < 1e-12 ? snap : RunSnapshot::derive(snap->record_ptr(), at[i], snap->rule(), step);
      out.push_back(compare_methods(shown->record(), shown->analysis(), model, request, step));
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return [this, out = std::move(out), snap, secs] {
      if (!view_->has_run() || &view_->snapshot()->record() != &snap->record()) {
        Q_EMIT job_finished("The run changed while comparing: the comparison was dropped");
        return;
      }
      view_->add_comparisons(out);
      Q_EMIT job_finished(QString("Compared %1 methods at %2 τ in %3 s").arg(out.front().methods.size()).arg(out.size())
                              .arg(secs, 0, 'f', 2));
    };
  });
}

}  // namespace cascade::app
