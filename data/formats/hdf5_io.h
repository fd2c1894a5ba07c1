#pragma once
// The HDF5 writing and reading that the session file and the study file share (private to the
// library): string and number attributes, datasets of int64/float64/strings, reading them back with
// type and shape checks, and the atomic write (a temporary file renamed into place).
#include <hdf5.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "core/errors.h"
#include "data/formats/hdf5_util.h"

namespace cascade::data::h5io {

Handle utf8_string_type();  // variable-length: what format versions before the heap-free ones wrote
Handle fixed_string_type(size_t bytes);  // UTF-8, NUL-padded, `bytes` wide (at least 1)

// A string attribute lives in its object's header (64 KiB at most); a longer text is a dataset.
inline constexpr size_t kMaxStringAttribute = 16384;

template <class T>
hid_t native_type();
template <> inline hid_t native_type<int64_t>() { return H5T_NATIVE_INT64; }
template <> inline hid_t native_type<uint64_t>() { return H5T_NATIVE_UINT64; }
template <> inline hid_t native_type<uint8_t>() { return H5T_NATIVE_UINT8; }
template <> inline hid_t native_type<double>() { return H5T_NATIVE_DOUBLE; }
template <> inline hid_t native_type<float>() { return H5T_NATIVE_FLOAT; }

std::string dims_text(const std::vector<int64_t>& dims);  // "[2, any]"

// What a failed write throws: the session file reports a plain Error (the CLI's generic failure),
// the study file an InputError naming the path. The message is the same either way.
enum class WriteFailure { Error, InputError };
[[noreturn]] void raise(WriteFailure kind, const std::string& path, const std::string& problem);

class Writer {
 public:
  explicit Writer(std::string path, WriteFailure kind = WriteFailure::Error) : path_(std::move(path)), kind_(kind) {}

  Handle group(hid_t parent, const char* name) const;
  void attr(hid_t obj, const char* name, const std::string& value) const;
  void attr(hid_t obj, const char* name, const char* value) const { attr(obj, name, std::string(value)); }
  void attr(hid_t obj, const char* name, double value) const;
  void attr(hid_t obj, const char* name, int64_t value) const;
  void attr_u64(hid_t obj, const char* name, uint64_t value) const;

  // A dataset of `dims`; with `compress`, one of 64 elements or more is chunked by row (every axis
  // but the last has chunk extent 1) and compressed (shuffle + deflate).
  void dataset(hid_t parent, const char* name, hid_t file_type, hid_t mem_type, const std::vector<hsize_t>& dims,
               const void* data, bool compress = true) const;
  // `dims` empty: 1-D of the vector's length.
  void ints(hid_t parent, const char* name, const std::vector<int64_t>& v, std::vector<hsize_t> dims = {},
            bool compress = true) const;
  void doubles(hid_t parent, const char* name, const std::vector<double>& v, std::vector<hsize_t> dims = {},
               bool compress = true) const;
  // A 1-D dataset of fixed-length UTF-8 strings, as wide as the longest and NUL-padded (no
  // variable-length strings: they live in libhdf5's global heap, whose reader crashes on damaged
  // files). A string's own trailing NULs are lost (display strings have none).
  void strings(hid_t parent, const char* name, const std::vector<std::string>& v) const;

  // The file being written (at the temporary path `tmp`); flush_and_close reports a failed final flush.
  Handle create_file(const std::string& tmp) const;
  void flush_and_close(Handle& file) const;

  [[noreturn]] void fail(const std::string& what) const;

 private:
  void scalar(hid_t obj, const char* name, hid_t file_type, hid_t mem_type, const void* value) const;
  std::string path_;
  WriteFailure kind_;
};

// Writes `path` atomically: `write` fills a hidden temporary file beside it (same file system, so
// the rename is atomic), which is then renamed over `path`; on any failure the temporary is removed.
// `what` names the contents in the rename's error ("session", "study").
void write_atomically(const std::string& path, const char* what, WriteFailure kind,
                      const std::function<void(const std::string& tmp)>& write);

// The file opened read-only, or an invalid handle when it is not a regular HDF5 file (no throw).
Handle open_if_hdf5(const std::string& path);
// The file opened read-only, or InputError: no such file, not a file, `not_hdf5` (the message for a
// file of another kind), damaged. `size` receives the file's size (0 when unknown).
Handle open_for_reading(const std::string& path, const std::string& not_hdf5, uint64_t& size);

class Reader {
 public:
  Reader(std::string path, hid_t file, uint64_t file_size);

  [[noreturn]] void bad(const std::string& what) const;
  const std::string& path() const { return path_; }
  // Older format versions stored variable-length strings; a reader of those allows them (they are
  // read through libhdf5's global heap, so such a file is first checked in a child process:
  // data/formats/isolated.h). Off by default: a variable-length string is then an InputError.
  void allow_variable_strings(bool allow) { variable_strings_ = allow; }

  bool exists(const std::string& obj) const;  // "/a/b/c": every component in turn
  Handle group(const std::string& name, const char* why = nullptr) const;
  bool has_attr(hid_t obj, const char* name) const { return H5Aexists(obj, name) > 0; }

  std::string attr_string(hid_t obj, const std::string& where, const char* name) const;
  // A string attribute naming one of an enum's values: `parse` of it, or an InputError listing `expected`.
  template <class Parse>
  auto parsed(hid_t obj, const std::string& where, const char* name, Parse parse, const char* expected) const;
  double attr_double(hid_t obj, const std::string& where, const char* name) const;
  int64_t attr_int(hid_t obj, const std::string& where, const char* name) const;
  uint64_t attr_u64(hid_t obj, const std::string& where, const char* name) const;

  // The dataset `name` as a flat row-major vector, after checking its type class and that its shape
  // is `expected` (−1: any extent). `shape` receives the actual shape.
  template <class T>
  std::vector<T> read(const std::string& name, const std::vector<int64_t>& expected, const char* meaning,
                      std::vector<int64_t>* shape = nullptr) const;
  // A 1-D dataset of strings (fixed-length; variable-length only where allowed); `meaning` names
  // its extent in a shape error.
  std::vector<std::string> read_strings(const std::string& name, const char* meaning = "T") const;

  Handle open_dataset(const std::string& name) const;
  // Whether the dataset holds numbers of T's kind (floating point or integer); InputError otherwise.
  template <class T>
  void check_class(hid_t d, const std::string& name) const;
  // The dataset's shape, checked against `expected` (−1: any extent) and against what the file can hold.
  // Before reading a dataset's data: its storage (contiguous, or every chunk) lies within the file.
  void check_extents(hid_t d, const std::string& name) const;
  // `element_bytes`: the size of one element, for that bound (8 when not given).
  std::vector<int64_t> dataset_dims(hid_t d, const std::string& name, const std::vector<int64_t>& expected,
                                    const char* meaning, uint64_t element_bytes = 8) const;

 private:
  Handle open_attr(hid_t obj, const std::string& where, const char* name) const;
  template <class T>
  T attr_number(hid_t obj, const std::string& where, const char* name, H5T_class_t want, H5T_class_t also) const;

  std::string path_;
  hid_t file_;
  uint64_t file_size_;
  uint64_t max_elements_;
  bool variable_strings_ = false;
};

// ---------------------------------------------------------------------------------------------

template <class Parse>
auto Reader::parsed(hid_t obj, const std::string& where, const char* name, Parse parse, const char* expected) const {
  const std::string text = attr_string(obj, where, name);
  try {
    return parse(text);
  } catch (const UsageError&) {
    bad(where + " attribute '" + name + "' is '" + text + "' (" + expected + ")");
  }
}

template <class T>
std::vector<T> Reader::read(const std::string& name, const std::vector<int64_t>& expected, const char* meaning,
                            std::vector<int64_t>* shape) const {
  const Handle d = open_dataset(name);
  check_class<T>(d.get(), name);
  const auto dims = dataset_dims(d.get(), name, expected, meaning);
  if (shape) *shape = dims;
  uint64_t n = 1;
  for (int64_t x : dims) n *= static_cast<uint64_t>(x);
  std::vector<T> out;
  try {
    out.resize(n);
  } catch (const std::exception&) {
    bad(name + " " + dims_text(dims) + " is too large to load into memory");
  }
  check_extents(d.get(), name);
  if (n > 0 && H5Dread(d.get(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
    bad("cannot read " + name + " (damaged or truncated file?)");
  return out;
}

template <class T>
void Reader::check_class(hid_t d, const std::string& name) const {
  const Handle type(H5Dget_type(d), H5Tclose);
  const H5T_class_t c = type.ok() ? H5Tget_class(type.get()) : H5T_NO_CLASS;
  const bool want_float = std::is_floating_point_v<T>;
  if (want_float && c != H5T_FLOAT) bad(name + " does not hold floating-point numbers");
  if (!want_float && c != H5T_INTEGER) bad(name + " does not hold integers");
  // The width too: libhdf5 converts from whatever width the file declares, and a damaged type
  // (an "integer" of 6.8 MB) sends its conversion past its buffers.
  const size_t width = H5Tget_size(type.get());
  if (want_float ? (width != 2 && width != 4 && width != 8) : (width < 1 || width > 8))
    bad(name + " holds " + std::to_string(width) + "-byte " + (want_float ? "floats" : "integers") + " (damaged?)");
}

}  // namespace cascade::data::h5io
