#pragma once
// Typed access to an HF config.json object, as each architecture file reads its own keys. data/
// implements it over the parsed JSON (data/hf/hf_config.cpp); core/ sees only this interface, so it
// stays free of any JSON library. Absent keys get the defaults of the transformers class for the
// model_type (not the base PretrainedConfig's), because that is what HF itself would run; the
// structural sizes are required, since a guessed width only fails later with a shape error.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/model_config.h"

namespace cascade {

// Every problem is an InputError naming the file and the key. A key set to null counts as
// absent, as it does for HF.
class ConfigReader {
 public:
  enum class Kind { absent, null, boolean, number, text, list, object };

  virtual ~ConfigReader() = default;

  [[noreturn]] void fail(const std::string& problem) const;  // InputError(file, problem)
  // kind and shown let a check word its own message ("rope_parameters has rope_type null: ...").
  virtual Kind kind(const std::string& key) const = 0;
  virtual std::string shown(const std::string& key) const = 0;  // the value as written, for messages

  bool written(const std::string& key) const { return kind(key) != Kind::absent; }  // even as null
  bool present(const std::string& key) const { return kind(key) != Kind::absent && kind(key) != Kind::null; }

  // A positive integer (also when written as 64.0).
  virtual std::optional<int64_t> optional_size(const std::string& key) const = 0;
  int64_t size(const std::string& key) const;  // required
  virtual double number(const std::string& key, double fallback) const = 0;
  virtual bool flag(const std::string& key, bool fallback) const = 0;
  virtual std::string text(const std::string& key, const std::string& fallback) const = 0;
  // bos/eos/pad: an integer, or a list of them (generation may stop on several eos ids: the first).
  virtual std::optional<int64_t> token_id(const std::string& key) const = 0;
  // A list of strings (layer_types); nullopt when absent.
  virtual std::optional<std::vector<std::string>> text_list(const std::string& key) const = 0;
  // A nested object (rope_parameters): nullptr when absent; its problems name the same file.
  virtual std::unique_ptr<ConfigReader> object(const std::string& key) const = 0;

 protected:
  explicit ConfigReader(std::string file) : file_(std::move(file)) {}
  const std::string& file() const { return file_; }

 private:
  std::string file_;  // for messages
};

namespace models {

// Checks more than one architecture shares; each fails through the reader with its message.

// HF activation names → the four ModelConfig spells (gelu_new, gelu, relu, silu).
std::string activation(const ConfigReader& c, const std::string& key, const std::string& fallback);
int64_t head_dim_of(const ConfigReader& c, int64_t hidden, int64_t heads);
void check_rotary(const ConfigReader& c, const ModelConfig& m);
// Refuses scaled RoPE, written as rope_scaling (transformers v4) or rope_parameters.rope_type (v5).
void refuse_rope_scaling(const ConfigReader& c, const ConfigReader* rope_parameters);
// The scaled RoPE that `rope` describes: a v4 rope_scaling object or a v5 rope_parameters one (its
// type as rope_type or, before Llama 3.1, type). Types other than default, linear and llama3 are
// refused in one line naming them; `where` names the object in messages.
RopeScaling rope_scaling_of(const ConfigReader& c, const ConfigReader* rope, const std::string& where);
// A number from rope_parameters (transformers v5), else from the first top-level key present.
double rope_number(const ConfigReader& c, const ConfigReader* rope_parameters, const std::string& v5_key,
                   const std::vector<std::string>& v4_keys, double fallback);

}  // namespace models

}  // namespace cascade
