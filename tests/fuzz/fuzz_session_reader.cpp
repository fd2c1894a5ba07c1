// libFuzzer target for the session reader (data/session/session_file.h): every byte string, written to a
// file, must either read as a session or throw cascade::InputError — never crash, never throw
// anything else, never leave an HDF5 object open. Built with clang (-fsanitize=fuzzer,address)
// when CASCADE_BUILD_FUZZ is ON, and with replay_main.cpp into fuzz_session_replay for CTest.
// See tests/fuzz/README.md.
#include <hdf5.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/errors.h"
#include "data/session/session_file.h"

namespace {

// One file per process, rewritten for every input.
const std::string& input_path() {
  static const std::string path = "/tmp/fuzz_session_reader." + std::to_string(::getpid()) + ".h5";
  return path;
}

void write_input(const std::string& path, const uint8_t* data, size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    std::perror(path.c_str());
    std::abort();
  }
  if ((size > 0 && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
}

struct RemoveAtExit {
  ~RemoveAtExit() { std::remove(input_path().c_str()); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const RemoveAtExit cleanup;
  const std::string& path = input_path();
  write_input(path, data, size);

  // FUZZ_SESSION_VERBOSE=1 prints what became of each input (for triage by hand).
  static const bool verbose = std::getenv("FUZZ_SESSION_VERBOSE") != nullptr;
  const bool is_session = cascade::data::is_session_file(path);  // never throws
  try {
    cascade::data::SessionReadOptions options;
    options.activations = true;
    options.isolate = false;  // the fuzzer wants the crash in this process, where it can see it
    const cascade::RunRecord session = cascade::data::read_session(path, options);
    if (verbose) std::fprintf(stderr, "reads: L = %lld, T = %lld\n", static_cast<long long>(session.num_layers()), static_cast<long long>(session.num_tokens()));
  } catch (const cascade::InputError& e) {
    // expected for a malformed file; anything else escapes and aborts the fuzzer
    if (verbose) std::fprintf(stderr, "InputError%s: %s\n", is_session ? " (is_session_file: true)" : "", e.what());
  }

  // A leaked file, group, dataset or attribute identifier keeps the file open inside HDF5, and the
  // next H5Fopen of the same path would then see the old file: a leak is a bug of its own.
  // (Transient datatypes and dataspaces are left out: the reader caches a float16 type for good.)
  constexpr unsigned kKeepsFileOpen = H5F_OBJ_FILE | H5F_OBJ_GROUP | H5F_OBJ_DATASET | H5F_OBJ_ATTR;
  if (const ssize_t open = H5Fget_obj_count(H5F_OBJ_ALL, kKeepsFileOpen); open > 0) {
    std::fprintf(stderr, "fuzz_session_reader: %zd HDF5 identifiers left open after the input:\n", open);
    std::vector<hid_t> ids(static_cast<size_t>(open));
    H5Fget_obj_ids(H5F_OBJ_ALL, kKeepsFileOpen, ids.size(), ids.data());
    for (const hid_t id : ids) {
      char name[256] = "";
      H5Iget_name(id, name, sizeof name);
      std::fprintf(stderr, "  identifier type %d, name '%s'\n", static_cast<int>(H5Iget_type(id)), name);
    }
    std::abort();
  }
  return 0;
}
