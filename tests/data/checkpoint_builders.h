#pragma once
// Helpers for the checkpoint tests: the shared fixtures, a torch.save-format pytorch_model.bin
// assembled here (the pickle byte by byte, in the opcodes Python's torch.save emits; the zip by
// LibTorch's PyTorchStreamWriter, the class torch.save itself writes with), and environment
// variables set for one test.
#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/shared_dir.h"
#include "file_builders.h"

namespace cascade::data::testing {

// CASCADE_SHARED_DIR/rel, or "" when the shared folder is absent (the caller skips).
inline std::string shared_path(const std::string& rel) {
  const std::string root = testshared::shared_dir();
  return root.empty() ? std::string() : (fs::path(root) / rel).string();
}

#define REQUIRE_SHARED(var, rel)                                                                            \
  const std::string var = shared_path(rel);                                                                 \
  if (var.empty()) GTEST_SKIP() << "../shared not found: " << testshared::configured_shared_dir().string()  \
                                << " has no fixtures/ (set CASCADE_SHARED to run the checkpoint fixture tests)"

// Sets (or unsets, with nullopt) an environment variable until the end of the scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value->c_str(), 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// ---- pytorch_model.bin ----

// One storage (a 1-D tensor) saved as data/<key>, pickled as torch.<type>.
struct ZipStorage {
  std::string key, type;
  at::Tensor data;
};
// One state-dict entry: a strided view into a storage.
struct ZipView {
  std::string name, key;
  int64_t offset;
  std::vector<int64_t> sizes, strides;
};

namespace pickle {
// Opcode + argument, appended rather than `"K" + string`, which trips GCC 12's -Wrestrict.
inline std::string op(char code, const std::string& argument) {
  std::string out(1, code);
  return out += argument;
}
inline std::string str(const std::string& s) { return op('X', little_endian(s.size(), 4) + s); }
inline std::string integer(int64_t v) {
  if (v >= 0 && v < 256) return op('K', little_endian(v, 1));
  if (v >= 0 && v < 65536) return op('M', little_endian(v, 2));
  return op('\x8a', '\x08' + little_endian(static_cast<uint64_t>(v), 8));  // LONG1 of 8 bytes
}
inline std::string int_tuple(const std::vector<int64_t>& values) {
  std::string out = "(";
  for (int64_t v : values) out += integer(v);
  return out + "t";
}
inline std::string global(const std::string& module, const std::string& name) {
  return "c" + module + "\n" + name + "\n";
}
}  // namespace pickle

// data.pkl of torch.save(state_dict): `ordered` is an OrderedDict carrying `_metadata` (set with
// BUILD, as a model's state_dict() is), else a plain dict (as save_pretrained's shards are).
inline std::string state_dict_pickle(const std::vector<ZipStorage>& storages, const std::vector<ZipView>& views,
                                     bool ordered = true) {
  using namespace pickle;
  using namespace std::string_literals;  // the opcodes below contain NUL bytes
  // Memo 0 holds OrderedDict: the empty backward_hooks of every tensor reuse it (BINGET), as in Python.
  std::string out = "\x80\x02"s + global("collections", "OrderedDict") + "q\x00"s;
  out += ordered ? ")R(" : std::string("0}(");  // POP the class again when the dict is plain
  for (const auto& view : views) {
    const ZipStorage* storage = nullptr;
    for (const auto& s : storages)
      if (s.key == view.key) storage = &s;
    const std::string type = storage ? storage->type : "FloatStorage";
    const int64_t numel = storage ? storage->data.numel() : 1;
    out += str(view.name) + global("torch._utils", "_rebuild_tensor_v2") + "((" + str("storage") +
           global("torch", type) + str(view.key) + str("cpu") + integer(numel) + "tQ" + integer(view.offset) +
           int_tuple(view.sizes) + int_tuple(view.strides) + "\x89h\x00)RtR"s;
  }
  out += "u";
  if (ordered) out += "}"s + str("_metadata") + "h\x00)R"s + str("") + "}"s + str("version") + integer(1) + "sssb";
  return out + ".";
}

inline void write_torch_zip(const std::string& path, const std::string& pickle_bytes,
                            const std::vector<ZipStorage>& storages) {
  caffe2::serialize::PyTorchStreamWriter writer(path);
  writer.writeRecord("data.pkl", pickle_bytes.data(), pickle_bytes.size());
  writer.writeRecord("byteorder", "little", 6);
  for (const auto& s : storages) {
    const at::Tensor data = s.data.contiguous();
    writer.writeRecord("data/" + s.key, data.data_ptr(), data.numel() * data.element_size());
  }
  writer.writeEndOfFile();
}

// Each tensor in its own storage, like torch.save of an untied state dict.
inline void write_state_dict_zip(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                                 bool ordered = true) {
  std::vector<ZipStorage> storages;
  std::vector<ZipView> views;
  for (const auto& [name, tensor] : tensors) {
    const std::string key = std::to_string(storages.size());
    const std::string type = tensor.scalar_type() == at::kFloat      ? "FloatStorage"
                             : tensor.scalar_type() == at::kBFloat16 ? "BFloat16Storage"
                                                                     : "HalfStorage";
    storages.push_back({key, type, tensor.contiguous().reshape({-1})});
    views.push_back({name, key, 0, tensor.sizes().vec(), tensor.contiguous().strides().vec()});
  }
  write_torch_zip(path, state_dict_pickle(storages, views, ordered), storages);
}

}  // namespace cascade::data::testing
