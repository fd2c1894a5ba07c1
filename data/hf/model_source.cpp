#include "data/hf/model_source.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/errors.h"
#include "data/formats/activation_io.h"
#include "data/hf/hf_model.h"
#include "data/hf/weight_memory.h"
#include "data/formats/sha256.h"
#include "data/tokenizers/tokenizer_loader.h"

namespace fs = std::filesystem;

namespace cascade::data {

std::string bundled_data_path(const std::string& relative) {
  std::vector<fs::path> roots;
  if (const char* env = std::getenv("CASCADE_DATA_DIR")) roots.emplace_back(env);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    roots.push_back(exe.parent_path() / "../share/cascadelens");  // installed layout
    roots.push_back(exe.parent_path() / "../../data");            // build/app/cascadelens*
  }
  roots.emplace_back(fs::path(CASCADE_SOURCE_DIR) / "data");
  for (const auto& root : roots)
    if (fs::exists(root / relative)) return fs::weakly_canonical(root / relative).string();
  throw InputError(relative, "bundled data not found (set CASCADE_DATA_DIR to the repository's data/ folder)");
}

std::string bundled_model_dir() {
  try {
    return fs::path(bundled_data_path("demo/model/config.json")).parent_path().string();
  } catch (const InputError&) {
    throw UsageError("the bundled demo model is not there (train it with "
                     "`cascadelens-cli train-demo --out data/demo/model`); give a model folder or cache id");
  }
}

std::vector<std::string> bundled_text_paths() {
  std::vector<std::string> out;
  const fs::path dir = fs::path(bundled_data_path("demo/texts/teaching.txt")).parent_path();
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".txt") out.push_back(entry.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string bundled_default_text_path() { return bundled_data_path("demo/texts/teaching.txt"); }
std::string bundled_synthetic_file() { return bundled_data_path("demo/synthetic/activations.npy"); }

std::string read_text_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError(path, "is a folder, not a text file");
  if (!std::filesystem::exists(path, ec)) throw InputError(path, "no such file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot read the text file");
  std::string text;
  try {
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::exception& e) {
    throw InputError(path, std::string("cannot read the text file (") + e.what() + ")");
  }
  if (in.bad()) throw InputError(path, "cannot read the text file");
  return text;
}

std::string LoadedModel::label() const { return spec.empty() || spec == dir ? dir : spec + " (" + dir + ")"; }

LoadedModel load_model(const ModelRequest& request) {
  LoadedModel m;
  m.spec = request.spec;
  m.dir = request.spec.empty() ? bundled_model_dir() : resolve_model_path(request.spec);
  m.config = read_hf_config(m.dir);
  m.config.name = request.spec.empty() ? m.dir : request.spec;
  at::Device device = at::kCPU;
  if (request.device == DeviceKind::Cuda) {
    if (!at::hasCUDA()) throw UsageError("device cuda: this LibTorch build has no CUDA/ROCm device");
    device = at::Device(at::kCUDA);
    at::globalContext().setAllowTF32CuBLAS(false);  // TF32's 10-bit mantissa would blur the numbers
  }
  const DtypeChoice choice = choose_dtype(weight_footprint(m.dir), request.device, request.dtype,
                                         request.device == DeviceKind::Cpu ? available_memory_bytes() : std::nullopt);
  if (request.on_dtype_chosen) request.on_dtype_chosen(choice);
  const CheckpointWeights weights(m.dir);
  m.model = make_model(m.config, weights, device, scalar_type(choice.dtype));
  m.device = request.device;
  m.dtype = choice.dtype;
  m.dtype_note = choice.message;
  try {
    m.tokenizer = load_tokenizer(m.dir, m.config.model_type);
  } catch (const InputError& e) {
    m.tokenizer.reset();  // ids still work; text needs a tokenizer (reported where text is encoded)
    m.tokenizer_error = e.what();
  }
  return m;
}

std::vector<std::string> display_tokens(const LoadedModel& m, const std::vector<int64_t>& ids) {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (int64_t id : ids) out.push_back(m.tokenizer ? m.tokenizer->display(id) : std::to_string(id));
  return out;
}

std::vector<int64_t> encode_text(const LoadedModel& m, const std::string& text) {
  if (!m.tokenizer) throw InputError(m.dir, "cannot encode text without a tokenizer: " + m.tokenizer_error);
  std::vector<int64_t> ids = m.tokenizer->encode(text, /*add_special=*/true);
  if (ids.empty()) throw UsageError("the text is empty after tokenization");
  return ids;
}

ModelIdentity model_identity(const LoadedModel& m) {
  ModelIdentity id = identity_of(m.config);
  std::ifstream in(fs::path(m.dir) / "config.json", std::ios::binary);
  if (in) id.config_sha256 = sha256_hex(std::string(std::istreambuf_iterator<char>(in), {}));
  // .../models--ORG--NAME/snapshots/<revision>: the HF cache layout.
  const fs::path dir = fs::weakly_canonical(fs::path(m.dir));
  const fs::path parent = dir.parent_path();
  id.revision = parent.filename() == "snapshots" && parent.parent_path().filename().string().rfind("models--", 0) == 0
                    ? dir.filename().string()
                    : "local";
  return id;
}

RunRequest request_for(const LoadedModel& m, std::vector<int64_t> ids, const std::string& text) {
  RunRequest r;
  r.tokens = display_tokens(m, ids);
  r.ids = std::move(ids);
  r.source = m.label();
  r.model = model_identity(m);
  r.text = text;
  return r;
}

}  // namespace cascade::data
