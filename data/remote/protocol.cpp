#include "data/remote/protocol.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/analyzer.h"
#include "core/engine.h"

namespace cascade::remote {

namespace {

using nlohmann::json;

// The fields of POST /v1/runs, in the order --help and REMOTE_PROTOCOL.md list them.
const std::vector<std::string> kRunFields = {"model",  "text",    "ids",     "tau",      "rule",         "attention",
                                             "nearest", "dtype",  "device",  "quality",  "with_activations",
                                             "taus",   "layers",  "quality_sweep"};

std::string field_list() {
  std::string out;
  for (const auto& f : kRunFields) out += (out.empty() ? "" : ", ") + f;
  return out;
}

[[noreturn]] void bad(const std::string& field, const std::string& problem) {
  throw ProtocolError(400, "'" + field + "': " + problem);
}

const std::string& string_field(const json& v, const std::string& field) {
  if (!v.is_string()) bad(field, std::string("expected a string, got ") + v.type_name());
  return v.get_ref<const std::string&>();
}

bool bool_field(const json& v, const std::string& field) {
  if (!v.is_boolean()) bad(field, std::string("expected true or false, got ") + v.type_name());
  return v.get<bool>();
}

double number_field(const json& v, const std::string& field) {
  if (!v.is_number()) bad(field, std::string("expected a number, got ") + v.type_name());
  const double x = v.get<double>();
  if (!std::isfinite(x)) bad(field, "not a finite number");
  return x;
}

double tau_value(const json& v, const std::string& field) {
  const double tau = number_field(v, field);
  try {
    theta_of_tau(tau);
  } catch (const UsageError& e) {
    bad(field, e.what());
  }
  return tau;
}

// A core parser's UsageError as the field's 400.
template <class Parse>
auto parsed(const std::string& field, Parse&& parse) -> decltype(parse()) {
  try {
    return parse();
  } catch (const UsageError& e) {
    bad(field, e.what());
  }
}

// A client names models by id; anything that reads as a file-system path is refused as such.
bool looks_like_path(const std::string& s) {
  if (s.empty()) return false;
  if (s[0] == '/' || s[0] == '.' || s[0] == '~' || s.find('\\') != std::string::npos) return true;
  if (s.find("..") != std::string::npos || s.find("//") != std::string::npos) return true;
  return std::count(s.begin(), s.end(), '/') > 1;  // a hub id has at most one: ORG/NAME
}

}  // namespace

void copy_run_settings(const RunOptions& from, RunRequest& to) {
  to.tau = from.tau, to.rule = from.rule, to.attention = from.attention, to.nearest = from.nearest;
  to.quality = from.quality, to.quality_sweep = from.quality_sweep, to.sweep_taus = from.taus, to.layers = from.layers;
}

void copy_run_settings(const RunRequest& from, RunOptions& to) {
  to.tau = from.tau, to.rule = from.rule, to.attention = from.attention, to.nearest = from.nearest;
  to.quality = from.quality, to.quality_sweep = from.quality_sweep, to.taus = from.sweep_taus, to.layers = from.layers;
}

std::vector<double> default_run_taus() { return parse_tau_grid(kDefaultTauGrid); }

json parse_body(const std::string& body, const Limits& limits) {
  if (static_cast<int64_t>(body.size()) > limits.max_body_bytes)
    throw ProtocolError(413, "the request body is " + std::to_string(body.size()) + " bytes; the limit is " +
                                 std::to_string(limits.max_body_bytes));
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw ProtocolError(400, "the request body is not valid JSON");
  if (!j.is_object()) throw ProtocolError(400, std::string("the request body must be a JSON object, got ") + j.type_name());
  return j;
}

RunOptions parse_run_options(const json& body, const Limits& limits) {
  if (!body.is_object()) throw ProtocolError(400, "the request body must be a JSON object");
  static const std::set<std::string> known(kRunFields.begin(), kRunFields.end());
  for (const auto& [key, value] : body.items())
    if (!known.count(key)) throw ProtocolError(400, "unknown field '" + key + "' (fields: " + field_list() + ")");
  RunOptions o;
  o.taus = default_run_taus();
  if (!body.contains("model")) throw ProtocolError(400, "'model' is required: an id of GET /v1/models");
  o.model = string_field(body["model"], "model");
  if (o.model.empty()) bad("model", "empty: give an id of GET /v1/models");
  if (looks_like_path(o.model)) bad("model", "the server takes a model id of GET /v1/models, never a path");
  if (body.contains("text") && body.contains("ids")) throw ProtocolError(400, "give 'text' or 'ids', not both");
  if (!body.contains("text") && !body.contains("ids")) throw ProtocolError(400, "give 'text' (a string) or 'ids' (token ids)");
  if (body.contains("text")) {
    o.text = string_field(body["text"], "text");
    if (static_cast<int64_t>(o.text.size()) > limits.max_text_bytes)
      bad("text", std::to_string(o.text.size()) + " bytes; the limit is " + std::to_string(limits.max_text_bytes));
    if (o.text.empty()) bad("text", "empty");
  } else {
    const json& ids = body["ids"];
    if (!ids.is_array()) bad("ids", std::string("expected an array of token ids, got ") + ids.type_name());
    if (ids.empty()) bad("ids", "empty");
    if (static_cast<int64_t>(ids.size()) > limits.max_tokens)
      bad("ids", std::to_string(ids.size()) + " tokens; the limit is " + std::to_string(limits.max_tokens));
    o.ids.reserve(ids.size());
    for (const json& id : ids) {
      if (!id.is_number_integer()) bad("ids", std::string("expected integers, got ") + id.type_name());
      const auto v = id.get<int64_t>();
      if (v < 0) bad("ids", "token id " + std::to_string(v) + " is negative");
      o.ids.push_back(v);
    }
  }
  if (body.contains("tau")) o.tau = tau_value(body["tau"], "tau");
  if (body.contains("rule")) o.rule = parsed("rule", [&] { return parse_rule(string_field(body["rule"], "rule")); });
  if (body.contains("attention"))
    o.attention = parsed("attention", [&] { return parse_attention_mode(string_field(body["attention"], "attention")); });
  if (body.contains("nearest"))
    o.nearest = parsed("nearest", [&] { return parse_nearest_rule(string_field(body["nearest"], "nearest")); });
  if (body.contains("dtype") && !body["dtype"].is_null()) {
    const std::string& d = string_field(body["dtype"], "dtype");
    if (d != "auto") o.dtype = parsed("dtype", [&] { return parse_dtype(d); });
  }
  if (body.contains("device") && !body["device"].is_null()) {
    std::string d = string_field(body["device"], "device");
    if (d.rfind("cuda:", 0) == 0) d = "cuda";  // the index is the server's (--device cuda:N)
    o.device = parsed("device", [&] { return parse_device(d); });
  }
  if (body.contains("quality")) o.quality = bool_field(body["quality"], "quality");
  if (body.contains("quality_sweep")) o.quality_sweep = bool_field(body["quality_sweep"], "quality_sweep");
  if (body.contains("with_activations")) o.with_activations = bool_field(body["with_activations"], "with_activations");
  if (body.contains("taus")) {
    const json& t = body["taus"];
    if (t.is_string()) {
      const std::string& grid = t.get_ref<const std::string&>();
      o.taus = grid == "none" ? std::vector<double>{} : parsed("taus", [&] { return parse_tau_grid(grid); });
    } else if (t.is_array()) {
      o.taus.clear();
      if (static_cast<int64_t>(t.size()) > limits.max_taus) bad("taus", "more than " + std::to_string(limits.max_taus) + " values");
      for (const json& v : t) o.taus.push_back(tau_value(v, "taus"));
    } else {
      bad("taus", std::string("expected a grid string (START:STOP:STEP, a list, or none) or an array, got ") + t.type_name());
    }
    if (static_cast<int64_t>(o.taus.size()) > limits.max_taus)
      bad("taus", std::to_string(o.taus.size()) + " values; the limit is " + std::to_string(limits.max_taus));
    std::sort(o.taus.begin(), o.taus.end());
    o.taus.erase(std::unique(o.taus.begin(), o.taus.end()), o.taus.end());
  }
  if (body.contains("layers") && !body["layers"].is_null()) {
    o.layers_text = string_field(body["layers"], "layers");
    if (!o.layers_text.empty() && o.layers_text != "all")
      o.layers = parsed("layers", [&] { return parse_layer_range(o.layers_text); });
    if (o.layers.begin && o.layers.end && *o.layers.begin >= *o.layers.end)
      throw ProtocolError(400, "'layers': " + o.layers_text + " selects no layer (A:B keeps layers A..B-1)");
  }
  return o;
}

json to_json(const RunOptions& o) {
  json j;
  j["model"] = o.model;
  if (!o.ids.empty()) j["ids"] = o.ids;
  else j["text"] = o.text;
  j["tau"] = o.tau;
  j["rule"] = to_string(o.rule);
  j["attention"] = to_string(o.attention);
  j["nearest"] = to_string(o.nearest);
  j["dtype"] = o.dtype ? to_string(*o.dtype) : "auto";
  if (o.device) j["device"] = to_string(*o.device);
  j["quality"] = o.quality;
  j["quality_sweep"] = o.quality_sweep;
  j["with_activations"] = o.with_activations;
  j["taus"] = o.taus;
  if (!o.layers_text.empty()) j["layers"] = o.layers_text;
  return j;
}

std::string to_string(JobState state) {
  switch (state) {
    case JobState::Queued: return "queued";
    case JobState::Running: return "running";
    case JobState::Done: return "done";
    case JobState::Failed: return "failed";
    case JobState::Cancelled: return "cancelled";
  }
  return "failed";
}

JobState parse_job_state(const std::string& name) {
  for (JobState s : {JobState::Queued, JobState::Running, JobState::Done, JobState::Failed, JobState::Cancelled})
    if (to_string(s) == name) return s;
  throw ProtocolError(502, "the server answered an unknown run state '" + name + "'");
}

bool is_final(JobState state) { return state == JobState::Done || state == JobState::Failed || state == JobState::Cancelled; }

std::string new_token() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw Error("cannot make a random token (OpenSSL RAND_bytes failed)");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) out += {hex[b >> 4], hex[b & 15]};
  return out;
}

bool same_token(const std::string& a, const std::string& b) {
  return a.size() == b.size() && !a.empty() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void write_token_file(const std::string& path, const std::string& token, bool exclusive) {
  // Written whole under a private name beside `path`, then put in place in one step: a reader never
  // sees half a token, and a failure leaves what was there.
  const std::string tmp = path + ".partial-" + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw InputError(path, std::string("cannot create the token file: ") + std::strerror(errno));
  const std::string line = token + "\n";
  const bool ok = ::fchmod(fd, 0600) == 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                  ::fsync(fd) == 0;
  if (::close(fd) != 0 || !ok) {
    ::unlink(tmp.c_str());
    throw InputError(path, "cannot write the token file");
  }
  // link() fails when `path` exists (two servers starting at once: the second reads the first's).
  const int placed = exclusive ? ::link(tmp.c_str(), path.c_str()) : ::rename(tmp.c_str(), path.c_str());
  const int err = errno;
  ::unlink(tmp.c_str());
  if (placed != 0) throw InputError(path, std::string("cannot write the token file: ") + std::strerror(err));
}

std::string read_or_create_token_file(const std::string& path, bool* created) {
  if (created) *created = false;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    const std::string token = new_token();
    write_token_file(path, token, true);
    if (created) *created = true;
    return token;
  }
  if (std::filesystem::is_directory(path, ec)) throw InputError(path, "is a folder, not a token file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot read the token file");
  std::string token;
  char c;
  while (in.get(c) && token.size() < 4096) token += c;
  const auto first = token.find_first_not_of(" \t\r\n");
  const auto last = token.find_last_not_of(" \t\r\n");
  token = first == std::string::npos ? "" : token.substr(first, last - first + 1);
  if (token.empty()) throw InputError(path, "the token file is empty");
  if (token.find_first_of(" \t\r\n") != std::string::npos) throw InputError(path, "the token file holds more than one word");
  return token;
}

}  // namespace cascade::remote
