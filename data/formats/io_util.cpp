#include "data/formats/io_util.h"
#include "data/formats/atomic_write.h"

#include <ATen/ATen.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/errors.h"

namespace cascade::data {

std::string shape_text(c10::IntArrayRef shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

at::Tensor allocate_for(const std::string& path, c10::IntArrayRef shape, at::ScalarType type) {
  try {
    return at::empty(shape, at::TensorOptions().dtype(type));
  } catch (const std::exception&) {
    throw InputError(path, shape_text(shape) + " " + c10::toString(type) + " is too large to load into memory");
  }
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << bytes;
    f.close();
    if (!f) throw Error("cannot write " + path + " (disk full, no permission, or a missing folder?)");
  });
}

}  // namespace cascade::data
