#include "data/formats/io_util.h"

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
  const std::string tmp = path + ".tmp" + std::to_string(getpid());
  try {
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      f << bytes;
      f.close();
      if (!f) throw Error("disk full, no permission, or a missing folder?");
    }
    std::filesystem::rename(tmp, path);
  } catch (const std::exception& e) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);  // never leave a half-written temporary behind
    throw Error("cannot write " + path + " (" + e.what() + ")");
  }
}

}  // namespace cascade::data
