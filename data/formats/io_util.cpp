#include "data/formats/io_util.h"
#include "data/formats/atomic_write.h"

#include <ATen/ATen.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>

#include "core/errors.h"
#include "data/hf/weight_memory.h"

namespace cascade::data {

std::string shape_text(c10::IntArrayRef shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

namespace {
std::atomic<uint64_t> budget_bytes{~uint64_t{0}};  // ~0: not set, the usable memory
}

void set_memory_budget(uint64_t bytes) { budget_bytes = bytes; }

uint64_t memory_budget() {
  const uint64_t b = budget_bytes.load();
  if (b != ~uint64_t{0}) return b;
  const auto available = available_memory_bytes();
  return available ? usable_memory_bytes(*available) : 0;
}

at::Tensor allocate_for(const std::string& path, c10::IntArrayRef shape, at::ScalarType type) {
  double bytes = static_cast<double>(c10::elementSize(type));
  for (int64_t x : shape) bytes *= static_cast<double>(std::max<int64_t>(x, 0));
  if (const uint64_t budget = memory_budget(); budget > 0 && bytes > static_cast<double>(budget))
    throw InputError(path, shape_text(shape) + " " + c10::toString(type) + " needs " +
                               format_bytes(static_cast<uint64_t>(std::min(bytes, 1.8e19))) + ", more than the memory budget of " +
                               format_bytes(budget) + " (--memory-limit GIB raises it)");
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
