#pragma once
// Session files: a Session (core/session.h) as HDF5, schema in data/SESSION_FORMAT.md.
//
// Writing is atomic: the file is written next to its destination under a temporary name and
// renamed over it only once complete, so a crash, a full disk or a cancel never leaves a
// half-written session (nor destroys the one it was replacing).
//
// Reading checks everything it uses: the format marker and version (a newer version is refused
// with a message saying so), every dataset's presence, type and shape against L, T and d, the
// token ids and partners' ranges, and that the stored sets and counts agree with each other.
// Every problem throws InputError naming the file and the dataset; nothing here crashes on a
// malformed file (tests/fuzz/fuzz_session_reader.cpp).
#include <string>

#include "core/progress.h"
#include "core/session.h"

namespace cascade::data {

// The root attribute `format` of every session file.
inline constexpr const char* kSessionFormatName = "cascade-lens-session";

// True when `path` is an HDF5 file whose root carries format = "cascade-lens-session" (whatever
// its version). Never throws.
bool is_session_file(const std::string& path);

struct SessionReadOptions {
  bool activations = true;  // load /activations/xhat when present (false: header and analyses only)
};

// Progress ("reading activations") and cancel through `control`.
Session read_session(const std::string& path, const SessionReadOptions& options = {}, const JobControl& control = {});

// Cancelled (from control) and every error leave `path` untouched.
void write_session(const std::string& path, const Session& session, const JobControl& control = {});

}  // namespace cascade::data
