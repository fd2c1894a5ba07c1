#pragma once
// SPEC §8 studies: many documents (windows of a corpus), one table. The in-memory study — its
// parameters, documents and per-document arrays — and what is computed from the table alone: the
// aggregates over documents and the paired comparisons. Torch-free: the study file
// (data/study/study_file.h), the CLI's `study` and the GUI's study window share it. Running a model
// over the documents is core/study_runner.h.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/stats.h"

namespace cascade::study {

// One window of T tokens of a source text (SPEC §8).
struct Document {
  std::string id;       // 16 lower-case hex digits (data/study/corpus.h: document_id)
  std::string source;   // relative to the corpus root: "a/b.txt", or "c.jsonl:12" (line 12 of a JSONL file)
  int64_t offset = 0;   // byte offset in the source text of the window's first token
  int64_t T = 0;        // tokens in the window (the BOS the model's tokenizer adds included)
  int64_t index = 0;    // position in the enumeration of the whole corpus: the canonical order
  std::vector<int64_t> ids;
};

// (The id itself, SHA-256 over source, offset, T and the tokenizer, is data/study/corpus.h's document_id.)
uint64_t id_value(const std::string& id);  // the id read as a 64-bit hexadecimal number
// SPEC §8 sharding: id_value(id) mod shards.
int64_t shard_of(const std::string& id, int64_t shards);

// Every parameter the numbers depend on, as (name, value) text in a fixed order. A rerun into the
// same file compares these; the file stores them as attributes of /params.
struct Params {
  std::vector<std::pair<std::string, std::string>> items;
  void set(const std::string& name, const std::string& value);
  std::optional<std::string> get(const std::string& name) const;
  // "" when equal, else the first difference in words: "--taus: the file has 0.3, this run 0.3,0.4".
  // Names in `ignore` (e.g. the shard) are not compared.
  std::string difference(const Params& other, const std::vector<std::string>& ignore = {}) const;
};

// One per-document quantity: `name` is its path in the study file ("layers/r_ind", "summary/gram_savings",
// "quality/delta_ppl", "methods/attn_err"); each document has prod(shape) values, row-major; NaN where
// there is none (depth_jaccard at the last layer, turnover at the first, an axis a method cannot measure).
struct Array {
  std::string name;
  std::vector<int64_t> shape;  // per document, e.g. {L, taus} for layers/*, {modes, taus} for quality/*
  std::vector<double> values;  // documents × prod(shape)
  int64_t per_document() const;
  double at(int64_t document, int64_t flat) const { return values[static_cast<size_t>(document * per_document() + flat)]; }
};

// A document that could not be read or run (the rest of the study went on).
struct Failure {
  std::string source;
  std::string why;
};

struct Study {
  Params params;                       // every parameter, the model's identity and the software version
  std::vector<double> taus;            // the τ grid, in the order given (the first is the headline τ)
  std::vector<int64_t> layers;         // the analysed layer ids
  std::vector<std::string> quality_modes;  // ADA modes measured against exact ("ada-cascade", "ada-independent")
  std::vector<std::string> methods;        // SPEC §7 methods compared at the first τ ("cascade", "random", ...)
  std::vector<Document> documents;     // in canonical order (Document::index ascending)
  std::vector<Array> arrays;           // rows: documents, in the same order
  std::vector<double> elapsed_ms;      // per document, wall time of its work (not part of the results)
  std::vector<Failure> failures;
  uint64_t seed = 0;                   // the bootstrap's seed (--seed)
  int64_t resamples = stats::kBootstrapResamples;

  const Array* find(const std::string& name) const;  // null when absent
  int64_t tau_index(double tau) const;               // −1 when not in the grid
  int64_t layer_index(int64_t layer) const;          // −1 when not analysed
  // The values of array `name` at flat per-document position `flat`, one per document.
  std::vector<double> column(const std::string& name, int64_t flat) const;
};

// The documents' arrays from the run of one document, in the study's layout. The runner fills it;
// the file appends it.
struct DocumentResult {
  Document document;
  std::vector<Array> arrays;  // each with values of one document
  double elapsed_ms = 0;
};

// Appends one document's arrays as a new row (the arrays' names and shapes must match the study's,
// or the study must be empty of arrays: then it takes this layout). Throws InputError otherwise.
void append(Study& study, const DocumentResult& result);
// The model a study ran: params "model" when recorded, else "model_name" (the hub id or folder the
// runner records); "" when neither. What a document is re-run with.
std::string model_spec(const Study& study);
// The study's model as figures and tables name it (short_source of its "model" or "model_name": "demo-model"
// for the bundled one, a folder by its last part, a hub id as it is), "" when unknown.
std::string model_label(const Study& study);

// Document d of the study as a DocumentResult (its arrays' values, its elapsed time).
DocumentResult row(const Study& study, int64_t d);
// Sorts documents (and every array's rows and elapsed_ms) by Document::index; drops a repeated id
// keeping the first. Returns how many repeats were dropped.
int64_t canonicalize(Study& study);

// The per-document mean over layers of a layers/* array at τ index `t` (NaNs left out; NaN when
// the document has none) — SPEC §8's "over all layers".
std::vector<double> over_layers(const Study& study, const std::string& name, int64_t t);

// The same for a methods/* array [methods, layers]: per document the mean over layers of method k.
std::vector<double> method_over_layers(const Study& study, const std::string& name, int64_t k);

// Per document the r/T of method k: its mean r over layers (methods/r) over the document's T.
std::vector<double> method_r_over_T(const Study& study, int64_t k);

// Aggregates over documents of one array: one Describe per per-document position (row-major over
// the array's shape); for layers/* arrays also one per τ over all layers (`over_layers`), and for the
// per-layer methods/* arrays one per method over all layers.
struct ArrayAggregate {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<stats::Describe> cells;        // prod(shape)
  std::vector<stats::Describe> over_layers;  // layers/*: one per τ; methods/<axis> [methods, L]: one per method
};

// One paired comparison (SPEC §8): `a` vs `b` on a per-document quantity at one τ.
struct PairedRow {
  std::string quantity;  // "delta_ppl", "kl", "attn_err", "coverage"
  std::string a, b;      // "ada-cascade" vs "ada-independent", or "cascade" vs a method
  double tau = 0;
  stats::Paired result;
};

struct Aggregates {
  std::vector<ArrayAggregate> arrays;
  std::vector<PairedRow> paired;
  const ArrayAggregate* find(const std::string& name) const;
};

// Everything from the per-document table alone (never from partial aggregates), with the study's
// seed and resamples: so any sharding gives bit-identical numbers. Paired rows: ada-cascade vs
// ada-independent on delta_ppl, kl and attn_err at every τ (when both modes were measured); cascade
// vs every other method on attn_err and coverage (document means over layers) and, when measured,
// delta_ppl and kl, at the first τ.
Aggregates aggregate(const Study& study);

// The §4 per-layer measures a study keeps (names::layer_fields() but `layer`, plus r_ind_over_T and
// r_casc_over_T), the summary fields, the quality and the method axes: the array names, written once.
const std::vector<std::string>& layer_measure_names();
const std::vector<std::string>& summary_measure_names();
const std::vector<std::string>& quality_measure_names();      // ppl_ada, delta_ppl, kl, attn_err ([modes, taus])
const std::vector<std::string>& method_layer_axis_names();    // r, coverage, covered, attn_err ([methods, L])
const std::vector<std::string>& method_quality_names();       // ppl, delta_ppl, kl ([methods])

}  // namespace cascade::study
