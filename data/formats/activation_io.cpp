#include "data/formats/activation_io.h"
#include "data/formats/atomic_write.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "core/errors.h"
#include "data/formats/hdf5_activations.h"
#include "data/formats/io_util.h"
#include "data/formats/npy.h"
#include "data/formats/safetensors.h"

namespace cascade::data {

namespace fs = std::filesystem;

namespace {

constexpr const char* kUnrecognised = "unrecognised format (expected .npy, .safetensors, .h5 or a folder of .npy)";
constexpr const char* kLayerPrefix = "hidden_states.";

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// "layer_2" before "layer_10": runs of digits compare by value, everything else by character.
bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) && std::isdigit(static_cast<unsigned char>(b[j]))) {
      size_t i_end = i, j_end = j;
      while (i_end < a.size() && std::isdigit(static_cast<unsigned char>(a[i_end]))) ++i_end;
      while (j_end < b.size() && std::isdigit(static_cast<unsigned char>(b[j_end]))) ++j_end;
      // Compare by value without parsing (numbers may be long): strip leading zeros, then length, then digits.
      std::string x = a.substr(i, i_end - i), y = b.substr(j, j_end - j);
      x.erase(0, std::min(x.find_first_not_of('0'), x.size()));
      y.erase(0, std::min(y.find_first_not_of('0'), y.size()));
      if (x.size() != y.size()) return x.size() < y.size();
      if (x != y) return x < y;
      i = i_end;
      j = j_end;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  if (a.size() - i != b.size() - j) return a.size() - i < b.size() - j;
  return a < b;  // "layer_2" and "layer_02": any fixed order
}

// One layer's activations are [T, d] or [1, T, d] (a batch of one, as models return them).
std::optional<std::vector<int64_t>> layer_shape(const std::vector<int64_t>& shape) {
  if (shape.size() == 2) return shape;
  if (shape.size() == 3 && shape[0] == 1) return std::vector<int64_t>{shape[1], shape[2]};
  return std::nullopt;
}

// float64 is stored as float32: the analysis never needs the extra precision.
at::ScalarType stored_type(at::ScalarType type) { return type == at::kDouble ? at::kFloat : type; }

at::Tensor load_npy_folder(const std::string& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (std::error_code entry_ec; it->is_regular_file(entry_ec) && lower(it->path().extension().string()) == ".npy") files.push_back(it->path());
  if (ec) throw InputError(dir, "cannot list the folder: " + ec.message());
  if (files.empty()) throw InputError(dir, "the folder holds no .npy files (expected one [T, d] file per layer)");
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return natural_less(a.filename().string(), b.filename().string()); });

  // Fill one [L, T, d] tensor layer by layer, so memory peaks at the result plus one layer.
  at::Tensor out;
  std::vector<int64_t> first_shape;
  at::ScalarType first_type = at::kFloat;
  for (size_t l = 0; l < files.size(); ++l) {
    const std::string file = files[l].string();
    at::Tensor layer = read_npy(file);
    const auto shape = layer_shape(layer.sizes().vec());
    if (!shape)
      throw InputError(file, "one layer has shape " + shape_text(layer.sizes()) + ", expected [T, d] or [1, T, d]");
    if (l == 0) {
      first_shape = *shape;
      first_type = layer.scalar_type();
      out = allocate_for(dir, {static_cast<int64_t>(files.size()), first_shape[0], first_shape[1]},
                         stored_type(first_type));
    } else if (*shape != first_shape || layer.scalar_type() != first_type) {
      throw InputError(file, "shape " + shape_text(*shape) + " " + c10::toString(layer.scalar_type()) +
                                 " differs from " + shape_text(first_shape) + " " + c10::toString(first_type) +
                                 " in " + files[0].filename().string() + " (all layers must match)");
    }
    out[static_cast<int64_t>(l)].copy_(layer.reshape(*shape));
  }
  return out;
}

// The index N of "hidden_states.N" (canonical decimal, no sign or leading zeros), or -1.
int64_t layer_index(const std::string& name) {
  if (name.rfind(kLayerPrefix, 0) != 0) return -1;
  const std::string digits = name.substr(std::string(kLayerPrefix).size());
  if (digits.empty() || digits.size() > 9 || (digits.size() > 1 && digits[0] == '0')) return -1;
  if (!std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); })) return -1;
  return std::stoll(digits);
}

std::map<int64_t, const SafetensorsEntry*> layer_entries(const SafetensorsFile& file) {
  std::map<int64_t, const SafetensorsEntry*> layers;
  for (const auto& entry : file.entries())
    if (const int64_t index = layer_index(entry.name); index >= 0) layers[index] = &entry;
  // A file that also holds `final_residual` follows HF's output_hidden_states layout (our
  // `run --dump-activations`, the golden fixtures): its last hidden_states entry has the final norm
  // applied and is not a residual-stream layer (SPEC §1), so it is left out.
  if (file.find("final_residual") && layers.size() > 1) layers.erase(std::prev(layers.end()));
  if (layers.empty()) {
    std::string found;
    for (size_t i = 0; i < file.entries().size() && i < 5; ++i) found += (i ? ", " : "") + file.entries()[i].name;
    if (file.entries().size() > 5) found += ", ...";
    throw InputError(file.path(), "no tensors named hidden_states.0 .. hidden_states.{L-1} (found " +
                                      (found.empty() ? std::string("no tensors") : found) + ")");
  }
  for (int64_t l = 0; l <= layers.rbegin()->first; ++l)
    if (!layers.count(l))
      throw InputError(file.path(), "tensor hidden_states." + std::to_string(l) + " is missing (layers must be numbered 0.." +
                                        std::to_string(layers.rbegin()->first) + " without gaps)");
  return layers;
}

at::Tensor load_safetensors(const SafetensorsFile& file) {
  const auto layers = layer_entries(file);
  // Check every layer's shape and dtype from the header before reading any data.
  const SafetensorsEntry& first = *layers.at(0);
  std::vector<int64_t> first_shape;
  for (const auto& [l, entry] : layers) {
    const auto shape = layer_shape(entry->shape);
    if (!shape)
      throw InputError(file.path(), "tensor " + entry->name + " has shape " + shape_text(entry->shape) +
                                        ", expected [T, d] or [1, T, d]");
    if (l == 0) first_shape = *shape;
    if (*shape != first_shape || entry->dtype != first.dtype)
      throw InputError(file.path(), "tensor " + entry->name + " is " + shape_text(*shape) + " " + entry->dtype +
                                        " but hidden_states.0 is " + shape_text(first_shape) + " " + first.dtype);
  }
  at::Tensor out;
  for (const auto& [l, entry] : layers) {
    at::Tensor layer = file.read(*entry);  // rejects non-float dtypes by name
    if (!out.defined())
      out = allocate_for(file.path(), {static_cast<int64_t>(layers.size()), first_shape[0], first_shape[1]},
                         stored_type(layer.scalar_type()));
    out[l].copy_(layer.reshape(first_shape));
  }
  return out;
}

std::string first_bytes(const std::string& path, size_t count) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes(count, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(count));
  bytes.resize(static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0)));
  return bytes;
}

// safetensors has no magic: it looks like one when the 8-byte length fits the file and a JSON
// object starts right after it.
bool looks_like_safetensors(const std::string& path) {
  const std::string start = first_bytes(path, 9);
  if (start.size() < 9 || start[8] != '{') return false;
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<unsigned char>(start[i]);
  std::error_code ec;
  const uintmax_t size = fs::file_size(path, ec);
  return !ec && header_len <= size - 8 && header_len <= SafetensorsFile::kMaxHeaderBytes;
}

// No known extension: decide by the first bytes.
at::Tensor load_sniffed(const std::string& path) {
  const std::string magic = first_bytes(path, 8);
  if (magic.rfind("\x93NUMPY", 0) == 0) return read_npy(path);
  if (magic == std::string("\x89HDF\r\n\x1a\n", 8)) return read_hdf5_hidden_states(path);
  if (looks_like_safetensors(path)) return load_safetensors(SafetensorsFile(path));
  throw InputError(path, kUnrecognised);
}

at::Tensor load_hidden(const std::string& path, bool is_dir) {
  if (is_dir) return load_npy_folder(path);
  if (const ActivationFormat* f = activation_format_of(path)) return f->read(path);
  return load_sniffed(path);
}

std::vector<std::string> read_tokens_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open the token list for reading");
  std::stringstream text;
  text << in.rdbuf();
  const auto json = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) throw InputError(path, "not valid JSON (expected a list of token strings)");
  if (!json.is_array())
    throw InputError(path, std::string("expected a JSON list of token strings, got a JSON ") + json.type_name());
  std::vector<std::string> tokens;
  for (size_t i = 0; i < json.size(); ++i) {
    if (!json[i].is_string())
      throw InputError(path, "entry " + std::to_string(i) + " of the token list is a " + json[i].type_name() +
                                 ", expected a string");
    tokens.push_back(json[i].get<std::string>());
  }
  return tokens;
}

// The token list to use: the one asked for (which must exist), else tokens.json beside the input.
std::string find_tokens_file(const std::string& path, bool is_dir, const std::string& tokens_path) {
  if (!tokens_path.empty()) {
    if (!fs::exists(tokens_path)) throw InputError(tokens_path, "no such file (token list)");
    return tokens_path;
  }
  const fs::path beside = (is_dir ? fs::path(path) : fs::path(path).parent_path()) / "tokens.json";
  std::error_code ec;
  return fs::is_regular_file(beside, ec) ? beside.string() : std::string();
}

}  // namespace

const std::vector<ActivationFormat>& activation_formats() {
  static const std::vector<ActivationFormat> formats = {
      {"npy", {".npy"}, [](const std::string& p) { return read_npy(p); }, write_npy, {DType::Float32, DType::Float16}},
      {"safetensors", {".safetensors"}, [](const std::string& p) { return load_safetensors(SafetensorsFile(p)); },
       write_safetensors_layers, {DType::Float32, DType::Float16, DType::BFloat16}},
      {"hdf5", {".h5", ".hdf5"}, [](const std::string& p) { return read_hdf5_hidden_states(p); }, write_hdf5_activations,
       {DType::Float32}}};
  return formats;
}

const ActivationFormat* activation_format_of(const std::string& path) {
  const std::string ext = lower(fs::path(path).extension().string());
  for (const ActivationFormat& f : activation_formats())
    if (std::find(f.extensions.begin(), f.extensions.end(), ext) != f.extensions.end()) return &f;
  return nullptr;
}

void write_safetensors_layers(const std::string& path, const at::Tensor& hidden) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (int64_t l = 0; l < hidden.size(0); ++l) tensors.emplace_back("hidden_states." + std::to_string(l), hidden[l]);
  write_safetensors(path, tensors);
}

ActivationSet load_activations(const std::string& path, const std::string& tokens_path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) throw InputError(path.empty() ? "(empty path)" : path, "no such file or folder");
  if (ec) throw InputError(path, "cannot access: " + ec.message());
  const bool is_dir = fs::is_directory(status);

  ActivationSet acts;
  acts.source = path;
  acts.hidden = load_hidden(path, is_dir);
  if (acts.hidden.scalar_type() == at::kDouble) acts.hidden = acts.hidden.to(at::kFloat);
  validate(acts);  // rank, L = 0, T = 0, NaN/Inf: shared with every other source of activations

  // Tokens are checked here rather than by validate() so that the message names the token file.
  if (const std::string file = find_tokens_file(path, is_dir, tokens_path); !file.empty()) {
    acts.tokens = read_tokens_json(file);
    if (static_cast<int64_t>(acts.tokens.size()) != acts.num_tokens())
      throw InputError(file, std::to_string(acts.tokens.size()) + " token strings but " + path + " has " +
                                 std::to_string(acts.num_tokens()) + " tokens");
  }
  return acts;
}

void write_tokens_json(const std::string& path, const std::vector<std::string>& tokens) {
  // Token pieces from byte-level BPE may be invalid UTF-8; replace rather than throw mid-write.
  write_file_atomically(path, nlohmann::json(tokens).dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace cascade::data
