#pragma once
// NumPy .npy files (format 1.0, 2.0 and 3.0), the format `np.save` writes.
// Only floating-point arrays are read: float16, float32 and float64, either byte order.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cascade::data {

// What an .npy header says, after it has been checked against the file's size.
struct NpyHeader {
  std::string descr;             // as written, e.g. "<f4"
  bool fortran_order = false;
  std::vector<int64_t> shape;
  int64_t data_offset = 0;       // bytes before the array data
};

// Parses and checks the header (magic, version, header length, dict, dtype, size). Throws
// InputError naming `path`.
NpyHeader read_npy_header(const std::string& path);

// The array as a contiguous CPU tensor in C order with the file's dtype (kHalf, kFloat or kDouble),
// converted to native byte order. Throws InputError naming `path`.
at::Tensor read_npy(const std::string& path);

// write_npy is declared in data/formats/activation_io.h.

}  // namespace cascade::data
