// CheckpointWeights: the weights of a model folder, from one file or from shards named by an
// index (model.safetensors.index.json / pytorch_model.bin.index.json, as save_pretrained writes
// them: {"metadata": {...}, "weight_map": {tensor name: shard file}}).
#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "data/hf/hf_model.h"
#include "data/formats/tensor_file.h"

namespace cascade::data {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;  // keeps weight_map's order for names()

// Shard names are plain file names beside the index; refuse paths that leave the folder.
void check_shard_name(const std::string& index_path, const std::string& shard) {
  const fs::path path(shard);
  const bool escapes = path.is_absolute() || std::any_of(path.begin(), path.end(), [](const fs::path& part) {
                         return part == "..";
                       });
  if (shard.empty() || escapes)
    throw InputError(index_path, "weight_map names shard '" + shard + "', which is not a file beside the index");
}

// The weight_map, checked to be an object of tensor name → shard file name.
Json read_weight_map(const std::string& index_path) {
  std::ifstream in(index_path, std::ios::binary);
  if (!in) throw InputError(index_path, "cannot open for reading");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const Json index = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (index.is_discarded() || !index.is_object()) throw InputError(index_path, "is not a JSON object");
  auto map = index.find("weight_map");
  if (map == index.end() || !map->is_object()) throw InputError(index_path, "has no \"weight_map\" object");
  if (map->empty()) throw InputError(index_path, "weight_map is empty");
  for (const auto& [name, shard] : map->items()) {
    if (!shard.is_string()) throw InputError(index_path, "weight_map entry '" + name + "' is not a file name");
    check_shard_name(index_path, shard.get<std::string>());
  }
  return *map;
}

// The names most like `wanted` (longest common suffix first), for "did you mean" messages: a
// missing prefix such as "transformer." is the usual reason a lookup fails.
std::vector<std::string> similar_names(const std::vector<std::string>& names, const std::string& wanted, size_t count) {
  auto common_suffix = [&](const std::string& name) {
    size_t n = 0;
    while (n < name.size() && n < wanted.size() && name[name.size() - 1 - n] == wanted[wanted.size() - 1 - n]) ++n;
    return n;
  };
  std::vector<std::string> out = names;
  std::stable_sort(out.begin(), out.end(),
                   [&](const std::string& a, const std::string& b) { return common_suffix(a) > common_suffix(b); });
  out.resize(std::min(count, out.size()));
  return out;
}

// The folder's files that look like weights, for the "no weights found" message.
std::string weight_like_files(const std::string& dir) {
  std::string out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string ext = entry.path().extension().string();
    if (ext == ".safetensors" || ext == ".bin" || ext == ".pt" || ext == ".pth" || ext == ".gguf")
      out += (out.empty() ? "" : ", ") + entry.path().filename().string();
  }
  return out.empty() ? "none" : out;
}

}  // namespace

CheckpointWeights::CheckpointWeights(const std::string& model_dir) {
  const fs::path dir(model_dir);
  std::error_code ec;
  auto exists = [&](const char* file) { return fs::is_regular_file(dir / file, ec); };
  if (exists("model.safetensors.index.json")) {
    open_index((dir / "model.safetensors.index.json").string(), /*safetensors=*/true);
  } else if (exists("model.safetensors")) {
    source_ = (dir / "model.safetensors").string();
    add_file(open_safetensors_mapped(source_));
  } else if (exists("pytorch_model.bin.index.json")) {
    open_index((dir / "pytorch_model.bin.index.json").string(), /*safetensors=*/false);
  } else if (exists("pytorch_model.bin")) {
    source_ = (dir / "pytorch_model.bin").string();
    add_file(open_torch_zip(source_));
  } else {
    throw InputError(model_dir, "no weights found (looked for model.safetensors.index.json, model.safetensors, "
                                "pytorch_model.bin.index.json, pytorch_model.bin; weight-like files there: " +
                                    weight_like_files(model_dir) + ")");
  }
}

CheckpointWeights::~CheckpointWeights() = default;

void CheckpointWeights::add_file(std::unique_ptr<TensorFile> file) {
  for (const auto& name : file->names())
    if (owner_.emplace(name, file.get()).second) names_.push_back(name);
  files_.push_back(std::move(file));
}

// Opens every shard once, then checks that each mapped tensor is really in its shard; tensors a
// shard holds beyond the weight_map are ignored, as HF does.
void CheckpointWeights::open_index(const std::string& index_path, bool safetensors) {
  source_ = index_path;
  const Json weight_map = read_weight_map(index_path);
  const fs::path dir = fs::path(index_path).parent_path();
  std::unordered_map<std::string, const TensorFile*> shards;
  for (const auto& [name, shard_value] : weight_map.items()) {
    const std::string shard = shard_value.get<std::string>();
    if (!shards.count(shard)) {
      const fs::path shard_path = dir / shard;
      std::error_code ec;
      if (!fs::is_regular_file(shard_path, ec))
        throw InputError(index_path, "shard '" + shard + "' (holding '" + name + "') does not exist in " + dir.string());
      files_.push_back(safetensors ? open_safetensors_mapped(shard_path.string()) : open_torch_zip(shard_path.string()));
      shards.emplace(shard, files_.back().get());
    }
    const TensorFile* file = shards.at(shard);
    if (!file->has(name))
      throw InputError(index_path, "maps tensor '" + name + "' to " + file->path() + ", which does not contain it");
    if (owner_.emplace(name, file).second) names_.push_back(name);
  }
}

bool CheckpointWeights::has(const std::string& name) const { return owner_.count(name) != 0; }

at::Tensor CheckpointWeights::get(const std::string& name) const {
  auto found = owner_.find(name);
  if (found == owner_.end()) {
    std::string examples;
    for (const auto& similar : similar_names(names_, name, 3)) examples += (examples.empty() ? "" : ", ") + similar;
    throw InputError(source_, "tensor '" + name + "' not found (" + std::to_string(names_.size()) +
                                  " tensors; e.g. " + examples + ")");
  }
  return found->second->get(name);
}

std::vector<std::string> CheckpointWeights::names() const { return names_; }

std::string CheckpointWeights::describe() const { return source_; }

std::vector<std::string> CheckpointWeights::files() const {
  std::vector<std::string> out;
  for (const auto& file : files_) out.push_back(file->path());
  return out;
}

}  // namespace cascade::data
