#pragma once
// Where a run's model and text come from, shared by the CLI and the GUI: the bundled demo assets
// (data/demo/), and loading an HF model folder or cache id onto a device in a dtype.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/model_config.h"
#include "core/engine.h"
#include "core/tokenizer.h"
#include "data/hf/weight_memory.h"

namespace cascade::data {

// A path under the repository's data/ folder: $CASCADE_DATA_DIR, then ../share/cascadelens and
// ../../data beside the running executable, then the source tree it was built from. Throws
// InputError naming the relative path when none has it.
std::string bundled_data_path(const std::string& relative);

// The bundled demo model folder (data/demo/model, made by `cascadelens-cli train-demo`). Throws
// UsageError saying how to train it when it is not there.
std::string bundled_model_dir();
// The bundled texts (data/demo/texts/*.txt), sorted by name; the default one is teaching.txt.
std::vector<std::string> bundled_text_paths();
std::string bundled_default_text_path();
// The synthetic activation file of data/demo/synthetic (no model needed).
std::string bundled_synthetic_file();

std::string read_text_file(const std::string& path);  // InputError when unreadable

struct ModelRequest {
  std::string spec;                    // HF folder or cache id; empty: the bundled demo model
  DeviceKind device = DeviceKind::Cpu;
  std::optional<DType> dtype;          // none: choose_dtype's default (weight_memory.h)
  // Told the dtype decision (the weights' size, the dtype and the line saying why) before the
  // weights are loaded.
  std::function<void(const DtypeChoice&)> on_dtype_chosen;
};

struct LoadedModel {
  std::string spec;  // what was asked for ("" → the bundled model's folder)
  std::string dir;   // the resolved folder
  ModelConfig config;
  std::unique_ptr<CausalLM> model;
  std::unique_ptr<Tokenizer> tokenizer;  // null when the folder has no usable tokenizer files
  std::string tokenizer_error;           // then why: no files, or the file and its problem
  DeviceKind device = DeviceKind::Cpu;   // as requested
  DType dtype = DType::Float32;          // as requested, or as choose_dtype chose
  std::string dtype_note;                // choose_dtype's line: size of the weights, dtype and why
  std::string label() const;             // "spec (dir)" or just dir
};

// Resolves, reads the config, sizes the weights from their headers and chooses the dtype
// (choose_dtype with the machine's available memory), then reads the weights and builds the model
// on the device. UsageError for a bad device/dtype, InputError for a bad folder or file and for
// weights that fit in memory in no dtype.
LoadedModel load_model(const ModelRequest& request);

// The model's display string for every id (the id itself without a tokenizer).
std::vector<std::string> display_tokens(const LoadedModel& m, const std::vector<int64_t>& ids);

// Tokenizes text with BOS where the model wants it; InputError without a tokenizer (saying why: no
// tokenizer files, or which file is damaged and how), UsageError when nothing is left.
std::vector<int64_t> encode_text(const LoadedModel& m, const std::string& text);

// What a session records of the model: name, type, shape, the SHA-256 of config.json, and the
// revision — the HF cache snapshot (commit hash) the folder is, or "local".
ModelIdentity model_identity(const LoadedModel& m);

// A request for `m` with what the record keeps about it: the label, the identity (hash, revision)
// and the text the ids came from.
RunRequest request_for(const LoadedModel& m, std::vector<int64_t> ids, const std::string& text);

}  // namespace cascade::data
