#pragma once
// Typed errors thrown by core/ and data/. The CLI and the GUI catch them at one boundary and
// turn them into a one-line message and an exit code (2 usage, 3 bad input, 130 cancelled).
#include <stdexcept>
#include <string>

namespace cascade {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Bad input data: malformed files, wrong shapes, NaN/Inf. The message names the file and the problem.
struct InputError : Error {
  InputError(const std::string& where, const std::string& problem) : Error(where + ": " + problem) {}
};

// Bad command-line or API arguments (tau out of range, unknown rule, ...).
struct UsageError : Error {
  using Error::Error;
};

// The user asked to stop; thrown between layers or tiles, never mid-write.
struct Cancelled : Error {
  Cancelled() : Error("cancelled") {}
};

}  // namespace cascade
