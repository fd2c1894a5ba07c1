#pragma once
// What a format-version-2 writer made (data/SESSION_FORMAT.md "Versioning"), from a version-3
// file: a copy with every fixed-length string (attribute or dataset) rewritten as variable-length,
// /text moved back to the root attribute `text`, and format_version set to `version` (1 or 2).
// For the tests that older files still open, and for bench_session's old-vs-new read time.
#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace testsession {

namespace legacy_detail {

inline hid_t vlen_type() {
  const hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

inline std::vector<std::string> read_fixed(hid_t obj, bool attribute) {
  const hid_t type = attribute ? H5Aget_type(obj) : H5Dget_type(obj);
  const hid_t space = attribute ? H5Aget_space(obj) : H5Dget_space(obj);
  const size_t width = H5Tget_size(type);
  const auto n = static_cast<size_t>(H5Sget_simple_extent_npoints(space));
  std::vector<char> buf(n * width);
  if (attribute) H5Aread(obj, type, buf.data());
  else H5Dread(obj, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data());
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    std::string v(buf.data() + i * width, width);
    v.resize(v.find_last_not_of('\0') == std::string::npos ? 0 : v.find_last_not_of('\0') + 1);
    out.push_back(v);
  }
  H5Tclose(type), H5Sclose(space);
  return out;
}

inline void vlen_attribute(hid_t obj, const char* name, const std::string& value) {
  const hid_t type = vlen_type(), space = H5Screate(H5S_SCALAR);
  const hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  const char* p = value.c_str();
  H5Awrite(a, type, &p);
  H5Aclose(a), H5Sclose(space), H5Tclose(type);
}

inline bool is_fixed_string(hid_t type) { return H5Tget_class(type) == H5T_STRING && H5Tis_variable_str(type) <= 0; }

inline void legacy_attributes(hid_t obj) {
  std::vector<std::string> names;
  H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_NATIVE, nullptr,
              [](hid_t, const char* name, const H5A_info_t*, void* out) -> herr_t {
                static_cast<std::vector<std::string>*>(out)->push_back(name);
                return 0;
              }, &names);
  for (const std::string& name : names) {
    const hid_t a = H5Aopen(obj, name.c_str(), H5P_DEFAULT);
    const hid_t type = H5Aget_type(a);
    const bool fixed = is_fixed_string(type);
    H5Tclose(type);
    if (!fixed) {
      H5Aclose(a);
      continue;
    }
    const std::string value = read_fixed(a, true).at(0);
    H5Aclose(a);
    H5Adelete(obj, name.c_str());
    vlen_attribute(obj, name.c_str(), value);
  }
}

}  // namespace legacy_detail

inline void legacy_copy(const std::string& from, const std::string& to, int64_t version = 2) {
  using namespace legacy_detail;
  namespace fs = std::filesystem;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  const hid_t f = H5Fopen(to.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  std::vector<std::string> objects;
  H5Ovisit(f, H5_INDEX_NAME, H5_ITER_NATIVE,
           [](hid_t, const char* name, const H5O_info_t*, void* out) -> herr_t {
             static_cast<std::vector<std::string>*>(out)->push_back(name);
             return 0;
           }, &objects);
  for (const std::string& name : objects) {
    const hid_t o = H5Oopen(f, name.c_str(), H5P_DEFAULT);
    legacy_attributes(o);
    const bool dataset = H5Iget_type(o) == H5I_DATASET;
    bool fixed = false;
    if (dataset) {
      const hid_t type = H5Dget_type(o);
      fixed = is_fixed_string(type);
      H5Tclose(type);
    }
    if (!fixed) {
      H5Oclose(o);
      continue;
    }
    const std::vector<std::string> values = read_fixed(o, false);
    H5Oclose(o);
    H5Ldelete(f, name.c_str(), H5P_DEFAULT);
    if (name == "text") {  // version 2: a root attribute
      vlen_attribute(f, "text", values.at(0));
      continue;
    }
    std::vector<const char*> p;
    for (const auto& v : values) p.push_back(v.c_str());
    const hsize_t n = values.size();
    const hid_t type = vlen_type(), space = H5Screate_simple(1, &n, nullptr);
    const hid_t d = H5Dcreate2(f, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (n > 0) H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data());
    H5Dclose(d), H5Sclose(space), H5Tclose(type);
  }
  legacy_attributes(f);
  const hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
  H5Awrite(a, H5T_NATIVE_INT64, &version);
  H5Aclose(a), H5Fclose(f);
}


}  // namespace testsession
