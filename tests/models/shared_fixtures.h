#pragma once
// Access to ../shared (golden HF fixtures, the stories260K model). Tests skip with a clear message
// when the folder is absent and run whenever it is present.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "core/model.h"

namespace fixtures {

// The shared/ folder, or "" when absent ($CASCADE_SHARED overrides the configured path).
std::string shared_dir();
std::string fixture_dir(const std::string& name);  // shared/fixtures/NAME
std::string model_dir(const std::string& name);    // shared/models/NAME

// All tensors of golden.safetensors, float32 (input_ids as int64), batch dimension removed.
std::map<std::string, at::Tensor> read_golden(const std::string& dir);

std::unique_ptr<cascade::CausalLM> load_model(const std::string& dir, at::ScalarType dtype = at::kFloat);

// |got − ref| ≤ 2e-5 + 2e-4·|ref| element-wise (fixtures/README.md). Returns the worst ratio of
// the error to its allowance (≤ 1 passes) for the message.
::testing::AssertionResult within_golden_tolerance(const at::Tensor& got, const at::Tensor& ref);
double golden_error_ratio(const at::Tensor& got, const at::Tensor& ref);  // that worst ratio (shapes equal)

}  // namespace fixtures

#define SKIP_WITHOUT_SHARED()                                                                        \
  do {                                                                                               \
    if (fixtures::shared_dir().empty())                                                              \
      GTEST_SKIP() << "../shared not found (set CASCADE_SHARED): golden fixtures unavailable, skipped"; \
  } while (0)
