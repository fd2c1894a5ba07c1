#pragma once
// The GPU kernels against brute force, through nothing but gpu::Backend (no Torch, no GoogleTest):
// shared by the GoogleTest suite (host emulation in CI, the device when one is present) and by
// cascade_gpu_check, the self-check a GPU machine runs from the standalone gpu/ build.
#include <cstdint>
#include <string>
#include <vector>

#include "gpu/kernels.h"

namespace cascade::gpu_checks {

enum class Data { Clustered, Identical, ZeroRows, Random };

struct Case {
  int64_t T = 0, d = 0;
  gpu::DType dtype = gpu::DType::F32;
  Data data = Data::Clustered;
  bool fused_norm = false;  // raw rows + the backend's inverse norms, instead of pre-normalised rows
  int splits = 0;           // 0: the launcher's choice
  std::string name() const;
};

struct Result {
  int checked = 0;       // values compared
  double max_error = 0;  // largest |kernel − reference| of a max |cos|
  std::vector<std::string> failures;
  bool ok() const { return failures.empty(); }
  void merge(const Result& other);
};

// Prior-max scan (and, for fused_norm, the inverse norms) of one case.
Result check_prior_max(const gpu::Backend& backend, const Case& c, uint64_t seed);
// Cascade validate of one case, for inherited sets: empty, every token, one token, a random 30%.
Result check_cascade_validate(const gpu::Backend& backend, const Case& c, double theta, uint64_t seed);

// Both of the above on one case (the seed for the scan, seed + 1 for the cascade).
Result check_case(const gpu::Backend& backend, const Case& c, double theta, uint64_t seed);

// The cases a full check runs: T ∈ {1, 2, 63, 64, 65, 200, 333}, d ∈ {1, 7, 64, 100}, all dtypes,
// both normalisations, forced and automatic splits (fewer when quick).
std::vector<Case> standard_cases(bool quick);

}  // namespace cascade::gpu_checks
