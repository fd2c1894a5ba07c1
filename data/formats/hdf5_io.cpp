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
  const Handle type = utf8_string_type();
  const Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  const Handle a(H5Acreate2(obj, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  const char* p = value.c_str();
  if (!a.ok() || H5Awrite(a.get(), type.get(), &p) < 0) fail(std::string("attribute ") + name);
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
  std::vector<const char*> p;
  p.reserve(v.size());
  for (const auto& s : v) p.push_back(s.c_str());
  const Handle type = utf8_string_type();
  dataset(parent, name, type.get(), type.get(), {v.size()}, p.data(), false);
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
    : path_(std::move(path)), file_(file), max_elements_(std::max<uint64_t>(uint64_t{1} << 20, file_size * 1024)) {}

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
    const Handle mem = utf8_string_type();
    char* p = nullptr;
    if (H5Aread(a.get(), mem.get(), &p) < 0) bad("cannot read " + where + " attribute '" + name + "'");
    std::string out = p ? p : "";
    if (p) H5free_memory(p);
    return out;
  }
  const size_t n = H5Tget_size(type.get());
  if (n == 0 || n > (size_t{1} << 26)) bad(where + " attribute '" + name + "' has an unreasonable size");
  std::string out(n, '\0');
  const Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(mem.get(), n);
  if (H5Aread(a.get(), mem.get(), out.data()) < 0) bad("cannot read " + where + " attribute '" + name + "'");
  out.resize(out.find('\0') == std::string::npos ? n : out.find('\0'));
  return out;
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
  if (!type.ok() || H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) <= 0)
    bad(name + " is not a list of variable-length UTF-8 strings");
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
                                          const char* meaning) const {
  const Handle space(H5Dget_space(d), H5Sclose);
  const int rank = space.ok() ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (rank < 0) bad("cannot read the shape of " + name);
  std::vector<hsize_t> raw(static_cast<size_t>(rank));
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), raw.data(), nullptr);
  std::vector<int64_t> dims(raw.begin(), raw.end());
  bool ok = dims.size() == expected.size();
  for (size_t i = 0; ok && i < dims.size(); ++i) ok = expected[i] < 0 || dims[i] == expected[i];
  if (!ok) bad(name + " has shape " + dims_text(dims) + ", expected " + dims_text(expected) + " (" + meaning + ")");
  uint64_t n = 1;
  for (hsize_t x : raw) {
    if (x > 0 && n > max_elements_ / x) bad(name + " declares " + dims_text(dims) + ", far more data than the file holds");
    n *= x;
  }
  return dims;
}

}  // namespace cascade::data::h5io
