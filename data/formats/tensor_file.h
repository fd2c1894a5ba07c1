#pragma once
// One checkpoint file holding named tensors, memory-mapped: a safetensors file or a PyTorch zip
// archive (pytorch_model.bin). CheckpointWeights combines one or several of them (private to the
// library).
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

namespace cascade::data {

class TensorFile {
 public:
  virtual ~TensorFile() = default;
  virtual const std::string& path() const = 0;
  virtual const std::vector<std::string>& names() const = 0;  // in file order
  virtual bool has(const std::string& name) const = 0;
  // A CPU tensor viewing the mapping (it keeps the mapping alive). `name` must be one of names();
  // a dtype without a torch type throws InputError naming the file and the tensor.
  virtual at::Tensor get(const std::string& name) const = 0;
};

// Both validate everything they can before returning (header, offsets and sizes against the file)
// and throw InputError naming `path` otherwise; no tensor data is read.
std::unique_ptr<TensorFile> open_safetensors_mapped(const std::string& path);
std::unique_ptr<TensorFile> open_torch_zip(const std::string& path);  // data/formats/torch_zip.cpp

}  // namespace cascade::data
