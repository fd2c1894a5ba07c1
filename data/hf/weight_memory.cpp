// The weights' size from the checkpoint headers, the machine's available memory, and the dtype
// decision that joins them (weight_memory.h).
#include "data/hf/weight_memory.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/errors.h"
#include "data/formats/safetensors.h"
#include "data/hf/hf_model.h"

namespace cascade::data {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

uint64_t element_size(DType dtype) { return dtype == DType::Float32 ? 4 : 2; }

// The safetensors float dtypes a model loads, by their header names.
std::optional<DType> float_dtype_of(const std::string& name) {
  if (name == "F32" || name == "F64") return DType::Float32;  // F64 is loaded as float32 at most
  if (name == "BF16") return DType::BFloat16;
  if (name == "F16") return DType::Float16;
  return std::nullopt;  // integer buffers, F8 (not loadable), ...
}

int64_t safetensors_itemsize(const std::string& name) {
  if (name == "F64") return 8;
  if (name == "F32") return 4;
  return 2;
}

// Tensors of a multimodal checkpoint that the text model never loads.
bool outside_text_model(const std::string& name) {
  for (const char* part : {"vision_tower.", "vision_model.", "multi_modal_projector.", "audio_tower."})
    if (name.find(part) != std::string::npos) return true;
  return false;
}

Json read_json(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), "cannot open for reading");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) throw InputError(path.string(), "is not a JSON object");
  return json;
}

// Adds up the tensors and remembers which float type holds most elements.
struct Tally {
  WeightFootprint out;
  std::map<DType, int64_t> elements_by_dtype;
  void add(const std::string& name, std::optional<DType> dtype, int64_t numel, int64_t itemsize) {
    if (!dtype || outside_text_model(name)) return;
    out.parameters += numel;
    out.stored_bytes += static_cast<uint64_t>(numel) * static_cast<uint64_t>(itemsize);
    elements_by_dtype[*dtype] += numel;
  }
  std::optional<DType> most_common() const {
    std::optional<DType> best;
    for (const auto& [dtype, n] : elements_by_dtype)
      if (!best || n > elements_by_dtype.at(*best)) best = dtype;
    return best;
  }
};

int64_t numel_of(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

void add_safetensors(Tally& tally, const fs::path& file, const std::set<std::string>* only) {
  const SafetensorsFile header(file.string());  // reads the header only
  for (const auto& entry : header.entries())
    if (!only || only->count(entry.name))
      tally.add(entry.name, float_dtype_of(entry.dtype), numel_of(entry.shape), safetensors_itemsize(entry.dtype));
}

// model.safetensors.index.json: each shard's header once, counting the tensors the weight_map names.
void add_safetensors_index(Tally& tally, const fs::path& index_path) {
  const Json index = read_json(index_path);
  const auto map = index.find("weight_map");
  if (map == index.end() || !map->is_object() || map->empty())
    throw InputError(index_path.string(), "has no \"weight_map\" object");
  std::map<std::string, std::set<std::string>> by_shard;
  for (const auto& [name, shard] : map->items()) {
    if (!shard.is_string()) throw InputError(index_path.string(), "weight_map entry '" + name + "' is not a file name");
    const fs::path shard_path(shard.get<std::string>());
    if (shard_path.is_absolute() || std::any_of(shard_path.begin(), shard_path.end(), [](const fs::path& p) { return p == ".."; }))
      throw InputError(index_path.string(), "weight_map names shard '" + shard_path.string() + "', which is not a file beside the index");
    by_shard[shard_path.string()].insert(name);
  }
  for (const auto& [shard, names] : by_shard) add_safetensors(tally, index_path.parent_path() / shard, &names);
}

// pytorch_model.bin (sharded or not): the pickles give the shapes; the tensors view the mapping.
void add_torch_checkpoint(Tally& tally, const std::string& dir) {
  const CheckpointWeights weights(dir);
  for (const auto& name : weights.names()) {
    const at::Tensor t = weights.get(name);
    const auto type = t.scalar_type();
    std::optional<DType> dtype;
    if (type == at::kFloat || type == at::kDouble) dtype = DType::Float32;
    else if (type == at::kBFloat16) dtype = DType::BFloat16;
    else if (type == at::kHalf) dtype = DType::Float16;
    tally.add(name, dtype, t.numel(), static_cast<int64_t>(t.element_size()));
  }
}

std::optional<DType> dtype_named(const Json& value) {
  if (!value.is_string()) return std::nullopt;
  const std::string name = value.get<std::string>();
  if (name == "float32") return DType::Float32;
  if (name == "bfloat16") return DType::BFloat16;
  if (name == "float16") return DType::Float16;
  return std::nullopt;
}

// torch_dtype / dtype at the top level, then in text_config.
std::optional<DType> config_dtype(const std::string& dir) {
  const fs::path path = fs::path(dir) / "config.json";
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  const Json config = read_json(path);
  for (const Json* level : {&config, config.contains("text_config") ? &config["text_config"] : nullptr}) {
    if (!level || !level->is_object()) continue;
    for (const char* key : {"torch_dtype", "dtype"})
      if (auto found = level->find(key); found != level->end())
        if (auto dtype = dtype_named(*found)) return dtype;
  }
  return std::nullopt;
}

std::string parameters_text(int64_t n) {
  char buf[32];
  if (n >= 1'000'000'000) std::snprintf(buf, sizeof buf, "%.2f B", n / 1e9);
  else if (n >= 1'000'000) std::snprintf(buf, sizeof buf, "%.1f M", n / 1e6);
  else if (n >= 1'000) std::snprintf(buf, sizeof buf, "%.1f k", n / 1e3);
  else std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
  return std::string(buf) + " parameters";
}

}  // namespace

uint64_t WeightFootprint::bytes_in(DType dtype) const { return static_cast<uint64_t>(parameters) * element_size(dtype); }

WeightFootprint weight_footprint(const std::string& model_dir) {
  const fs::path dir(model_dir);
  std::error_code ec;
  Tally tally;
  if (fs::is_regular_file(dir / "model.safetensors.index.json", ec)) add_safetensors_index(tally, dir / "model.safetensors.index.json");
  else if (fs::is_regular_file(dir / "model.safetensors", ec)) add_safetensors(tally, dir / "model.safetensors", nullptr);
  else add_torch_checkpoint(tally, model_dir);  // or CheckpointWeights' "no weights found"
  WeightFootprint out = tally.out;
  out.dir = model_dir;
  out.stored_dtype = config_dtype(model_dir).value_or(tally.most_common().value_or(DType::Float32));
  return out;
}

uint64_t usable_memory_bytes(uint64_t available_bytes) {
  const auto reserve = std::max<uint64_t>(kMemoryReserveMinBytes,
                                          static_cast<uint64_t>(kMemoryReserveFraction * static_cast<double>(available_bytes)));
  return available_bytes > reserve ? available_bytes - reserve : 0;
}

std::optional<uint64_t> available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  for (std::string key; in >> key;) {
    uint64_t kib = 0;
    if (key == "MemAvailable:" && in >> kib) return kib * 1024;
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return std::nullopt;
}

std::string format_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) value /= 1024, ++unit;
  char buf[32];
  if (unit == 0) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else std::snprintf(buf, sizeof buf, "%.1f %s", value, units[unit]);
  return buf;
}

DtypeChoice choose_dtype(const WeightFootprint& weights, DeviceKind device, std::optional<DType> requested,
                         std::optional<uint64_t> available_bytes) {
  const std::string params = parameters_text(weights.parameters);
  auto size_in = [&](DType dtype) { return format_bytes(weights.bytes_in(dtype)); };
  const bool cpu = device == DeviceKind::Cpu;
  const uint64_t usable = available_bytes ? usable_memory_bytes(*available_bytes) : 0;
  const std::string memory = available_bytes ? format_bytes(usable) + " usable of " + format_bytes(*available_bytes) +
                                                   " available"
                                             : "";
  auto chosen = [&](DType dtype, const std::string& why) {
    return DtypeChoice{dtype, weights.bytes_in(dtype),
                       to_string(dtype) + ": the weights take " + size_in(dtype) + " (" + params + "); " + why};
  };

  if (requested) {
    if (!cpu || !available_bytes) return chosen(*requested, "as asked");
    if (weights.bytes_in(*requested) <= usable) return chosen(*requested, "as asked (" + memory + ")");
    return chosen(*requested, "as asked, but that is more than the " + memory + ": loading may run out of memory");
  }
  if (!cpu) return chosen(weights.stored_dtype, "the checkpoint's own dtype, kept on the GPU");
  if (!available_bytes) return chosen(DType::Float32, "the CPU default (the available memory is unknown)");
  if (weights.bytes_in(DType::Float32) <= usable) return chosen(DType::Float32, "the CPU default, it fits (" + memory + ")");
  if (weights.bytes_in(DType::BFloat16) <= usable)
    return chosen(DType::BFloat16, "float32 would take " + size_in(DType::Float32) + ", more than the " + memory +
                                       " (ask for float32 explicitly to use it anyway)");
  throw WeightsTooLarge(weights.dir, "the weights do not fit in memory: " + params + " take " + size_in(DType::Float32) +
                                    " in float32 and " + size_in(DType::BFloat16) + " in bfloat16, but only " +
                                    memory + " (reserve: the larger of " + format_bytes(kMemoryReserveMinBytes) +
                                    " and " +
                                    std::to_string(std::lround(kMemoryReserveFraction * 100)) + " % of the available memory)");
}

}  // namespace cascade::data
