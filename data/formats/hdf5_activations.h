#pragma once
// Activations in HDF5: one dataset /hidden_states [L, T, d] (what h5py's
// `f.create_dataset("hidden_states", data=...)` writes).
#include <ATen/core/Tensor.h>

#include <string>

namespace cascade::data {

// /hidden_states as a float32 CPU tensor [L, T, d]. Any float width is accepted (HDF5 converts
// float16 and float64 on read); integer data, another rank, a missing dataset or a file that is not
// HDF5 throw InputError naming `path`. `isolate`: the file's structure is first read in a child
// process, so that a file on which libhdf5 crashes or loops is an InputError (off only for the
// fuzz target, which wants the crash in its own process).
at::Tensor read_hdf5_hidden_states(const std::string& path, bool isolate = true);

// write_hdf5_activations is declared in data/formats/activation_io.h.

}  // namespace cascade::data
