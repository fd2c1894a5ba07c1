#pragma once
// The study file (data/STUDY_FORMAT.md): one HDF5 file with a study's parameters, documents,
// per-document arrays [documents, ...], the aggregates and the paired comparisons. h5py reads it.
#include <string>

#include "core/study.h"

namespace cascade::data {

inline constexpr int64_t kStudyFormatVersion = 2;

// Whether `path` is an HDF5 file with this format's marker (root attribute format = "cascade-lens-study").
bool is_study_file(const std::string& path);

// Writes the study and its aggregates atomically: a temporary file beside `path`, renamed into
// place, so a reader (or a kill) never sees half a file. InputError naming the path when it cannot be
// written.
void write_study(const std::string& path, const study::Study& study, const study::Aggregates& aggregates);

// Reads a study file back exactly (every value bit for bit). With `aggregates`, also the stored
// aggregates and paired rows. InputError naming the path and the problem for anything malformed
// (not a study file, a newer format version, shapes that disagree).
// `isolate`: first read it in a child process (data/formats/isolated.h); off only for a fuzz target.
study::Study read_study(const std::string& path, study::Aggregates* aggregates = nullptr, bool isolate = true);

}  // namespace cascade::data
