#pragma once
// The one τ-free record of an analysed run. The engine returns it for a model run
// (core/engine.h), analyze_activations makes it for an activation file, and data/session/session_file.h
// writes and reads it; the GUI, the CLI and the figures derive τ-bound snapshots from it
// (core/snapshot.h). Nothing converts it into another record type.
#include <ATen/core/Tensor.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/activations.h"
#include "core/ada.h"
#include "core/analyzer.h"
#include "core/measures.h"
#include "core/methods.h"
#include "core/selection.h"

namespace cascade {

// The schema version this build writes, and the newest it reads (data/SESSION_FORMAT.md).
inline constexpr int64_t kSessionFormatVersion = 3;

// What the record was made from. Names: "model" | "activations".
enum class SourceKind { Model, Activations };
std::string to_string(SourceKind kind);
SourceKind parse_source_kind(const std::string& name);  // UsageError for another name

// The floating-point types a model runs in and activations come in. Names: float32 | bfloat16 | float16.
enum class DType { Float32, BFloat16, Float16 };
std::string to_string(DType dtype);
DType parse_dtype(const std::string& name);  // UsageError: "dtype must be float32, bfloat16 or float16, got 'x'"
at::ScalarType scalar_type(DType dtype);
DType dtype_of(at::ScalarType type);  // float32 for anything else

// Where a model runs. Names: cpu | cuda (ROCm builds of LibTorch say cuda too).
enum class DeviceKind { Cpu, Cuda };
std::string to_string(DeviceKind device);
DeviceKind parse_device(const std::string& name);  // UsageError: "device must be cpu or cuda, got 'x'"

struct ModelIdentity {
  std::string name;           // hub id or folder name
  std::string model_type;     // gpt2, opt, gptj, gpt_neox, llama
  std::string config_sha256;  // SHA-256 of config.json's bytes (hex); empty when unknown
  std::string revision;       // the HF cache snapshot (commit hash), or "local" for a plain folder
  int64_t num_layers = 0, hidden_size = 0, num_heads = 0, vocab_size = 0;
  bool operator==(const ModelIdentity&) const = default;
};

struct AdaQuality {
  // Relative error ‖Attn_ADA − Attn‖_F / ‖Attn‖_F of each block's attention output, per head,
  // on the ADA run's own q/k/v ([L][H]).
  std::vector<std::vector<double>> attention_error;
  double ppl_exact = 0, ppl_ada = 0;  // perplexity of ids[1..] given the prefix
  double mean_kl = 0;                 // mean over positions of KL(exact ‖ ADA) of next-token distributions
};

// Mean over every layer and head of AdaQuality::attention_error (0 when there is none).
double mean_attention_error(const AdaQuality& q);

struct Timings {
  double forward_ms = 0;    // the forward pass in the requested attention mode (with capture)
  double selection_ms = 0;  // normalisation, prior-max scan, sets, cascade, measures
  double quality_ms = 0;    // the extra exact pass and the comparisons, when asked
};

// One τ of the sweep: the whole analysis, and the ADA quality at that τ when it was measured.
struct SweepEntry {
  Analysis analysis;
  std::optional<double> ada_error;  // mean relative attention error of ADA-cascade vs exact
  std::optional<double> delta_ppl;  // ppl_ada − ppl_exact
};

// What a model's forward pass produced besides the analysis, kept only for the run in this process
// (--dump-activations writes it; sessions do not store it).
struct ForwardCapture {
  ActivationSet activations;  // residual stream entering each block, [L, T, d] float32 on the CPU
  at::Tensor final_residual;  // after the last block, before the final norm (SPEC layer L), [T, d]
  at::Tensor final_hidden;    // HF's last hidden_states entry: the final norm applied, [T, d]
  at::Tensor logits;          // [T, V] float32, from the requested attention mode
};

struct RunRecord {
  // Identity: who made it, from what, on what.
  std::string app_version;  // the Cascade Lens that made it
  std::string created;      // ISO 8601 UTC, e.g. 2026-11-22T10:04:05Z
  SourceKind kind = SourceKind::Model;
  std::string source;                  // model label or activation file, for display
  std::optional<ModelIdentity> model;  // kind == Model
  std::string text;                    // the text that was run ("" for activation files and --ids)
  std::vector<int64_t> ids;            // token ids ([] for activation files)
  std::vector<std::string> tokens;     // T display strings (indices when the input had none)
  // How it was made (τ and rule are the analysis's own).
  AttentionMode attention = AttentionMode::Exact;
  NearestRule nearest = NearestRule::Paper;
  DeviceKind device = DeviceKind::Cpu;
  DType dtype = DType::Float32;
  // The τ-free cache: X̂ and γ/π of every analysed layer. Null for a session saved without
  // activations: then τ and the rule can take only the stored values (analysis and sweep), and the
  // queries that need X̂ are unavailable.
  std::shared_ptr<const Analyzer> analyzer;
  std::vector<PriorMax> prior_max;  // γ/π when there is no analyzer (a session without activations)
  // The analyses kept with the run.
  Analysis analysis;               // SPEC §4 at the τ and rule it was made (or saved) at
  std::vector<SweepEntry> sweep;   // ascending τ (may be empty)
  std::optional<AdaQuality> quality;
  AttentionMode quality_mode = AttentionMode::AdaCascade;  // the ADA mode `quality` compares with exact
  Timings timings;
  // SPEC §7 baselines compared on this run (compare, the GUI's Methods dock), when they were computed.
  std::vector<Comparison> comparisons;
  std::shared_ptr<const ForwardCapture> capture;  // a model run in this process, when asked (RunRequest::keep_capture)

  int64_t num_layers() const;
  int64_t num_tokens() const;
  std::vector<int64_t> layer_ids() const;
  bool has_activations() const { return analyzer != nullptr; }
  const PriorMax& prior_max_of(int64_t layer) const;  // from the analyzer, else the stored γ/π
  // The analysis stored for τ and rule (the record's own or a sweep point), or null.
  const Analysis* stored(double tau, Rule rule) const;
  // The τ values stored for `rule`, ascending, without repeats.
  std::vector<double> stored_taus(Rule rule) const;
};

// What a figure may print about where the run came from: the model's hub id or folder name ("demo-
// model" for the bundled data/demo/model), or the activation file's name; never a local path.
std::string short_source(const RunRecord& record);

// The record of an activation file: normalised and scanned here, with the sweep over `taus` (no
// analysis at a τ yet: derive a snapshot for that).
RunRecord analyze_activations(const ActivationSet& acts, const std::vector<double>& taus, Rule rule,
                              const JobControl& control = {}, int64_t gram_cache_bytes = 0);

// The sweep as record entries (no ADA numbers).
std::vector<SweepEntry> sweep_entries(const std::vector<Analysis>& analyses);

// Every analysed layer's X̂ from an Analyzer, stacked [L, T, d] on the CPU in `dtype` (float16 for files).
at::Tensor stack_normalized(const Analyzer& analyzer, at::ScalarType dtype);

// The Analysis the stored sets imply: rebuilds the cascade traces from reps_casc, added and
// removed and re-measures (one definition of every SPEC §4 number, core/measures.h). Used by the
// reader; `where` names the group in errors. Throws InputError when the sets contradict each other
// (a result that is not valid ∪ added, a removed token that was not inherited, ...).
Analysis remeasure(int64_t T, int64_t d, double tau, Rule rule, const std::vector<int64_t>& layer_ids,
                   const std::vector<TokenSet>& independent, const std::vector<TokenSet>& cascade,
                   const std::vector<TokenSet>& added, const std::vector<TokenSet>& removed,
                   const std::string& where);

// Now as ISO 8601 UTC.
std::string utc_now_iso8601();

}  // namespace cascade
