#pragma once
// The remote engine's protocol (data/REMOTE_PROTOCOL.md), shared by the server
// (data/remote/engine_server.h) and its clients (data/remote/engine_client.h: the CLI's
// `run --engine` and the desktop app's Remote engine): what a run asks for, as JSON, checked once.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/activations.h"
#include "core/ada.h"
#include "core/defaults.h"
#include "core/errors.h"
#include "core/run_record.h"
#include "core/selection.h"

namespace cascade {
struct RunRequest;  // core/engine.h
}

namespace cascade::remote {

// The protocol's version: GET /v1/info says it, the paths carry its major.
inline constexpr int kProtocolVersion = 1;
inline constexpr int kDefaultPort = 7341;

// A request the server refuses: the HTTP status (4xx, or 503 for a full queue) and a one-line
// message, sent as {"error": message}.
struct ProtocolError : Error {
  ProtocolError(int status, const std::string& message) : Error(message), status(status) {}
  int status;
};

// What one request may ask for; over a bound is a 4xx naming the bound (serve's options raise them).
struct Limits {
  int64_t max_body_bytes = int64_t{8} << 20;  // a request body (413 above)
  int64_t max_text_bytes = int64_t{4} << 20;  // `text` (UTF-8 bytes)
  int64_t max_tokens = 32768;                 // T, and the model's own context
  int64_t max_taus = 200;                     // points of the `taus` sweep
  int64_t max_queue = 8;                      // runs queued or running (503 above)
  int64_t max_results = 16;                   // finished runs kept (the oldest is dropped first)
};

// POST /v1/runs: the CLI's run options without dashes. Absent fields take the CLI's defaults.
struct RunOptions {
  std::string model;             // an id of GET /v1/models; never a path
  std::string text;              // the text (or `ids`)
  std::vector<int64_t> ids;      // token ids, BOS included where the model wants it
  double tau = kDefaultTau;
  Rule rule = Rule::PriorMax;
  AttentionMode attention = AttentionMode::Exact;
  NearestRule nearest = NearestRule::Paper;
  std::optional<DType> dtype;         // absent or "auto": the server's choice, as run --dtype auto
  std::optional<DeviceKind> device;   // absent: the server's --device
  bool quality = false;               // run --ppl
  bool quality_sweep = false;         // ADA error and ΔPPL at every τ of the sweep (the GUI's option)
  bool with_activations = false;      // the result carries the fp16 X̂ (τ stays changeable offline)
  std::vector<double> taus;           // the sweep kept in the record (`taus`: a grid or a list; "none")
  LayerRange layers;                  // "A:B", as run --layers
  std::string layers_text;            // as given ("" = all)
};
// The settings a run's options and the engine's RunRequest share (τ, rule, attention, nearest,
// quality, quality_sweep, the sweep's τ, layers), each way: the server runs what was asked, a
// client asks for what its local run would do. Model, text, ids, dtype and device are not copied.
void copy_run_settings(const RunOptions& from, RunRequest& to);
void copy_run_settings(const RunRequest& from, RunOptions& to);
// `taus` when the body has none: the CLI's --taus default (the session's sweep).
std::vector<double> default_run_taus();

// The body of POST /v1/runs. Unknown fields, wrong types, out-of-range values and over-limit sizes
// throw ProtocolError(400 or 413) naming the field; a `model` that looks like a path says that the
// server takes ids only. Whether the id is exposed is the server's check.
RunOptions parse_run_options(const nlohmann::json& body, const Limits& limits);
// The JSON a client sends: every field given (so a server with other defaults runs the same run).
nlohmann::json to_json(const RunOptions& options);
// Parses a request body; malformed JSON, a non-object or a body over the limit → ProtocolError.
nlohmann::json parse_body(const std::string& body, const Limits& limits);

// The names GET /v1/runs/{id} answers in "state".
enum class JobState { Queued, Running, Done, Failed, Cancelled };
std::string to_string(JobState state);
JobState parse_job_state(const std::string& name);  // ProtocolError(502) for another name
bool is_final(JobState state);

// A bearer token of 32 random bytes, as 64 hex digits.
std::string new_token();
// Equal, in time that depends on the lengths only (OpenSSL's CRYPTO_memcmp).
bool same_token(const std::string& a, const std::string& b);
// The token in `path`, trimmed; when the file does not exist a new token is written there with
// mode 0600 (created = true). InputError when it cannot be read or written, or is empty.
std::string read_or_create_token_file(const std::string& path, bool* created = nullptr);
// Writes `token` to `path` with mode 0600, atomically (a private file beside it, put in place in one
// step). exclusive: fail (InputError) when `path` exists, else replace it.
void write_token_file(const std::string& path, const std::string& token, bool exclusive = false);

}  // namespace cascade::remote
