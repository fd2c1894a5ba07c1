#pragma once
// safetensors files: an 8-byte little-endian header length, a JSON header naming each tensor's
// dtype, shape and byte range, then the raw little-endian data.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cascade::data {

class MappedFile;

struct SafetensorsEntry {
  std::string name;
  std::string dtype;            // as written: "F32", "BF16", "I64", ...
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte range inside the data region
};

// The header of one file, checked on construction: its length is bounded, it is a JSON object, and
// every tensor's data_offsets lie inside the data and match its shape and dtype. Reading the data
// only happens in read(), one tensor at a time. Every problem throws InputError naming the file.
class SafetensorsFile {
 public:
  static constexpr uint64_t kMaxHeaderBytes = 100ull * 1024 * 1024;

  explicit SafetensorsFile(std::string path);

  const std::string& path() const { return path_; }
  const std::vector<SafetensorsEntry>& entries() const { return entries_; }  // in file order
  const SafetensorsEntry* find(const std::string& name) const;               // nullptr if absent

  // A contiguous CPU tensor of F32, F16, BF16 or F64 data; any other dtype throws InputError
  // naming the tensor and its dtype.
  at::Tensor read(const SafetensorsEntry& entry) const;

  // The same tensor without reading it: a view into `mapping` (this file, memory-mapped; see
  // data/formats/mapped_file.h), copied only when misaligned. Takes every dtype that has a torch type (the
  // float ones and I64/I32/I16/I8/U8/BOOL, which checkpoints use for buffers); others throw
  // InputError naming the tensor and its dtype.
  at::Tensor read_mapped(const SafetensorsEntry& entry, const std::shared_ptr<const MappedFile>& mapping) const;

 private:
  std::string path_;
  uint64_t data_start_ = 0, data_size_ = 0;
  std::vector<SafetensorsEntry> entries_;
};

// write_safetensors is declared in data/formats/activation_io.h.

}  // namespace cascade::data
