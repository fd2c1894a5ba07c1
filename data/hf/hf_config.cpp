// config.json → ModelConfig: the JSON side. Each architecture reads its own keys and defaults
// (core/models/<arch>.cpp) through the ConfigReader implemented here; this file parses the file,
// reads model_type and the keys every model_type shares, and looks the architecture up in the table.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/errors.h"
#include "core/models/architectures.h"
#include "core/models/config_reader.h"
#include "data/hf/hf_model.h"

namespace cascade::data {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

class JsonConfigReader final : public ConfigReader {
 public:
  JsonConfigReader(std::string path, const Json& json) : ConfigReader(std::move(path)), json_(json) {}

  Kind kind(const std::string& key) const override {
    auto it = json_.find(key);
    if (it == json_.end()) return Kind::absent;
    if (it->is_null()) return Kind::null;
    if (it->is_boolean()) return Kind::boolean;
    if (it->is_number()) return Kind::number;
    if (it->is_string()) return Kind::text;
    if (it->is_array()) return Kind::list;
    return Kind::object;
  }
  std::string shown(const std::string& key) const override {
    auto it = json_.find(key);
    return it == json_.end() ? std::string() : it->dump();
  }

  std::optional<int64_t> optional_size(const std::string& key) const override {
    const Json* value = find(key);
    if (!value) return std::nullopt;
    const auto number = integer(*value);
    if (!number || *number <= 0) wrong_type(key, "a positive integer", *value);
    return number;
  }
  double number(const std::string& key, double fallback) const override {
    const Json* value = find(key);
    if (!value) return fallback;
    if (!value->is_number()) wrong_type(key, "a number", *value);
    return value->get<double>();
  }
  bool flag(const std::string& key, bool fallback) const override {
    const Json* value = find(key);
    if (!value) return fallback;
    if (!value->is_boolean()) wrong_type(key, "true or false", *value);
    return value->get<bool>();
  }
  std::string text(const std::string& key, const std::string& fallback) const override {
    const Json* value = find(key);
    if (!value) return fallback;
    if (!value->is_string()) wrong_type(key, "a string", *value);
    return value->get<std::string>();
  }
  std::optional<int64_t> token_id(const std::string& key) const override {
    const Json* value = find(key);
    if (value && value->is_array()) value = value->empty() ? nullptr : &value->front();
    if (!value) return std::nullopt;
    const auto number = integer(*value);
    if (!number) wrong_type(key, "an integer or a list of integers", *value);
    return number;
  }
  std::optional<std::vector<std::string>> text_list(const std::string& key) const override {
    const Json* value = find(key);
    if (!value) return std::nullopt;
    if (!value->is_array() || !std::all_of(value->begin(), value->end(), [](const Json& v) { return v.is_string(); }))
      wrong_type(key, "a list of strings", *value);
    return value->get<std::vector<std::string>>();
  }
  std::unique_ptr<ConfigReader> object(const std::string& key) const override {
    const Json* value = find(key);
    if (!value) return nullptr;
    if (!value->is_object()) wrong_type(key, "an object", *value);
    return std::make_unique<JsonConfigReader>(file(), *value);
  }

 private:
  const Json* find(const std::string& key) const {
    auto it = json_.find(key);
    return it == json_.end() || it->is_null() ? nullptr : &*it;
  }
  // Integers, also when written as 64.0.
  static std::optional<int64_t> integer(const Json& value) {
    if (value.is_number_integer()) return value.get<int64_t>();
    if (value.is_number_float() && std::trunc(value.get<double>()) == value.get<double>() &&
        std::abs(value.get<double>()) < 9e15)
      return static_cast<int64_t>(value.get<double>());
    return std::nullopt;
  }
  [[noreturn]] void wrong_type(const std::string& key, const std::string& want, const Json& got) const {
    std::string dumped = got.dump();
    if (dumped.size() > 60) dumped = dumped.substr(0, 57) + "...";
    fail("key '" + key + "' must be " + want + ", not " + dumped);
  }

  const Json& json_;  // the parsed file, or an object inside it; outlives the reader
};

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
  static const std::vector<std::string> kTypes = [] {
    std::vector<std::string> types;
    for (const auto& architecture : architectures()) types.push_back(architecture.model_type);
    return types;
  }();
  return kTypes;
}

ModelConfig read_hf_config(const std::string& model_dir) {
  const std::string path = (fs::path(model_dir) / "config.json").string();
  const Json json = parse_config_file(path);
  const JsonConfigReader c(path, json);
  const std::string type = c.text("model_type", "");
  if (type.empty()) c.fail("required key 'model_type' is missing");
  const Architecture* architecture = find_architecture(type);
  if (!architecture) c.fail(unsupported_model_type(type));

  // A multimodal checkpoint keeps the text model's keys in a nested object; its token ids may sit
  // at either level (the nested ones win).
  std::unique_ptr<ConfigReader> nested;
  if (!architecture->text_config.empty()) {
    nested = c.object(architecture->text_config);
    if (!nested) c.fail("required key '" + architecture->text_config + "' is missing");
  }
  const ConfigReader& text = nested ? *nested : static_cast<const ConfigReader&>(c);
  ModelConfig m = architecture->read_config(text);
  m.model_type = type;
  m.name = model_folder_name(model_dir);
  // The architecture sets vocab_size where its class has a default (gemma3's text config).
  if (auto vocab = text.optional_size("vocab_size"); vocab || m.vocab_size == 0) m.vocab_size = text.size("vocab_size");
  auto token = [&](const char* key) { return text.written(key) ? text.token_id(key) : c.token_id(key); };
  m.bos_token_id = token("bos_token_id");
  m.eos_token_id = token("eos_token_id");
  m.pad_token_id = token("pad_token_id");
  return m;
}

}  // namespace cascade::data
