// config.json → ModelConfig. Absent keys get the defaults of the transformers class for that
// model_type (not the base PretrainedConfig's), because that is what HF itself would run; the
// structural sizes are required, since a guessed width only fails later with a shape error.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/errors.h"
#include "data/hf_model.h"

namespace cascade::data {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// Typed access to config.json; every problem is an InputError naming the file and the key.
// A key set to null counts as absent, as it does for HF.
class ConfigReader {
 public:
  ConfigReader(std::string path, const Json& json) : path_(std::move(path)), json_(json) {}

  [[noreturn]] void fail(const std::string& problem) const { throw InputError(path_, problem); }

  bool written(const std::string& key) const { return json_.contains(key); }  // even as null

  const Json* find(const std::string& key) const {
    auto it = json_.find(key);
    return it == json_.end() || it->is_null() ? nullptr : &*it;
  }

  std::optional<int64_t> optional_size(const std::string& key) const {
    const Json* value = find(key);
    if (!value) return std::nullopt;
    const auto number = integer(*value);
    if (!number || *number <= 0) wrong_type(key, "a positive integer", *value);
    return number;
  }
  int64_t size(const std::string& key) const {
    if (auto value = optional_size(key)) return *value;
    fail("required key '" + key + "' is missing");
  }
  double number(const std::string& key, double fallback) const {
    const Json* value = find(key);
    if (!value) return fallback;
    if (!value->is_number()) wrong_type(key, "a number", *value);
    return value->get<double>();
  }
  bool flag(const std::string& key, bool fallback) const {
    const Json* value = find(key);
    if (!value) return fallback;
    if (!value->is_boolean()) wrong_type(key, "true or false", *value);
    return value->get<bool>();
  }
  std::string text(const std::string& key, const std::string& fallback) const {
    const Json* value = find(key);
    if (!value) return fallback;
    if (!value->is_string()) wrong_type(key, "a string", *value);
    return value->get<std::string>();
  }
  // bos/eos/pad: an integer, or a list of them (generation may stop on several eos ids: take the first).
  std::optional<int64_t> token_id(const std::string& key) const {
    const Json* value = find(key);
    if (value && value->is_array()) value = value->empty() ? nullptr : &value->front();
    if (!value) return std::nullopt;
    const auto number = integer(*value);
    if (!number) wrong_type(key, "an integer or a list of integers", *value);
    return number;
  }
  const Json* object(const std::string& key) const {
    const Json* value = find(key);
    if (value && !value->is_object()) wrong_type(key, "an object", *value);
    return value;
  }

 private:
  // Integers, also when written as 64.0.
  static std::optional<int64_t> integer(const Json& value) {
    if (value.is_number_integer()) return value.get<int64_t>();
    if (value.is_number_float() && std::trunc(value.get<double>()) == value.get<double>() &&
        std::abs(value.get<double>()) < 9e15)
      return static_cast<int64_t>(value.get<double>());
    return std::nullopt;
  }
  [[noreturn]] void wrong_type(const std::string& key, const std::string& want, const Json& got) const {
    std::string shown = got.dump();
    if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
    fail("key '" + key + "' must be " + want + ", not " + shown);
  }

  std::string path_;
  const Json& json_;
};

// HF activation names → the four ModelConfig spells. gelu_pytorch_tanh and gelu_fast compute the
// same tanh approximation as gelu_new; "gelu" is the exact erf GELU.
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
// RoPE, so refuse them rather than compute something else. transformers v5 writes them as
// rope_parameters.rope_type, v4 as rope_scaling.
void refuse_rope_scaling(const ConfigReader& c, const Json* rope_parameters) {
  if (const Json* scaling = c.find("rope_scaling"))
    c.fail("rope_scaling " + scaling->dump() + " is set: scaled RoPE is not supported");
  if (!rope_parameters) return;
  for (const char* key : {"rope_type", "type"}) {
    auto type = rope_parameters->find(key);
    if (type != rope_parameters->end() && *type != "default")
      c.fail("rope_parameters has " + std::string(key) + " " + type->dump() + ": scaled RoPE is not supported");
  }
}

// A number from rope_parameters (transformers v5), else from the first top-level key present.
double rope_number(const ConfigReader& c, const Json* rope_parameters, const std::string& v5_key,
                   const std::vector<std::string>& v4_keys, double fallback) {
  if (rope_parameters) {
    auto value = rope_parameters->find(v5_key);
    if (value != rope_parameters->end() && !value->is_null()) {
      if (!value->is_number()) c.fail("rope_parameters." + v5_key + " must be a number, not " + value->dump());
      return value->get<double>();
    }
  }
  for (const auto& key : v4_keys)
    if (c.find(key)) return c.number(key, fallback);
  return fallback;
}

ModelConfig gpt2(const ConfigReader& c) {
  ModelConfig m;
  m.hidden_size = c.size("n_embd");
  m.num_layers = c.size("n_layer");
  m.num_heads = m.num_kv_heads = c.size("n_head");
  m.head_dim = head_dim_of(c, m.hidden_size, m.num_heads);
  m.intermediate_size = c.optional_size("n_inner").value_or(4 * m.hidden_size);
  m.max_positions = c.optional_size("n_positions").value_or(1024);
  m.norm_eps = c.number("layer_norm_epsilon", 1e-5);
  m.activation = activation(c, "activation_function", "gelu_new");
  m.scale_attn_by_inverse_layer_idx = c.flag("scale_attn_by_inverse_layer_idx", false);
  if (!c.flag("scale_attn_weights", true)) c.fail("scale_attn_weights false (unscaled attention) is not supported");
  m.tie_word_embeddings = c.flag("tie_word_embeddings", true);
  return m;
}

ModelConfig opt(const ConfigReader& c) {
  ModelConfig m;
  m.hidden_size = c.size("hidden_size");
  m.num_layers = c.size("num_hidden_layers");
  m.num_heads = m.num_kv_heads = c.size("num_attention_heads");
  m.head_dim = head_dim_of(c, m.hidden_size, m.num_heads);
  m.intermediate_size = c.size("ffn_dim");
  m.max_positions = c.optional_size("max_position_embeddings").value_or(2048);
  m.do_layer_norm_before = c.flag("do_layer_norm_before", true);
  const int64_t projection = c.optional_size("word_embed_proj_dim").value_or(m.hidden_size);
  if (!m.do_layer_norm_before || projection != m.hidden_size)
    c.fail("post-LN OPT (opt-350m) is not supported (do_layer_norm_before " +
           std::string(m.do_layer_norm_before ? "true" : "false") + ", word_embed_proj_dim " +
           std::to_string(projection) + ", hidden_size " + std::to_string(m.hidden_size) + ")");
  if (c.flag("_remove_final_layer_norm", false)) c.fail("OPT without its final layer norm is not supported");
  if (!c.flag("enable_bias", true)) c.fail("OPT with enable_bias false is not supported");
  if (!c.flag("layer_norm_elementwise_affine", true))
    c.fail("OPT with layer_norm_elementwise_affine false is not supported");
  m.norm_eps = 1e-5;  // OPT's LayerNorms ignore any eps in the config
  m.activation = activation(c, "activation_function", "relu");
  m.tie_word_embeddings = c.flag("tie_word_embeddings", true);
  return m;
}

ModelConfig gptj(const ConfigReader& c) {
  ModelConfig m;
  m.hidden_size = c.size("n_embd");
  m.num_layers = c.size("n_layer");
  m.num_heads = m.num_kv_heads = c.size("n_head");
  m.head_dim = head_dim_of(c, m.hidden_size, m.num_heads);
  m.intermediate_size = c.optional_size("n_inner").value_or(4 * m.hidden_size);
  m.max_positions = c.optional_size("n_positions").value_or(2048);
  m.norm_eps = c.number("layer_norm_epsilon", 1e-5);
  m.activation = activation(c, "activation_function", "gelu_new");
  // Absent: GPTJConfig's default 64; null: rotate the whole head.
  m.rotary_dim = c.optional_size("rotary_dim").value_or(c.written("rotary_dim") ? m.head_dim : 64);
  m.rope_theta = 10000.0;  // fixed in GPT-J
  m.rotary_interleaved = true;
  m.parallel_residual = true;
  m.tie_word_embeddings = c.flag("tie_word_embeddings", false);
  check_rotary(c, m);
  return m;
}

ModelConfig gpt_neox(const ConfigReader& c) {
  ModelConfig m;
  m.hidden_size = c.size("hidden_size");
  m.num_layers = c.size("num_hidden_layers");
  m.num_heads = m.num_kv_heads = c.size("num_attention_heads");
  m.head_dim = head_dim_of(c, m.hidden_size, m.num_heads);
  m.intermediate_size = c.size("intermediate_size");
  m.max_positions = c.optional_size("max_position_embeddings").value_or(2048);
  m.norm_eps = c.number("layer_norm_eps", 1e-5);
  m.activation = activation(c, "hidden_act", "gelu");
  const Json* rope = c.object("rope_parameters");
  refuse_rope_scaling(c, rope);
  const double fraction = rope_number(c, rope, "partial_rotary_factor", {"rotary_pct", "partial_rotary_factor"}, 0.25);
  m.rotary_dim = static_cast<int64_t>(static_cast<double>(m.head_dim) * fraction);  // Python's int(): truncation
  m.rope_theta = rope_number(c, rope, "rope_theta", {"rotary_emb_base", "rope_theta"}, 10000.0);
  m.parallel_residual = c.flag("use_parallel_residual", true);
  m.attention_bias = c.flag("attention_bias", true);
  m.tie_word_embeddings = c.flag("tie_word_embeddings", false);
  check_rotary(c, m);
  return m;
}

ModelConfig llama(const ConfigReader& c) {
  ModelConfig m;
  m.hidden_size = c.size("hidden_size");
  m.num_layers = c.size("num_hidden_layers");
  m.num_heads = c.size("num_attention_heads");
  m.num_kv_heads = c.optional_size("num_key_value_heads").value_or(m.num_heads);
  if (m.num_heads % m.num_kv_heads != 0)
    c.fail(std::to_string(m.num_heads) + " attention heads cannot share " + std::to_string(m.num_kv_heads) +
           " key/value heads evenly");
  const auto explicit_head_dim = c.optional_size("head_dim");
  m.head_dim = explicit_head_dim ? *explicit_head_dim : head_dim_of(c, m.hidden_size, m.num_heads);
  m.intermediate_size = c.size("intermediate_size");
  m.max_positions = c.optional_size("max_position_embeddings").value_or(2048);
  m.norm_eps = c.number("rms_norm_eps", 1e-6);
  m.activation = activation(c, "hidden_act", "silu");
  const Json* rope = c.object("rope_parameters");
  refuse_rope_scaling(c, rope);
  m.rope_theta = rope_number(c, rope, "rope_theta", {"rope_theta"}, 10000.0);
  m.rotary_dim = m.head_dim;
  m.attention_bias = c.flag("attention_bias", false);
  m.mlp_bias = c.flag("mlp_bias", false);
  m.tie_word_embeddings = c.flag("tie_word_embeddings", false);
  check_rotary(c, m);
  return m;
}

Json parse_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open for reading (is this a model folder?)");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) throw InputError(path, "is not valid JSON");
  if (!json.is_object()) throw InputError(path, "is not a JSON object");
  return json;
}

}  // namespace

std::string model_folder_name(const std::string& dir) {
  fs::path path = fs::path(dir).lexically_normal();
  if (path.filename().empty()) path = path.parent_path();  // "models/gpt2/" → "gpt2"
  const std::string name = path.filename().string();
  return name.empty() || name == "." ? fs::absolute(path).filename().string() : name;
}

const std::vector<std::string>& supported_model_types() {
  static const std::vector<std::string> kTypes = {"gpt2", "opt", "gptj", "gpt_neox", "llama"};
  return kTypes;
}

ModelConfig read_hf_config(const std::string& model_dir) {
  const std::string path = (fs::path(model_dir) / "config.json").string();
  const Json json = parse_config_file(path);
  const ConfigReader c(path, json);
  const std::string type = c.text("model_type", "");
  if (type.empty()) c.fail("required key 'model_type' is missing");

  ModelConfig m;
  if (type == "gpt2") m = gpt2(c);
  else if (type == "opt") m = opt(c);
  else if (type == "gptj") m = gptj(c);
  else if (type == "gpt_neox") m = gpt_neox(c);
  else if (type == "llama") m = llama(c);
  else {
    std::string known;
    for (const auto& name : supported_model_types()) known += (known.empty() ? "" : ", ") + name;
    c.fail("unsupported model_type '" + type + "' (supported: " + known + ")");
  }

  m.model_type = type;
  m.name = model_folder_name(model_dir);
  m.vocab_size = c.size("vocab_size");
  m.bos_token_id = c.token_id("bos_token_id");
  m.eos_token_id = c.token_id("eos_token_id");
  m.pad_token_id = c.token_id("pad_token_id");
  return m;
}

}  // namespace cascade::data
