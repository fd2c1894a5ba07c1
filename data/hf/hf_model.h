#pragma once
// Hugging Face models on disk: where a model lives (a folder, or a hub id in the local HF cache),
// what its config.json says (with each model_type's HF defaults applied), and its weights
// (safetensors, sharded safetensors or pytorch_model.bin, memory-mapped). Nothing here downloads.
//
//   hf_cache.cpp           resolve_model, resolve_model_path, list_cached_models, cached_models
//   hf_config.cpp          read_hf_config
//   checkpoint_weights.cpp CheckpointWeights (over tensor_file.h: safetensors and torch_zip.cpp)
//   hf_model.cpp           open_hf_model
//
// Every problem with the files throws cascade::InputError whose message names the file.
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/model_config.h"
#include "core/weights.h"
#include "data/hf/weight_memory.h"

namespace cascade::data {

// ---- where a model lives ----

struct ResolvedModel {
  std::string dir;          // the folder holding config.json
  std::string name;         // the hub id when found in the HF cache, else the folder's name
  bool from_cache = false;
};

// A folder containing config.json is taken as is. Anything else is a hub id "ORG/NAME" or "NAME"
// looked up in the HF cache (hf_cache_root()): models--ORG--NAME/snapshots/REV, REV being
// refs/main when present, else the newest snapshot that has a config.json. The InputError says
// what was tried and lists the cached models.
ResolvedModel resolve_model(const std::string& dir_or_id);
std::string resolve_model_path(const std::string& dir_or_id);  // resolve_model(...).dir

// $HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else
// ~/.cache/huggingface/hub (huggingface_hub's own order).
std::string hf_cache_root();

// Hub ids of the cached models that resolve_model would accept, sorted.
std::vector<std::string> list_cached_models();

// A cached model as a model list shows it: what it is and whether it can run.
struct CachedModel {
  std::string id;          // hub id, as list_cached_models gives it
  std::string dir;         // its snapshot folder
  std::string model_type;  // config.json's, "" when it has none or cannot be read
  std::string problem;     // why it cannot be opened ("" when it can): read_hf_config's message, e.g.
                           // unsupported_model_type's, or the weights' (none, damaged)
  std::optional<WeightFootprint> weights;  // from the weights' headers (weight_memory.h); none when unknown
};

// Every model of list_cached_models with its type, the supported ones and the others alike, sorted
// by id. Reads config.json and the weights' headers of each, never a tensor.
std::vector<CachedModel> cached_models();

// ---- config.json ----

// Reads MODEL_DIR/config.json for a model_type of the architecture table (core/models/architectures.h),
// applying the HF class defaults for absent keys (see shared/fixtures/README.md). name = the folder's name.
ModelConfig read_hf_config(const std::string& model_dir);
std::string model_folder_name(const std::string& model_dir);  // "models/gpt2/" → "gpt2"
const std::vector<std::string>& supported_model_types();  // the table's, in its order

// ---- weights ----

class TensorFile;  // data/formats/tensor_file.h

// The tensors of a model folder, from the first of: model.safetensors.index.json (sharded),
// model.safetensors, pytorch_model.bin.index.json (sharded), pytorch_model.bin. Opening validates
// every header, index and offset but reads no tensor data: the files are memory-mapped, and the
// tensors get() returns view the mapping (copied only when misaligned) and stay valid after this
// object is gone.
class CheckpointWeights : public WeightSource {
 public:
  explicit CheckpointWeights(const std::string& model_dir);
  ~CheckpointWeights() override;

  bool has(const std::string& name) const override;
  at::Tensor get(const std::string& name) const override;
  std::vector<std::string> names() const override;  // index or file order
  std::string describe() const override;             // the index or weights file they come from
  std::vector<std::string> files() const;            // the files mapped

 private:
  void open_index(const std::string& index_path, bool safetensors);
  void add_file(std::unique_ptr<TensorFile> file);

  std::string source_;
  std::vector<std::unique_ptr<TensorFile>> files_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, const TensorFile*> owner_;
};

// ---- all together ----

struct HfModel {
  std::string dir;
  ModelConfig config;  // name: the hub id when resolved from the cache
  std::shared_ptr<CheckpointWeights> weights;
};

HfModel open_hf_model(const std::string& dir_or_id);

}  // namespace cascade::data
