#include "shared_fixtures.h"

#include "common/shared_dir.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "data/hf/hf_model.h"
#include "data/formats/safetensors.h"

namespace fs = std::filesystem;

namespace fixtures {

std::string shared_dir() { return testshared::shared_dir(); }

std::string fixture_dir(const std::string& name) { return (fs::path(shared_dir()) / "fixtures" / name).string(); }
std::string model_dir(const std::string& name) { return (fs::path(shared_dir()) / "models" / name).string(); }

std::map<std::string, at::Tensor> read_golden(const std::string& dir) {
  const cascade::data::SafetensorsFile file((fs::path(dir) / "golden.safetensors").string());
  std::map<std::string, at::Tensor> out;
  for (const auto& entry : file.entries()) {
    if (entry.dtype == "I64") continue;  // read() is for floats; input_ids come from the raw bytes below
    out[entry.name] = file.read(entry).squeeze(0);
  }
  // input_ids [1, T] int64 little-endian: read straight from the data region (8 + header bytes on).
  if (const auto* ids = file.find("input_ids")) {
    std::ifstream in((fs::path(dir) / "golden.safetensors").string(), std::ios::binary);
    uint64_t header = 0;
    in.read(reinterpret_cast<char*>(&header), 8);
    std::vector<int64_t> values((ids->end - ids->begin) / 8);
    in.seekg(static_cast<std::streamoff>(8 + header + ids->begin));
    in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(values.size() * 8));
    out["input_ids"] = at::tensor(values, at::kLong);
  }
  return out;
}

std::unique_ptr<cascade::CausalLM> load_model(const std::string& dir, at::ScalarType dtype) {
  const cascade::ModelConfig config = cascade::data::read_hf_config(dir);
  const cascade::data::CheckpointWeights weights(dir);
  return cascade::make_model(config, weights, at::kCPU, dtype);
}

double golden_error_ratio(const at::Tensor& got, const at::Tensor& ref) {
  const at::Tensor g = got.to(at::kDouble), r = ref.to(at::kDouble);
  return ((g - r).abs() / (2e-5 + 2e-4 * r.abs())).max().item<double>();
}

::testing::AssertionResult within_golden_tolerance(const at::Tensor& got, const at::Tensor& ref) {
  if (got.sizes() != ref.sizes())
    return ::testing::AssertionFailure() << "shape " << got.sizes() << " vs golden " << ref.sizes();
  const double worst = golden_error_ratio(got, ref);
  const at::Tensor g = got.to(at::kDouble), r = ref.to(at::kDouble);
  if (worst <= 1.0) return ::testing::AssertionSuccess() << "worst " << worst << " of the allowance";
  return ::testing::AssertionFailure() << "error reaches " << worst << "x the allowance (max |diff| "
                                       << (g - r).abs().max().item<double>() << ")";
}

}  // namespace fixtures
