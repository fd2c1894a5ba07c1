#pragma once
// The one atomic writer every output goes through (sessions, studies, activation dumps, tables,
// JSON, the token file aside): the new contents are written to a hidden temporary beside the
// target, `.NAME.partial-PID.N` (the same file system, so the rename is atomic), flushed to disk,
// then renamed over the target. A reader never sees half a file, and a failure, a full disk, a
// cancel or an interrupt leaves the old file as it was.
//   - Any failure or exception removes the temporary.
//   - A signal that would end the process (SIGTERM, SIGHUP, SIGQUIT, or SIGINT where nothing else
//     handles it) removes every temporary in flight before the process dies of it.
//   - SIGKILL cannot be caught: the next write into the same folder removes the temporaries of
//     processes that no longer exist.
// No HDF5 and no Torch in this header.
#include <functional>
#include <string>

namespace cascade::data {

// `write(tmp)` fills the temporary; then it is fsync'd and renamed over `path`. `fail(problem)`
// throws the caller's error for a failed flush or rename (default: Error "cannot write PATH
// (problem)"). What `write` throws is passed on after the temporary is removed.
void write_atomically(const std::string& path, const std::function<void(const std::string& tmp)>& write,
                      const std::function<void(const std::string& problem)>& fail = {});

// Removes `.NAME.partial-PID[.N]` files in `dir` whose process no longer runs; returns how many.
int remove_stale_partials(const std::string& dir);

// True for a name write_atomically gives its temporaries.
bool is_partial_name(const std::string& file_name);

}  // namespace cascade::data
