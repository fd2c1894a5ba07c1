#include "core/models/config_reader.h"

#include "core/errors.h"

namespace cascade {

void ConfigReader::fail(const std::string& problem) const { throw InputError(file_, problem); }

int64_t ConfigReader::size(const std::string& key) const {
  if (auto value = optional_size(key)) return *value;
  fail("required key '" + key + "' is missing");
}

}  // namespace cascade

namespace cascade::models {

// gelu_pytorch_tanh and gelu_fast compute the same tanh approximation as gelu_new; "gelu" is the
// exact erf GELU.
std::string activation(const ConfigReader& c, const std::string& key, const std::string& fallback) {
  const std::string name = c.text(key, fallback);
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast") return "gelu_new";
  if (name == "gelu" || name == "relu" || name == "silu") return name;
  if (name == "swish") return "silu";
  c.fail("unsupported " + key + " '" + name + "' (supported: gelu_new, gelu_pytorch_tanh, gelu_fast, gelu, relu, silu)");
}

int64_t head_dim_of(const ConfigReader& c, int64_t hidden, int64_t heads) {
  if (hidden % heads != 0)
    c.fail("hidden size " + std::to_string(hidden) + " is not divisible by " + std::to_string(heads) + " heads");
  return hidden / heads;
}

void check_rotary(const ConfigReader& c, const ModelConfig& m) {
  if (m.rotary_dim < 0 || m.rotary_dim > m.head_dim || m.rotary_dim % 2 != 0)
    c.fail("rotary dimension " + std::to_string(m.rotary_dim) + " must be even and at most head_dim " +
           std::to_string(m.head_dim));
  if (!(m.rope_theta > 0)) c.fail("rope base " + std::to_string(m.rope_theta) + " must be positive");
}

// Scaled RoPE variants (linear, dynamic, yarn, llama3, ...) change the frequencies; we only run plain
// RoPE, so refuse them rather than compute something else. Any rope_type but the string "default"
// is refused, null included, rather than guessed at.
void refuse_rope_scaling(const ConfigReader& c, const ConfigReader* rope_parameters) {
  if (c.present("rope_scaling"))
    c.fail("rope_scaling " + c.shown("rope_scaling") + " is set: scaled RoPE is not supported");
  if (!rope_parameters) return;
  for (const char* key : {"rope_type", "type"}) {
    if (!rope_parameters->written(key)) continue;
    const bool plain = rope_parameters->kind(key) == ConfigReader::Kind::text &&
                       rope_parameters->text(key, "") == "default";
    if (!plain)
      c.fail("rope_parameters has " + std::string(key) + " " + rope_parameters->shown(key) +
             ": scaled RoPE is not supported");
  }
}

RopeScaling rope_scaling_of(const ConfigReader& c, const ConfigReader* rope, const std::string& where) {
  RopeScaling s;
  if (!rope) return s;
  const char* key = rope->present("rope_type") ? "rope_type" : rope->present("type") ? "type" : nullptr;
  if (!key) {
    if (where == "rope_scaling") c.fail("rope_scaling " + c.shown("rope_scaling") + " names no rope_type");
    return s;  // v5 rope_parameters without a type: plain RoPE
  }
  if (rope->kind(key) != ConfigReader::Kind::text)
    c.fail(where + "." + key + " must be a string, not " + rope->shown(key));
  const std::string type = rope->text(key, "");
  if (type == "default") return s;
  if (type != "linear" && type != "llama3")
    c.fail(where + " has " + key + " " + rope->shown(key) +
           ": this scaled RoPE is not supported (supported: default, linear, llama3)");
  auto required = [&](const std::string& name) {
    if (rope->kind(name) != ConfigReader::Kind::number)
      c.fail(where + " of type " + type + " needs a number '" + name + "'");
    return rope->number(name, 0);
  };
  s.type = type;
  s.factor = required("factor");
  if (!(s.factor > 0)) c.fail(where + ".factor must be positive");
  if (type == "llama3") {
    s.low_freq_factor = required("low_freq_factor");
    s.high_freq_factor = required("high_freq_factor");
    s.original_max_positions = static_cast<int64_t>(required("original_max_position_embeddings"));
    if (!(s.high_freq_factor > s.low_freq_factor) || s.low_freq_factor <= 0 || s.original_max_positions <= 0)
      c.fail(where + ": llama3 needs 0 < low_freq_factor < high_freq_factor and original_max_position_embeddings > 0");
  }
  return s;
}

double rope_number(const ConfigReader& c, const ConfigReader* rope_parameters, const std::string& v5_key,
                   const std::vector<std::string>& v4_keys, double fallback) {
  if (rope_parameters && rope_parameters->present(v5_key)) {
    if (rope_parameters->kind(v5_key) != ConfigReader::Kind::number)
      c.fail("rope_parameters." + v5_key + " must be a number, not " + rope_parameters->shown(v5_key));
    return rope_parameters->number(v5_key, fallback);
  }
  for (const auto& key : v4_keys)
    if (c.present(key)) return c.number(key, fallback);
  return fallback;
}

}  // namespace cascade::models
