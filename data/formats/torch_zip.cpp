// pytorch_model.bin in torch.save's zip format (PyTorch >= 1.6): ARCHIVE/data.pkl describes the
// tensors, ARCHIVE/data/<key> holds each storage uncompressed and 64-byte aligned. LibTorch's zip
// reader finds the records; our restricted unpickler (torch_pickle.h) reads data.pkl, because
// LibTorch's own unpickler fails on the OrderedDict `_metadata` that state dicts carry; the storages
// are memory-mapped like safetensors data.
#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>
#include <c10/util/Exception.h>

#include <cstring>
#include <unordered_map>

#include "core/errors.h"
#include "data/formats/mapped_file.h"
#include "data/formats/tensor_file.h"
#include "data/formats/torch_pickle.h"

namespace cascade::data {

namespace {

// The first line of a c10::Error, without LibTorch's C++ backtrace.
std::string first_line(const c10::Error& error) {
  const std::string text = error.what_without_backtrace();
  return text.substr(0, text.find('\n'));
}

void check_zip_magic(const MappedFile& file) {
  const unsigned char* bytes = file.data();
  if (file.size() >= 4 && std::memcmp(bytes, "PK\x03\x04", 4) == 0) return;
  // Before 1.6, torch.save wrote a bare pickle stream, starting with the PROTO opcode.
  if (file.size() >= 2 && bytes[0] == 0x80)
    throw InputError(file.path(), "is in the legacy torch.save format (PyTorch < 1.6), which is not supported; "
                                  "convert it to safetensors");
  throw InputError(file.path(), "is not a PyTorch zip archive");
}

std::string record_text(caffe2::serialize::PyTorchStreamReader& reader, const std::string& name) {
  auto [data, size] = reader.getRecord(name);
  return std::string(static_cast<const char*>(data.get()), size);
}

class TorchZipFile : public TensorFile {
 public:
  explicit TorchZipFile(const std::string& path) : mapping_(MappedFile::open(path)) {
    check_zip_magic(*mapping_);
    try {
      caffe2::serialize::PyTorchStreamReader reader(path);
      if (reader.hasRecord("byteorder") && record_text(reader, "byteorder") != "little")
        throw InputError(path, "stores big-endian data, which is not supported");
      if (!reader.hasRecord("data.pkl")) throw InputError(path, "zip archive has no data.pkl (not a torch.save file)");
      tensors_ = parse_state_dict_pickle(path, record_text(reader, "data.pkl"));
      locate_storages(reader);
    } catch (const c10::Error& error) {
      throw InputError(path, "cannot read the zip archive: " + first_line(error));
    }
    if (tensors_.empty()) throw InputError(path, "holds no tensors");
    for (size_t i = 0; i < tensors_.size(); ++i) {
      names_.push_back(tensors_[i].first);
      index_.emplace(tensors_[i].first, i);
    }
  }

  const std::string& path() const override { return mapping_->path(); }
  const std::vector<std::string>& names() const override { return names_; }
  bool has(const std::string& name) const override { return index_.count(name) != 0; }

  at::Tensor get(const std::string& name) const override {
    const PickledTensor& t = tensors_.at(index_.at(name)).second;
    if (!t.dtype)
      throw InputError(path(), "tensor '" + name + "' is stored as " + t.storage_type + ", which is not supported");
    const uint64_t nbytes = static_cast<uint64_t>(t.storage_numel) * c10::elementSize(*t.dtype);
    const at::Tensor storage =
        tensor_in_mapping(mapping_, storage_at_.at(t.storage_key), nbytes, {t.storage_numel}, *t.dtype);
    // Tied or sliced weights are views of one storage; hand out a plain dense tensor.
    return storage.as_strided(t.sizes, t.strides, t.storage_offset).contiguous();
  }

 private:
  // Finds data/<key> for every storage and checks that its bytes lie inside the file.
  void locate_storages(caffe2::serialize::PyTorchStreamReader& reader) {
    for (const auto& [name, tensor] : tensors_) {
      if (storage_at_.count(tensor.storage_key)) continue;
      const std::string record = "data/" + tensor.storage_key;
      if (!reader.hasRecord(record))
        throw InputError(path(), "tensor '" + name + "': storage record " + record + " is missing");
      const uint64_t offset = reader.getRecordOffset(record);
      if (tensor.dtype) {
        uint64_t nbytes = 0;
        if (__builtin_mul_overflow(static_cast<uint64_t>(tensor.storage_numel), c10::elementSize(*tensor.dtype),
                                   &nbytes) ||
            offset > mapping_->size() || nbytes > mapping_->size() - offset)
          throw InputError(path(), "tensor '" + name + "': storage " + record + " runs past the end of the file");
      }
      storage_at_.emplace(tensor.storage_key, offset);
    }
  }

  std::shared_ptr<const MappedFile> mapping_;
  std::vector<std::pair<std::string, PickledTensor>> tensors_;
  std::unordered_map<std::string, uint64_t> storage_at_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace

std::unique_ptr<TensorFile> open_torch_zip(const std::string& path) { return std::make_unique<TorchZipFile>(path); }

}  // namespace cascade::data
