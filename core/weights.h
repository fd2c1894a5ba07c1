#pragma once
// Where an architecture gets its tensors from. data/ implements it over safetensors (single or
// sharded, memory-mapped) and pytorch_model.bin; tests implement it over in-memory maps.
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace cascade {

class WeightSource {
 public:
  virtual ~WeightSource() = default;
  virtual bool has(const std::string& name) const = 0;
  // A CPU tensor with the stored dtype (float32/float16/bfloat16/...) and shape. Throws
  // InputError naming the tensor (and the file) when it is missing or unreadable.
  virtual at::Tensor get(const std::string& name) const = 0;
  // The architecture states the shape it expects; a file-backed source ignores it (the loader
  // checks), a synthetic source (RandomWeights) uses it.
  virtual at::Tensor get(const std::string& name, at::IntArrayRef expected_shape) const { return get(name); }
  virtual std::vector<std::string> names() const = 0;
  virtual std::string describe() const = 0;  // e.g. the folder, for messages
};

// Seeded random weights of whatever shape the architecture asks for (GPT-2's init: matrices
// N(0, 0.02), norm weights 1, biases 0): for benchmarks and synthetic demos, never for science.
class RandomWeights final : public WeightSource {
 public:
  explicit RandomWeights(uint64_t seed = 0) : seed_(seed) {}
  bool has(const std::string&) const override { return true; }
  at::Tensor get(const std::string& name) const override;
  at::Tensor get(const std::string& name, at::IntArrayRef expected_shape) const override;
  std::vector<std::string> names() const override { return {}; }
  std::string describe() const override { return "random weights (seed " + std::to_string(seed_) + ")"; }

 private:
  uint64_t seed_;
};

}  // namespace cascade
