#include "data/formats/hdf5_activations.h"
#include "data/formats/atomic_write.h"

#include <cstdio>
#include <ATen/ATen.h>
#include <hdf5.h>

#include <filesystem>
#include <vector>

#include "core/errors.h"
#include "data/formats/activation_io.h"
#include "data/formats/hdf5_io.h"
#include "data/formats/hdf5_util.h"
#include "data/formats/isolated.h"
#include "data/formats/io_util.h"

namespace cascade::data {

namespace {

constexpr const char* kDataset = "hidden_states";

std::string type_class_name(H5T_class_t type_class) {
  switch (type_class) {
    case H5T_INTEGER: return "integer";
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound";
    case H5T_ENUM: return "enum";
    case H5T_ARRAY: return "array";
    default: return "non-float";
  }
}

// Opens /hidden_states, telling a missing name apart from one that is not a dataset.
hid_t open_hidden_states(hid_t file, const std::string& path) {
  if (H5Lexists(file, kDataset, H5P_DEFAULT) <= 0) throw InputError(path, "no dataset /hidden_states");
  const hid_t dataset = H5Dopen2(file, kDataset, H5P_DEFAULT);
  if (dataset < 0) throw InputError(path, "/hidden_states is not a dataset (a group, or a broken link?)");
  return dataset;
}

std::vector<int64_t> dataset_shape(hid_t dataset, const std::string& path) {
  const Handle space(H5Dget_space(dataset), H5Sclose);
  const int rank = space.ok() ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (rank < 0) throw InputError(path, "cannot read the shape of /hidden_states");
  if (rank != 3) throw InputError(path, "/hidden_states has rank " + std::to_string(rank) + ", expected [L, T, d]");
  hsize_t dims[3];
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  return {static_cast<int64_t>(dims[0]), static_cast<int64_t>(dims[1]), static_cast<int64_t>(dims[2])};
}

// The file's structure up to the data: open, /hidden_states, its type, shape and where its bytes
// are (within the file). With `read` false this is all (the isolated check); else the data are read.
at::Tensor read_contents(const std::string& path, bool read) {
  silence_hdf5_errors();
  if (H5Fis_hdf5(path.c_str()) <= 0) throw InputError(path, "not an HDF5 file");
  const Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.ok()) throw InputError(path, "cannot open the HDF5 file (damaged or truncated?)");
  const Handle dataset(open_hidden_states(file.get(), path), H5Dclose);

  const Handle type(H5Dget_type(dataset.get()), H5Tclose);
  const H5T_class_t type_class = type.ok() ? H5Tget_class(type.get()) : H5T_NO_CLASS;
  if (type_class != H5T_FLOAT)
    throw InputError(path, "/hidden_states holds " + type_class_name(type_class) +
                               " data, expected floating point (float16, float32 or float64)");
  if (const size_t width = H5Tget_size(type.get()); width != 2 && width != 4 && width != 8)
    throw InputError(path, "/hidden_states holds " + std::to_string(width) + "-byte floats (damaged?)");

  // A chunked dataset can declare a huge shape with almost no bytes on disk (chunks never written
  // read back as the fill value): before allocating, the bytes it declares are held against the
  // bytes it stores. Deflate cannot do better than ~1032:1, so more than 1100× is not activations.
  const std::vector<int64_t> shape = dataset_shape(dataset.get(), path);
  double declared = static_cast<double>(H5Tget_size(type.get()));
  for (int64_t n : shape) declared *= static_cast<double>(n);
  const double stored = static_cast<double>(H5Dget_storage_size(dataset.get()));
  if (declared > 0 && stored * 1100 < declared) {
    char what[160];
    std::snprintf(what, sizeof what, "%.3g MB but the file stores %.0f bytes of it", declared / 1e6, stored);
    throw InputError(path, "/hidden_states declares " + shape_text(shape) + ", " + what +
                               " (unwritten chunks are fill values, not activations)");
  }
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  h5io::Reader(path, file.get(), ec ? 0 : size).check_extents(dataset.get(), "/hidden_states");
  if (!read) return {};
  at::Tensor hidden = allocate_for(path, shape, at::kFloat);
  if (hidden.numel() == 0) return hidden;  // nothing to read; validate() reports L = 0 or T = 0
  // HDF5 converts any stored float width (h5py's float16 included) to native float on the way in.
  if (H5Dread(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, hidden.data_ptr()) < 0)
    throw InputError(path, "cannot read /hidden_states (damaged or truncated file?)");
  return hidden;
}

}  // namespace

at::Tensor read_hdf5_hidden_states(const std::string& path, bool isolate) {
  // libhdf5 may crash or loop on a damaged file's structure: that part is read in a child process
  // first (data/formats/isolated.h); the data themselves are then read here.
  if (isolate)
    check_in_child({path, "checking the HDF5 file", ""}, [&](const JobControl&) { (void)read_contents(path, false); }, {});
  return read_contents(path, true);
}

void write_hdf5_activations(const std::string& path, const at::Tensor& hidden) {
  if (hidden.dim() != 3)
    throw UsageError(path + ": /hidden_states must be [L, T, d], got " + shape_text(hidden.sizes()));
  const at::Tensor data = hidden.cpu().to(at::kFloat).contiguous();
  silence_hdf5_errors();
  write_atomically(path, [&](const std::string& tmp) {
    Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    if (!file.ok()) throw Error(path + ": cannot create HDF5 file");
    const hsize_t dims[3] = {static_cast<hsize_t>(data.size(0)), static_cast<hsize_t>(data.size(1)),
                             static_cast<hsize_t>(data.size(2))};
    Handle space(H5Screate_simple(3, dims, nullptr), H5Sclose);
    Handle dataset(H5Dcreate2(file.get(), kDataset, H5T_IEEE_F32LE, space.get(), H5P_DEFAULT, H5P_DEFAULT,
                                    H5P_DEFAULT),
                         H5Dclose);
    if (!space.ok() || !dataset.ok()) throw Error(path + ": cannot create dataset /hidden_states");
    if (data.numel() > 0 &&
        H5Dwrite(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data_ptr()) < 0)
      throw Error(path + ": cannot write dataset /hidden_states");
    dataset.close();
    space.close();
    if (!file.close()) throw Error(path + ": cannot write dataset /hidden_states (disk full?)");
  });
}

}  // namespace cascade::data
