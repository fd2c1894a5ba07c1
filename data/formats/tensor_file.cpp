#include "data/formats/tensor_file.h"

#include <unordered_map>

#include "data/formats/mapped_file.h"
#include "data/formats/safetensors.h"

namespace cascade::data {

namespace {

class MappedSafetensors : public TensorFile {
 public:
  // The header is read and validated before the file is mapped, so a lying file fails early.
  explicit MappedSafetensors(const std::string& path) : header_(path), mapping_(MappedFile::open(path)) {
    const auto& entries = header_.entries();
    for (size_t i = 0; i < entries.size(); ++i) {
      names_.push_back(entries[i].name);
      index_.emplace(entries[i].name, i);
    }
  }
  const std::string& path() const override { return header_.path(); }
  const std::vector<std::string>& names() const override { return names_; }
  bool has(const std::string& name) const override { return index_.count(name) != 0; }
  at::Tensor get(const std::string& name) const override {
    return header_.read_mapped(header_.entries().at(index_.at(name)), mapping_);
  }

 private:
  SafetensorsFile header_;
  std::shared_ptr<const MappedFile> mapping_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace

std::unique_ptr<TensorFile> open_safetensors_mapped(const std::string& path) {
  return std::make_unique<MappedSafetensors>(path);
}

}  // namespace cascade::data
