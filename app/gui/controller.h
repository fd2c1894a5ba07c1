#pragma once
// Runs the long work off the UI thread — loading a model, the forward pass and selection, the τ
// sweep, opening an activation file, reading and writing a session file — one job at a time, with
// progress, cancel and a clear error. Results arrive on the UI thread as a new snapshot in the
// RunView. A τ or rule change re-derives from the cached τ-free data (never re-running the model);
// a session saved without activations has no such cache, so τ snaps to the values it stores.
#include <QObject>
#include <QString>
#include <QStringList>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <thread>

#include "core/ada.h"
#include "core/defaults.h"
#include "core/run_record.h"
#include "widgets/run_view.h"

namespace cascade::data {
struct LoadedModel;
}
namespace cascade::remote {
class EngineClient;
}

namespace cascade::app {

struct RunSettings {
  QString model;   // HF folder or cache id; empty: the bundled demo model
  QString text;    // the text to run
  double tau = kDefaultTau;
  Rule rule = Rule::PriorMax;
  AttentionMode attention = AttentionMode::Exact;
  DeviceKind device = DeviceKind::Cpu;
  std::optional<DType> dtype;  // none: data::choose_dtype's default (float32 on the CPU when it fits, else bfloat16)
  QString sweep = kDefaultTauGrid;  // τ grid of the sweep view
  bool quality = true;              // ppl, KL and ADA attention error at the chosen τ (one extra pass)
  bool quality_sweep = false;       // ADA error and ΔPPL at every τ of the grid (one more ADA pass per τ)
  // A study's document (SPEC §8): these token ids as they were run, not `text` re-tokenized; the
  // text shown is their decoding when the model has a tokenizer.
  std::vector<int64_t> ids;
};

class Controller : public QObject {
  Q_OBJECT
 public:
  explicit Controller(widgets::RunView* view, QObject* parent = nullptr);
  ~Controller() override;  // cancels and joins a running job

  void run_model(const RunSettings& settings);
  // A session file (data::is_session_file) is opened as a session: tau, rule and sweep are its own.
  void open_activations(const QString& path, double tau, Rule rule, const QString& sweep = kDefaultTauGrid);
  // Reads a session file (data/session/session_file.h) and shows it at its saved τ and rule.
  void open_session(const QString& path);
  // Writes what the view shows (its τ and rule, the run's sweep, model identity, text, …) as a
  // session; with_activations adds the fp16 X̂ so τ and the rule stay changeable when it is reopened.
  // The file is replaced atomically; a cancel or an error leaves it as it was.
  void save_session(const QString& path, bool with_activations);
  // The record save_session writes: the shown run at its τ and rule, with the view's comparisons
  // (the Methods dock's and the record's own) in RunRecord::comparisons. Needs a run.
  RunRecord session_record() const;
  // Re-derives the snapshot at a new τ / rule from the cached run (synchronous for small runs).
  // Without activations τ snaps to the nearest stored value for the rule (tau_changed says which),
  // and a rule with no stored analysis is refused with a message (rule_changed restores the old one).
  void set_tau(double tau);
  void set_rule(const QString& rule);
  // Moves τ by `steps`: ±0.01 each, or to the next stored value when τ is limited.
  void step_tau(int steps);
  // The run shown can only take stored τ values (a session saved without activations).
  bool tau_limited() const;
  // The session file the shown run was opened from; empty after a model run or an activation file.
  QString session_path() const { return session_path_; }
  // SPEC §7 on the shown run (the Methods dock): every method at the shown τ — or at each of `taus`
  // (the trade-off over the sweep) — and `budget`; with quality also ppl and KL (one model pass per
  // method). Attention methods and quality need the model this process ran the record with; without
  // it they say "needs the model". The comparisons go into the view (RunView::add_comparisons).
  void compare(const Budget& budget, bool quality, const std::vector<double>& taus = {});
  // Whether the shown run was made by the model held here (not a file or a session).
  bool has_model_for_run() const;
  // Up to `n` τ of the shown run's sweep (its own rule), evenly spread, the ends kept.
  std::vector<double> tradeoff_taus(size_t n = 8) const;
  // Where runs execute (data/REMOTE_PROTOCOL.md). connect_engine is a job: it asks the server at
  // `url` for its info and models, and on success every later run_model goes there (the result
  // comes back as a session with activations, so τ and the rule stay local and instant);
  // engine_connected says on what, and with which models. A failure is a job_failed and leaves the
  // engine as it was. use_local_engine goes back to running here.
  void connect_engine(const QString& url, const QString& token);
  void use_local_engine();
  bool remote() const { return client_ != nullptr; }
  QString engine_url() const { return engine_url_; }
  // "local: CPU" or "remote: NVIDIA H200, 150 GB (http://127.0.0.1:7341)", for the status bar.
  QString engine_description() const;
  // Where the shown run executed: engine_description() at the time for a model run, "" for a file.
  QString shown_run_engine() const { return shown_engine_; }
  void cancel();
  bool busy() const { return busy_; }
  // Blocks until the running job (if any) has delivered its result (tests and shutdown).
  void wait();
  double tau() const { return tau_; }
  QString rule_name() const { return rule_; }

 Q_SIGNALS:
  void job_started(const QString& what);
  void progress(const QString& stage, qint64 done, qint64 total);
  void job_finished(const QString& summary);
  void job_failed(const QString& message);  // a clear one-paragraph message, never a crash
  void job_rejected(const QString& why);     // a job was asked for while another runs (nothing stopped)
  void job_cancelled();
  void tau_changed(double tau);
  void rule_changed(const QString& rule);  // the rule now in use (a session's own, or a refused change undone)
  void session_saved(const QString& path);  // before the job_finished that reports it
  // connect_engine succeeded: the description (engine_description()) and the models it exposes.
  void engine_connected(const QString& description, const QStringList& models);
  void engine_changed();  // local again, or connected elsewhere
  void engine_log(const QString& line);  // the engine console: what was sent where, what came back

 private:
  using Job = std::function<std::function<void()>(const JobControl&)>;  // returns the UI-thread completion
  void start(const QString& what, Job job);
  void run_remote_model(const RunSettings& settings);
  void log(const QString& line);  // engine_log, from any thread
  void rederive();
  // τ snapped to the nearest stored value for the current rule when τ is limited, else τ itself.
  double allowed_tau(double tau) const;

  widgets::RunView* view_;
  std::thread worker_;
  std::atomic<bool> cancel_{false};
  bool busy_ = false;
  double tau_ = kDefaultTau;
  QString rule_ = QString::fromStdString(to_string(Rule::PriorMax));
  QString session_path_;
  std::shared_ptr<data::LoadedModel> model_;  // cached between runs of the same model/device/dtype
  QString model_key_;
  const RunRecord* model_record_ = nullptr;  // the record model_ made (compare uses the model only for it)
  // The remote engine (null: local). Used by one job at a time, on the worker thread.
  std::shared_ptr<remote::EngineClient> client_;
  QString engine_url_, engine_summary_;  // its URL, and "NVIDIA H200, 150 GB"
  QString shown_engine_;
};

}  // namespace cascade::app
