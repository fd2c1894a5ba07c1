#pragma once
// Activations dumped from Python, read into an ActivationSet.
//
// Accepted inputs (dtype float32, float16 or bfloat16; float64 is converted to float32):
//   FILE.npy          one array [L, T, d] (C or Fortran order, npy format 1.0/2.0/3.0)
//   DIR/              a folder of per-layer .npy files, each [T, d] (or [1, T, d]), ordered by the
//                     number in the file name (layer_2.npy before layer_10.npy)
//   FILE.safetensors  tensors hidden_states.0 .. hidden_states.{L-1}, each [T, d] or [1, T, d]
//   FILE.h5 / .hdf5   dataset /hidden_states [L, T, d]
// Token strings: `tokens_path` if given, else tokens.json beside the file (inside DIR for a
// folder) when present — a JSON list of T strings.
//
// Every problem (missing file, wrong rank or dtype, truncated data, a header that lies about
// sizes, NaN/Inf, L = 0, T = 0, token count mismatch) throws cascade::InputError whose message
// names the file and the problem in one line. Nothing here crashes on malformed input.
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "core/activations.h"
#include "core/run_record.h"

namespace cascade::data {

ActivationSet load_activations(const std::string& path, const std::string& tokens_path = "");

// The one table of activation file formats (Netron's register('./onnx', ['.onnx', …])): the
// extensions load_activations reads by, the GUI's open filter and `synth`'s writers.
struct ActivationFormat {
  const char* name;                     // "npy", "safetensors", "hdf5"
  std::vector<std::string> extensions;  // lower case, with the dot
  at::Tensor (*read)(const std::string& path);                       // [L, T, d]
  void (*write)(const std::string& path, const at::Tensor& hidden);  // [L, T, d] as this format lays it out
  std::vector<DType> dtypes;            // what it stores; a format of one dtype converts to it
};
const std::vector<ActivationFormat>& activation_formats();
// The format whose extensions hold `path`'s (case-insensitive), or null.
const ActivationFormat* activation_format_of(const std::string& path);

// Writers, used by `cascadelens-cli synth`, the tests and later exports. Tensors must be on the CPU;
// float32 and float16 are written as such, bfloat16 only to safetensors.
void write_npy(const std::string& path, const at::Tensor& tensor);
void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors);
void write_hdf5_activations(const std::string& path, const at::Tensor& hidden);  // /hidden_states [L, T, d]
// hidden_states.{l} = hidden[l] for every layer (the layout load_activations reads).
void write_safetensors_layers(const std::string& path, const at::Tensor& hidden);
void write_tokens_json(const std::string& path, const std::vector<std::string>& tokens);

}  // namespace cascade::data
