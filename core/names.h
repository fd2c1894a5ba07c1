#pragma once
// Every SPEC name, written once next to the field it names (llama.cpp's LLM_KV_NAMES). These tables
// drive the session file (HDF5 datasets and attributes), the CSV headers, the JSON keys (data/) and
// the CLI's tables, so a number has one name everywhere.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/measures.h"

namespace cascade {

struct SweepEntry;
struct ModelIdentity;
struct Timings;
struct AdaQuality;
struct MethodLayer;

namespace names {

// A number-valued field of a record R: its SPEC name and how to read it.
template <class R>
struct Field {
  const char* name;                         // CSV header, HDF5 dataset or attribute
  bool integer;                             // a whole number (stored as int64, printed without a point)
  std::optional<double> (*get)(const R&);   // nullopt: no value (depth_jaccard at the last layer, ...)
  const char* meaning = "";                 // SPEC's definition in words (the app's glossary, --help)
  const char* json = nullptr;               // the JSON key where it differs from `name`
  bool derived = false;                     // not stored in session files: re-derived from the stored sets
  const char* key() const { return json ? json : name; }
};

// A string or integer member of a small record, for HDF5 attributes and JSON keys.
template <class R>
struct Text {
  const char* name;
  std::string R::*member;
};
template <class R>
struct Integer {
  const char* name;
  int64_t R::*member;
};
template <class R>
struct Real {
  const char* name;
  double R::*member;
  const char* json = nullptr;
  const char* key() const { return json ? json : name; }
};

using LayerField = Field<LayerMeasures>;
using SummaryField = Field<Summary>;
using SweepField = Field<SweepEntry>;

// SPEC §4 per layer (in CSV column order).
namespace per_layer {
extern const LayerField layer, r_ind, r_casc, depth_jaccard, casc_fidelity, missed, extra, adds, removes, turnover,
    gram_entries_ind, gram_entries_casc, gram_macs_ind, gram_macs_casc, compression_ind, compression_casc;
}
// The run summary: SPEC §4's gram_savings and the means and totals over layers.
namespace summary {
extern const SummaryField mean_depth_jaccard, gram_savings, gram_entries_ind, gram_entries_casc, mean_r_ind,
    mean_r_casc, mean_compression_ind, mean_compression_casc, mean_casc_fidelity, mean_turnover, total_missed,
    total_extra, total_adds, total_removes;
}
// One τ of the sweep: tau, theta, r/T, the ADA quality there, and the summary's fields (by the same names).
namespace sweep {
extern const SweepField tau, theta, r_ind_over_T, r_casc_over_T, ada_error, delta_ppl;
const SweepField& of(const SummaryField& field);  // a summary field read from a sweep entry
}

const std::vector<const LayerField*>& layer_fields();  // in CSV column order
const LayerField& layer_field(const std::string& name);  // std::out_of_range for an unknown name
const std::vector<const SummaryField*>& summary_fields();
// tau, theta, mean_r_ind, mean_r_casc, r_ind_over_T, r_casc_over_T, gram_savings, gram_entries_ind,
// gram_entries_casc, mean_depth_jaccard, mean_casc_fidelity, mean_turnover, total_missed,
// total_extra, total_adds, total_removes, ada_error, delta_ppl (sweep.csv's columns after rule).
const std::vector<const SweepField*>& sweep_fields();

// Who made a run: the model's identity and the timings.
const std::vector<Text<ModelIdentity>>& model_texts();        // name, model_type, config_sha256, revision
const std::vector<Integer<ModelIdentity>>& model_integers();  // num_layers, hidden_size, num_heads, vocab_size
const std::vector<Real<Timings>>& timing_fields();            // forward_ms (JSON: forward), selection_ms, quality_ms
const std::vector<Real<AdaQuality>>& quality_fields();        // ppl_exact, ppl_ada, mean_kl

// One baseline method at one layer (SPEC §7 axes; core/methods.h): layer, r, coverage, covered,
// attn_err, selection_ms, selection_macs (the per-layer JSON keys, CSV columns and session datasets).
using MethodField = Field<MethodLayer>;
namespace method_layer {
extern const MethodField layer, r, coverage, covered, attn_err, selection_ms, selection_macs;
}
const std::vector<const MethodField*>& method_fields();

}  // namespace names
}  // namespace cascade
