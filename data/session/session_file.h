#pragma once
// Session files: a RunRecord (core/run_record.h) as HDF5, schema in data/SESSION_FORMAT.md.
//
// Writing is atomic: the file is written next to its destination under a temporary name and
// renamed over it only once complete, so a crash, a full disk or a cancel never leaves a
// half-written session (nor destroys the one it was replacing).
//
// Reading checks everything it uses: the format marker and version (a newer version is refused
// with a message saying so), every dataset's presence, type and shape against L, T and d, the
// token ids and partners' ranges, and that the stored sets and counts agree with each other.
// Every problem throws InputError naming the file and the dataset; nothing here crashes on a
// malformed file (tests/fuzz/fuzz_session_reader.cpp). Format version 3 has no variable-length
// strings (nothing in libhdf5's global heap); each file is still first read in a child process, as
// libhdf5 1.10 has crash paths of its own on damaged object headers (tests/fuzz/README.md).
#include <string>

#include "core/progress.h"
#include "core/run_record.h"

namespace cascade::data {

// The root attribute `format` of every session file.
inline constexpr const char* kSessionFormatName = "cascade-lens-session";

// True when `path` is an HDF5 file whose root carries format = "cascade-lens-session" (whatever
// its version). Never throws.
bool is_session_file(const std::string& path);

struct SessionReadOptions {
  // Load /activations/xhat when present and make the record's Analyzer from it and the stored γ/π
  // (false: header and analyses only; the record keeps the γ/π itself).
  bool activations = true;
  int64_t gram_cache_bytes = 0;  // the Analyzer's |Gram| cache budget (core/analyzer.h)
  // Read the whole file once in a child process first (data/formats/isolated.h), so that a file
  // on which libhdf5 crashes or loops is an InputError here, not the death of this process.
  // Off only where the caller is itself the isolation (the fuzz target).
  bool isolate = true;
};

// Progress ("reading activations") and cancel through `control`.
RunRecord read_session(const std::string& path, const SessionReadOptions& options = {}, const JobControl& control = {});

struct SessionWriteOptions {
  // Also store the fp16 X̂ of every layer (when the record has an Analyzer), so that τ and the rule
  // stay changeable when the session is reopened.
  bool with_activations = false;
};

// Writes the record with its own analysis. Cancelled (from control) and every error leave `path`
// untouched.
void write_session(const std::string& path, const RunRecord& record, const SessionWriteOptions& options = {},
                   const JobControl& control = {});

}  // namespace cascade::data
