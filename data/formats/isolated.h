#pragma once
// Reading an untrusted file where a library we do not control may crash or loop on it (libhdf5
// 1.10 does both on damaged files: tests/fuzz/README.md). The check runs in a forked child process;
// the caller's process only reads the file once the child has read all of it without dying.
//
// The child does no more than the check (no threads, no LibTorch parallel code: after fork() only
// the calling thread exists), reports progress through a pipe and ends with _exit, so nothing of
// the parent's state (open HDF5 files, atexit handlers) is touched.
#include <functional>
#include <string>

#include "core/progress.h"

namespace cascade::data {

struct IsolatedCheck {
  std::string path;   // the file, for messages
  std::string stage;  // the progress stage shown while the child works ("checking the session")
  // Added to the message when the child died or hung ("; a session of format version 2 …").
  std::string hint;
};

// Runs `check` in a child process and returns when it returned there. Throws:
// - InputError with the child's message when `check` threw InputError there;
// - InputError "damaged: … crashed … (signal N)" when the child died by a signal;
// - InputError "damaged: … no progress for S s" when the child reported nothing for the silence
//   limit (CASCADELENS_READ_CHECK_TIMEOUT seconds, default 30); the child is killed;
// - Error for anything else the child threw, or when something else ended the child (TERM, HUP,
//   KILL: "interrupted"); Cancelled when `control` was cancelled (child killed).
// In the child every signal handler is reset (crashes kill it with their signal, even under ASan;
// the parent's clean-up handlers never run there) and SIGINT is ignored: the parent decides.
// `check` gets a JobControl whose reports reach `control` (as `stage`, with the child's done/total).
// Where fork() fails, `check` runs in this process (the file is then read as without isolation).
void check_in_child(const IsolatedCheck& what, const std::function<void(const JobControl&)>& check,
                    const JobControl& control);

// In the child of check_in_child: `hint` replaces what.hint in the message if the child then dies
// or hangs (what the check learnt of the file so far, such as its format version). Elsewhere: nothing.
void tell_parent(const std::string& hint);

}  // namespace cascade::data
