#include "data/formats/mapped_file.h"

#include <ATen/ATen.h>

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errors.h"
#include "data/formats/io_util.h"

namespace cascade::data {

namespace {

// Closes the descriptor on every path out of open(); the mapping stays valid without it.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::shared_ptr<const MappedFile> MappedFile::open(const std::string& path) {
  FdCloser file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) throw InputError(path, std::string("cannot open for reading: ") + std::strerror(errno));
  struct stat info {};
  if (::fstat(file.fd, &info) != 0) throw InputError(path, std::string("cannot stat: ") + std::strerror(errno));
  if (!S_ISREG(info.st_mode)) throw InputError(path, "is not a regular file");
  const auto size = static_cast<uint64_t>(info.st_size);
  if (size == 0) return std::shared_ptr<const MappedFile>(new MappedFile(path, nullptr, 0));
  // Writable but private: a caller that modifies a weight in place gets its own copy of the page
  // instead of a segfault, and the file on disk never changes. NORESERVE: nothing is committed
  // until such a write happens.
  void* data = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, file.fd, 0);
  if (data == MAP_FAILED) throw InputError(path, std::string("cannot memory-map: ") + std::strerror(errno));
  return std::shared_ptr<const MappedFile>(new MappedFile(path, static_cast<unsigned char*>(data), size));
}

MappedFile::MappedFile(std::string path, unsigned char* data, uint64_t size)
    : path_(std::move(path)), data_(data), size_(size) {}

MappedFile::~MappedFile() {
  if (data_) ::munmap(data_, size_);
}

at::Tensor tensor_in_mapping(const std::shared_ptr<const MappedFile>& file, uint64_t offset, uint64_t nbytes,
                             c10::IntArrayRef shape, at::ScalarType type) {
  if (offset > file->size() || nbytes > file->size() - offset)
    throw InputError(file->path(), "data bytes [" + std::to_string(offset) + ", " + std::to_string(offset + nbytes) +
                                       ") lie outside the file (" + std::to_string(file->size()) + " bytes)");
  if (static_cast<uint64_t>(c10::multiply_integers(shape)) * c10::elementSize(type) != nbytes)
    throw Error(file->path() + ": internal error: " + std::to_string(nbytes) + " bytes for shape " + shape_text(shape));
  const auto options = at::TensorOptions().dtype(type);
  if (nbytes == 0) return at::empty(shape, options);
  auto* start = const_cast<unsigned char*>(file->data()) + offset;  // private mapping: writes stay ours
  if (reinterpret_cast<uintptr_t>(start) % c10::elementSize(type) == 0) {
    // The deleter owns a reference to the mapping: the tensor (and every view of it) keeps it mapped.
    return at::from_blob(start, shape, [keep = file](void*) {}, options);
  }
  at::Tensor copy = allocate_for(file->path(), shape, type);
  std::memcpy(copy.data_ptr(), start, nbytes);
  return copy;
}

}  // namespace cascade::data
