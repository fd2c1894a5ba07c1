#pragma once
// Small helpers shared by the readers and writers in data/; write_file_atomically is also the CLI's
// way to write an output file.
#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

#include <string>

namespace cascade::data {

// "[2, 3, 4]": how every message in data/ spells a shape.
std::string shape_text(c10::IntArrayRef shape);

// at::empty, except that a shape too large for memory is an InputError naming `path` rather than a
// bare bad_alloc / c10::Error (a chunked HDF5 dataset can declare a huge shape in a tiny file).
at::Tensor allocate_for(const std::string& path, c10::IntArrayRef shape, at::ScalarType type);

// Writes `bytes` to a temporary file beside `path`, then renames it over `path`: a reader never sees
// a half-written file and a failure leaves the old one. Error ("cannot write PATH (why)") on failure.
void write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace cascade::data
