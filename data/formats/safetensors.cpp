#include "data/formats/safetensors.h"
#include "data/formats/atomic_write.h"

#include <ATen/ATen.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "core/errors.h"
#include "data/formats/activation_io.h"
#include "data/formats/io_util.h"
#include "data/formats/mapped_file.h"

namespace cascade::data {

namespace {

using Json = nlohmann::ordered_json;  // keeps the header's order, so entries() is file order

struct DtypeInfo {
  const char* name;
  int64_t itemsize;
  std::optional<at::ScalarType> readable;  // only float data is read as activations
  std::optional<at::ScalarType> writable;  // what write_safetensors maps to this name (and read_mapped reads)
};

// Every dtype of the safetensors spec, so that sizes are checked even for tensors we never read.
constexpr DtypeInfo kDtypes[] = {
    {"F64", 8, at::kDouble, at::kDouble},   {"F32", 4, at::kFloat, at::kFloat},
    {"F16", 2, at::kHalf, at::kHalf},       {"BF16", 2, at::kBFloat16, at::kBFloat16},
    {"I64", 8, std::nullopt, at::kLong},    {"I32", 4, std::nullopt, at::kInt},
    {"I16", 2, std::nullopt, at::kShort},   {"I8", 1, std::nullopt, at::kChar},
    {"U8", 1, std::nullopt, at::kByte},     {"BOOL", 1, std::nullopt, at::kBool},
    {"U64", 8, std::nullopt, std::nullopt}, {"U32", 4, std::nullopt, std::nullopt},
    {"U16", 2, std::nullopt, std::nullopt}, {"F8_E5M2", 1, std::nullopt, std::nullopt},
    {"F8_E4M3", 1, std::nullopt, std::nullopt},
};

const DtypeInfo* dtype_by_name(const std::string& name) {
  for (const auto& info : kDtypes)
    if (name == info.name) return &info;
  return nullptr;
}

const DtypeInfo* dtype_by_type(at::ScalarType type) {
  for (const auto& info : kDtypes)
    if (info.writable == type) return &info;
  return nullptr;
}

uint64_t read_u64_le(const unsigned char* bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

// A list of non-negative integers that fit int64 (shapes, offsets), or nullopt.
std::optional<std::vector<int64_t>> unsigned_list(const Json& value) {
  if (!value.is_array()) return std::nullopt;
  std::vector<int64_t> out;
  for (const auto& item : value) {
    if (!item.is_number_unsigned() || item.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    out.push_back(item.get<int64_t>());
  }
  return out;
}

SafetensorsEntry parse_entry(const std::string& path, const std::string& name, const Json& value,
                             uint64_t data_size) {
  auto bad = [&](const std::string& problem) { return InputError(path, "tensor '" + name + "': " + problem); };
  if (!value.is_object()) throw bad("header entry is not a JSON object");
  SafetensorsEntry entry;
  entry.name = name;
  auto dtype = value.find("dtype");
  if (dtype == value.end() || !dtype->is_string()) throw bad("no \"dtype\" string in the header");
  entry.dtype = dtype->get<std::string>();
  auto shape = value.find("shape");
  auto shape_list = shape == value.end() ? std::nullopt : unsigned_list(*shape);
  if (!shape_list) throw bad("\"shape\" is missing or not a list of non-negative integers");
  entry.shape = *shape_list;
  auto offsets = value.find("data_offsets");
  auto offset_list = offsets == value.end() ? std::nullopt : unsigned_list(*offsets);
  if (!offset_list || offset_list->size() != 2) throw bad("\"data_offsets\" is missing or not [begin, end]");
  entry.begin = static_cast<uint64_t>((*offset_list)[0]);
  entry.end = static_cast<uint64_t>((*offset_list)[1]);
  const std::string range = "data_offsets [" + std::to_string(entry.begin) + ", " + std::to_string(entry.end) + "]";
  if (entry.begin > entry.end || entry.end > data_size)
    throw bad(range + " lie outside the data region (" + std::to_string(data_size) + " bytes after the header)");

  if (const DtypeInfo* info = dtype_by_name(entry.dtype)) {
    uint64_t bytes = static_cast<uint64_t>(info->itemsize);
    for (int64_t dim : entry.shape)
      if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(dim), &bytes)) throw bad("shape is impossibly large");
    if (bytes != entry.end - entry.begin)
      throw bad(range + " hold " + std::to_string(entry.end - entry.begin) + " bytes but shape " +
                shape_text(entry.shape) + " " + entry.dtype + " needs " + std::to_string(bytes));
  }
  return entry;
}

}  // namespace

SafetensorsFile::SafetensorsFile(std::string path) : path_(std::move(path)) {
  std::ifstream in(path_, std::ios::binary | std::ios::ate);
  if (!in) throw InputError(path_, "cannot open for reading");
  const uint64_t file_size = static_cast<uint64_t>(in.tellg());
  if (file_size < 8)
    throw InputError(path_, "too short for a safetensors file (" + std::to_string(file_size) +
                                " bytes; the header length alone takes 8)");
  unsigned char len_bytes[8];
  in.seekg(0);
  in.read(reinterpret_cast<char*>(len_bytes), 8);
  const uint64_t header_len = read_u64_le(len_bytes);
  if (header_len > file_size - 8)
    throw InputError(path_, "safetensors header length " + std::to_string(header_len) +
                                " runs past the end of the file (" + std::to_string(file_size) + " bytes)");
  if (header_len > kMaxHeaderBytes)
    throw InputError(path_, "safetensors header length " + std::to_string(header_len) + " is over the 100 MB limit");

  std::string text(header_len, '\0');
  in.read(text.data(), static_cast<std::streamsize>(header_len));
  if (!in) throw InputError(path_, "could not read the safetensors header");
  const Json header = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded()) throw InputError(path_, "safetensors header is not valid JSON");
  if (!header.is_object()) throw InputError(path_, "safetensors header is not a JSON object");

  data_start_ = 8 + header_len;
  data_size_ = file_size - data_start_;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") continue;  // free-form strings; nothing we need
    entries_.push_back(parse_entry(path_, name, value, data_size_));
  }
}

const SafetensorsEntry* SafetensorsFile::find(const std::string& name) const {
  for (const auto& entry : entries_)
    if (entry.name == name) return &entry;
  return nullptr;
}

at::Tensor SafetensorsFile::read(const SafetensorsEntry& entry) const {
  const DtypeInfo* info = dtype_by_name(entry.dtype);
  if (!info || !info->readable)
    throw InputError(path_, "tensor '" + entry.name + "' has dtype " + entry.dtype +
                                " (expected F32, F16, BF16 or F64)");
  // The constructor checked that the byte range matches the shape, so this fills the tensor exactly.
  at::Tensor tensor = allocate_for(path_, entry.shape, *info->readable);
  std::ifstream in(path_, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(data_start_ + entry.begin));
  const auto nbytes = static_cast<std::streamsize>(entry.end - entry.begin);
  in.read(static_cast<char*>(tensor.data_ptr()), nbytes);
  if (in.gcount() != nbytes)
    throw InputError(path_, "tensor '" + entry.name + "': file is truncated (read " + std::to_string(in.gcount()) +
                                " of " + std::to_string(nbytes) + " bytes)");
  return tensor;
}

at::Tensor SafetensorsFile::read_mapped(const SafetensorsEntry& entry,
                                        const std::shared_ptr<const MappedFile>& mapping) const {
  const DtypeInfo* info = dtype_by_name(entry.dtype);
  if (!info || !info->writable)
    throw InputError(path_, "tensor '" + entry.name + "' has dtype " + entry.dtype + ", which has no torch type");
  // The constructor checked the byte range against the file size the header promised; the mapping
  // checks it again against the size it actually has (the file may have changed since).
  return tensor_in_mapping(mapping, data_start_ + entry.begin, entry.end - entry.begin, entry.shape, *info->writable);
}

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors) {
  Json header = Json::object();
  std::vector<at::Tensor> payload;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name == "__metadata__" || !names.insert(name).second)
      throw UsageError(path + ": tensor name '" + name + "' is reserved or repeated");
    at::Tensor t = tensor.cpu().contiguous();
    const DtypeInfo* info = dtype_by_type(t.scalar_type());
    if (!info)
      throw UsageError(path + ": tensor '" + name + "' has dtype " + c10::toString(t.scalar_type()) +
                       ", which safetensors cannot store");
    const uint64_t bytes = static_cast<uint64_t>(t.numel() * t.element_size());
    header[name] = {{"dtype", info->name}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    payload.push_back(std::move(t));
  }
  // Pad with spaces so the data starts 8-byte aligned (the format allows trailing whitespace).
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string len_bytes(8, '\0');
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<char>((text.size() >> (8 * i)) & 0xff);

  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
    file.write(len_bytes.data(), 8);
    file.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& t : payload)
      file.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
    file.close();
    if (!file) throw Error(path + ": cannot write safetensors file (disk full, or no permission?)");
  });
}

}  // namespace cascade::data
