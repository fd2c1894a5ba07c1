#pragma once
// A read-only file mapped into memory, and tensors that point straight into it. Opening a
// checkpoint maps its files instead of reading them, so that a 13 GB model costs page-table
// entries until a tensor is actually touched (private to the library).
#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

#include <cstdint>
#include <memory>
#include <string>

namespace cascade::data {

class MappedFile {
 public:
  // Maps the whole file; throws InputError naming `path` when it cannot be opened or mapped.
  static std::shared_ptr<const MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }
  const unsigned char* data() const { return data_; }

 private:
  MappedFile(std::string path, unsigned char* data, uint64_t size);
  std::string path_;
  unsigned char* data_ = nullptr;
  uint64_t size_ = 0;
};

// A CPU tensor of `shape` and `type` over bytes [offset, offset + nbytes) of `file` (nbytes must be
// numel · element size; InputError if the range leaves the file). The tensor shares the mapping
// and keeps it alive after every other owner is gone. Data whose address is not a multiple of the
// element size is copied, because kernels assume aligned elements.
at::Tensor tensor_in_mapping(const std::shared_ptr<const MappedFile>& file, uint64_t offset, uint64_t nbytes,
                             c10::IntArrayRef shape, at::ScalarType type);

}  // namespace cascade::data
