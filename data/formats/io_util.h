#pragma once
// Small helpers shared by the readers and writers in data/; write_file_atomically is also the CLI's
// way to write an output file.
#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

#include <cstdint>
#include <string>

namespace cascade::data {

// "[2, 3, 4]": how every message in data/ spells a shape.
std::string shape_text(c10::IntArrayRef shape);

// The memory what is read from files may take (bytes): by default the usable memory
// (usable_memory_bytes of what the machine has available, data/hf/weight_memory.h; 0 when that is
// unknown: no budget); the CLI's --memory-limit GIB sets it.
void set_memory_budget(uint64_t bytes);
uint64_t memory_budget();

// at::empty, except that a shape larger than the memory budget, or too large for memory, is an
// InputError naming `path` rather than a bare bad_alloc / c10::Error (a chunked HDF5 dataset can
// declare a huge shape in a tiny file). Checked before anything is allocated.
at::Tensor allocate_for(const std::string& path, c10::IntArrayRef shape, at::ScalarType type);

// Writes `bytes` to a temporary file beside `path`, then renames it over `path`: a reader never sees
// a half-written file and a failure leaves the old one. Error ("cannot write PATH (why)") on failure.
void write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace cascade::data
