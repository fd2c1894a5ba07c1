#include "data/formats/hdf5_io.h"
#include "data/formats/atomic_write.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "core/errors.h"

namespace fs = std::filesystem;

namespace cascade::data::h5io {

namespace {
constexpr unsigned kDeflateLevel = 4;
}

Handle utf8_string_type() {
  Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t.get(), H5T_VARIABLE);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}

Handle fixed_string_type(size_t bytes) {
  Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t.get(), std::max<size_t>(bytes, 1));
  H5Tset_strpad(t.get(), H5T_STR_NULLPAD);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}

namespace {
// A fixed-length entry as written: NUL-padded, so the trailing NULs are padding.
std::string unpadded(const char* p, size_t n) {
  while (n > 0 && p[n - 1] == '\0') --n;
  return std::string(p, n);
}
}  // namespace

std::string dims_text(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + (dims[i] < 0 ? std::string("any") : std::to_string(dims[i]));
  return s + "]";
}

void raise(WriteFailure kind, const std::string& path, const std::string& problem) {
  if (kind == WriteFailure::InputError) throw InputError(path, problem);
  throw Error(path + ": " + problem);
}

// ---------------------------------------------------------------------------------------------
// Writing

Handle Writer::group(hid_t parent, const char* name) const {
  Handle g(H5Gcreate2(parent, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  if (!g.ok()) fail(std::string("group ") + name);
  return g;
}

void Writer::attr(hid_t obj, const char* name, const std::string& value) const {
  // In the object header, which holds at most 64 KiB: longer texts are datasets (strings()).
  if (value.size() > kMaxStringAttribute)
    raise(kind_, path_, std::string("cannot write attribute ") + name + ": " + std::to_string(value.size()) +
                            " bytes is more than a string attribute holds");
  const Handle type = fixed_string_type(value.size());
  const Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  const Handle a(H5Acreate2(obj, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  const std::string padded = value.empty() ? std::string(1, '\0') : value;
  if (!a.ok() || H5Awrite(a.get(), type.get(), padded.data()) < 0) fail(std::string("attribute ") + name);
}
void Writer::attr(hid_t obj, const char* name, double value) const { scalar(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value); }
void Writer::attr(hid_t obj, const char* name, int64_t value) const { scalar(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value); }
void Writer::attr_u64(hid_t obj, const char* name, uint64_t value) const { scalar(obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value); }

void Writer::dataset(hid_t parent, const char* name, hid_t file_type, hid_t mem_type, const std::vector<hsize_t>& dims,
                     const void* data, bool compress) const {
  const Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  const Handle plist(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  hsize_t elements = 1;
  for (hsize_t d : dims) elements *= d;
  if (compress && elements >= 64 && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
    std::vector<hsize_t> chunk(dims);
    for (size_t i = 0; i + 1 < chunk.size(); ++i) chunk[i] = 1;  // one row (layer) per chunk
    H5Pset_chunk(plist.get(), static_cast<int>(chunk.size()), chunk.data());
    H5Pset_shuffle(plist.get());
    H5Pset_deflate(plist.get(), kDeflateLevel);
  }
  const Handle d(H5Dcreate2(parent, name, file_type, space.get(), H5P_DEFAULT, plist.get(), H5P_DEFAULT), H5Dclose);
  if (!d.ok()) fail(std::string("dataset ") + name);
  if (elements > 0 && H5Dwrite(d.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    fail(std::string("dataset ") + name);
}

void Writer::ints(hid_t parent, const char* name, const std::vector<int64_t>& v, std::vector<hsize_t> dims,
                  bool compress) const {
  if (dims.empty()) dims = {v.size()};
  dataset(parent, name, H5T_STD_I64LE, H5T_NATIVE_INT64, dims, v.data(), compress);
}

void Writer::doubles(hid_t parent, const char* name, const std::vector<double>& v, std::vector<hsize_t> dims,
                     bool compress) const {
  if (dims.empty()) dims = {v.size()};
  dataset(parent, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, dims, v.data(), compress);
}

void Writer::strings(hid_t parent, const char* name, const std::vector<std::string>& v) const {
  size_t width = 1;
  for (const auto& s : v) width = std::max(width, s.size());
  std::vector<char> packed(v.size() * width, '\0');
  for (size_t i = 0; i < v.size(); ++i) std::copy(v[i].begin(), v[i].end(), packed.begin() + static_cast<ptrdiff_t>(i * width));
  const Handle type = fixed_string_type(width);
  dataset(parent, name, type.get(), type.get(), {v.size()}, packed.data(), v.size() * width >= 4096);
}

Handle Writer::create_file(const std::string& tmp) const {
  Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
  if (!file.ok()) raise(kind_, path_, "cannot create " + tmp + " (does the folder exist and is it writable?)");
  return file;
}

void Writer::flush_and_close(Handle& file) const {
  if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0 || !file.close()) fail("the file (flush failed)");
}

void Writer::fail(const std::string& what) const {
  raise(kind_, path_, "cannot write " + what + " (disk full, or no permission?)");
}

void Writer::scalar(hid_t obj, const char* name, hid_t file_type, hid_t mem_type, const void* value) const {
  const Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  const Handle a(H5Acreate2(obj, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!a.ok() || H5Awrite(a.get(), mem_type, value) < 0) fail(std::string("attribute ") + name);
}

void write_atomically(const std::string& path, const char* what, WriteFailure kind,
                      const std::function<void(const std::string& tmp)>& write) {
  silence_hdf5_errors();
  data::write_atomically(path, write, [&](const std::string& problem) {
    raise(kind, path, std::string("cannot write the ") + what + ": " + problem);
  });
}

// ---------------------------------------------------------------------------------------------
// Reading

Handle open_if_hdf5(const std::string& path) {
  silence_hdf5_errors();
  std::error_code ec;
  if (!fs::is_regular_file(path, ec) || H5Fis_hdf5(path.c_str()) <= 0) return {};
  return Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
}

Handle open_for_reading(const std::string& path, const std::string& not_hdf5, uint64_t& size) {
  silence_hdf5_errors();
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path, "no such file");
  if (!fs::is_regular_file(path, ec)) throw InputError(path, "not a file");
  size = fs::file_size(path, ec);
  if (ec) size = 0;
  if (H5Fis_hdf5(path.c_str()) <= 0) throw InputError(path, not_hdf5);
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.ok()) throw InputError(path, "cannot open the HDF5 file (damaged or truncated?)");
  return file;
}

Reader::Reader(std::string path, hid_t file, uint64_t file_size)
    : path_(std::move(path)),
      file_(file),
      file_size_(file_size),
      max_elements_(std::max<uint64_t>(uint64_t{1} << 20, file_size * 1024)) {}

void Reader::check_extents(hid_t d, const std::string& name) const {
  if (file_size_ == 0) return;  // unknown
  auto inside = [&](haddr_t addr, hsize_t bytes) { return addr <= file_size_ && bytes <= file_size_ - addr; };
  const Handle plist(H5Dget_create_plist(d), H5Pclose);
  const H5D_layout_t layout = plist.ok() ? H5Pget_layout(plist.get()) : H5D_LAYOUT_ERROR;
  if (layout == H5D_CONTIGUOUS) {
    const haddr_t addr = H5Dget_offset(d);  // HADDR_UNDEF: never written (the fill value)
    if (addr != HADDR_UNDEF && !inside(addr, H5Dget_storage_size(d)))
      bad(name + " points past the end of the file (damaged or truncated?)");
  } else if (layout == H5D_CHUNKED) {
    const Handle space(H5Dget_space(d), H5Sclose);
    hsize_t chunks = 0;
    if (!space.ok() || H5Dget_num_chunks(d, space.get(), &chunks) < 0) bad("cannot read the chunk index of " + name + " (damaged?)");
    for (hsize_t i = 0; i < chunks; ++i) {
      unsigned mask = 0;
      haddr_t addr = HADDR_UNDEF;
      hsize_t bytes = 0;
      if (H5Dget_chunk_info(d, space.get(), i, nullptr, &mask, &addr, &bytes) < 0 || !inside(addr, bytes))
        bad(name + " has a chunk past the end of the file (damaged or truncated?)");
    }
  }
}

void Reader::bad(const std::string& what) const { throw InputError(path_, what); }

bool Reader::exists(const std::string& obj) const {
  std::string prefix;
  size_t pos = 1;
  while (pos <= obj.size()) {
    const size_t next = obj.find('/', pos);
    prefix = obj.substr(0, next);
    if (H5Lexists(file_, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return H5Oexists_by_name(file_, obj.c_str(), H5P_DEFAULT) > 0;
}

Handle Reader::group(const std::string& name, const char* why) const {
  if (!exists(name)) bad("no group " + name + (why ? std::string(" (") + why + ")" : std::string()));
  Handle g(H5Gopen2(file_, name.c_str(), H5P_DEFAULT), H5Gclose);
  if (!g.ok()) bad(name + " is not a group");
  return g;
}

std::string Reader::attr_string(hid_t obj, const std::string& where, const char* name) const {
  const Handle a = open_attr(obj, where, name);
  const Handle type(H5Aget_type(a.get()), H5Tclose);
  if (!type.ok() || H5Tget_class(type.get()) != H5T_STRING) bad(where + " attribute '" + name + "' is not a string");
  const Handle space(H5Aget_space(a.get()), H5Sclose);
  if (H5Sget_simple_extent_npoints(space.get()) != 1) bad(where + " attribute '" + name + "' is not a single string");
  if (H5Tis_variable_str(type.get()) > 0) {
    if (!variable_strings_)
      bad(where + " attribute '" + name + "' is a variable-length string, which this format version does not use");
    const Handle mem = utf8_string_type();
    char* p = nullptr;
    if (H5Aread(a.get(), mem.get(), &p) < 0) bad("cannot read " + where + " attribute '" + name + "'");
    std::string out = p ? p : "";
    if (p) H5free_memory(p);
    return out;
  }
  const size_t n = H5Tget_size(type.get());
  if (n == 0 || n > kMaxStringAttribute) bad(where + " attribute '" + name + "' has an unreasonable size");
  std::string out(n, '\0');
  const Handle mem(H5Tcopy(type.get()), H5Tclose);  // as stored (ASCII or UTF-8, however padded): no conversion
  if (H5Aread(a.get(), mem.get(), out.data()) < 0) bad("cannot read " + where + " attribute '" + name + "'");
  return unpadded(out.data(), n);
}

double Reader::attr_double(hid_t obj, const std::string& where, const char* name) const {
  return attr_number<double>(obj, where, name, H5T_FLOAT, H5T_INTEGER);
}
int64_t Reader::attr_int(hid_t obj, const std::string& where, const char* name) const {
  return attr_number<int64_t>(obj, where, name, H5T_INTEGER, H5T_INTEGER);
}
uint64_t Reader::attr_u64(hid_t obj, const std::string& where, const char* name) const {
  return attr_number<uint64_t>(obj, where, name, H5T_INTEGER, H5T_INTEGER);
}

std::vector<std::string> Reader::read_strings(const std::string& name, const char* meaning) const {
  const Handle d = open_dataset(name);
  const Handle type(H5Dget_type(d.get()), H5Tclose);
  if (!type.ok() || H5Tget_class(type.get()) != H5T_STRING) bad(name + " is not a list of strings");
  if (H5Tis_variable_str(type.get()) <= 0) {  // fixed-length, NUL-padded (format versions that have no heap)
    const size_t width = H5Tget_size(type.get());
    if (width == 0 || width > (size_t{1} << 26)) bad(name + " has strings of an unreasonable width");
    const auto dims = dataset_dims(d.get(), name, {-1}, meaning, width);
    std::vector<char> packed;
    try {
      packed.resize(static_cast<size_t>(dims[0]) * width);
    } catch (const std::exception&) {
      bad(name + " is too large to load into memory");
    }
    const Handle mem(H5Tcopy(type.get()), H5Tclose);  // as stored (ASCII or UTF-8, however padded): no conversion
    check_extents(d.get(), name);
    if (!packed.empty() && H5Dread(d.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, packed.data()) < 0)
      bad("cannot read " + name + " (damaged or truncated file?)");
    std::vector<std::string> out;
    out.reserve(static_cast<size_t>(dims[0]));
    for (int64_t i = 0; i < dims[0]; ++i) out.push_back(unpadded(packed.data() + static_cast<size_t>(i) * width, width));
    return out;
  }
  if (!variable_strings_) bad(name + " holds variable-length strings, which this format version does not use");
  const auto dims = dataset_dims(d.get(), name, {-1}, meaning);
  std::vector<char*> p(static_cast<size_t>(dims[0]), nullptr);
  const Handle mem = utf8_string_type();
  const Handle space(H5Dget_space(d.get()), H5Sclose);
  if (!p.empty() && H5Dread(d.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()) < 0)
    bad("cannot read " + name + " (damaged or truncated file?)");
  std::vector<std::string> out;
  out.reserve(p.size());
  for (char* s : p) out.emplace_back(s ? s : "");
  if (!p.empty()) H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, p.data());
  return out;
}

Handle Reader::open_attr(hid_t obj, const std::string& where, const char* name) const {
  if (H5Aexists(obj, name) <= 0) bad(where + " has no attribute '" + name + "'");
  Handle a(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  if (!a.ok()) bad("cannot open " + where + " attribute '" + name + "'");
  return a;
}

template <class T>
T Reader::attr_number(hid_t obj, const std::string& where, const char* name, H5T_class_t want, H5T_class_t also) const {
  const Handle a = open_attr(obj, where, name);
  const Handle type(H5Aget_type(a.get()), H5Tclose);
  const H5T_class_t c = type.ok() ? H5Tget_class(type.get()) : H5T_NO_CLASS;
  if (c != want && c != also) bad(where + " attribute '" + name + "' is not a number");
  if (const size_t width = H5Tget_size(type.get()); width < 1 || width > 8)
    bad(where + " attribute '" + name + "' is a " + std::to_string(width) + "-byte number (damaged?)");
  const Handle space(H5Aget_space(a.get()), H5Sclose);
  if (H5Sget_simple_extent_npoints(space.get()) != 1) bad(where + " attribute '" + name + "' is not a single number");
  T v{};
  if (H5Aread(a.get(), native_type<T>(), &v) < 0) bad("cannot read " + where + " attribute '" + name + "'");
  return v;
}

Handle Reader::open_dataset(const std::string& name) const {
  if (!exists(name)) bad("no dataset " + name);
  Handle d(H5Dopen2(file_, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!d.ok()) bad(name + " is not a dataset");
  return d;
}

std::vector<int64_t> Reader::dataset_dims(hid_t d, const std::string& name, const std::vector<int64_t>& expected,
                                          const char* meaning, uint64_t element_bytes) const {
  const Handle space(H5Dget_space(d), H5Sclose);
  const int rank = space.ok() ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (rank < 0) bad("cannot read the shape of " + name);
  std::vector<hsize_t> raw(static_cast<size_t>(rank));
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), raw.data(), nullptr);
  std::vector<int64_t> dims(raw.begin(), raw.end());
  bool ok = dims.size() == expected.size();
  for (size_t i = 0; ok && i < dims.size(); ++i) ok = expected[i] < 0 || dims[i] == expected[i];
  if (!ok) bad(name + " has shape " + dims_text(dims) + ", expected " + dims_text(expected) + " (" + meaning + ")");
  uint64_t n = std::max<uint64_t>(1, (element_bytes + 7) / 8);  // max_elements_ counts 8-byte elements
  for (hsize_t x : raw) {
    if (x > 0 && n > max_elements_ / x) bad(name + " declares " + dims_text(dims) + ", far more data than the file holds");
    n *= x;
  }
  return dims;
}

}  // namespace cascade::data::h5io
