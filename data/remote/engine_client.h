#pragma once
// A client of `cascadelens-cli serve` (data/remote/engine_server.h, data/REMOTE_PROTOCOL.md): the
// CLI's `run --engine URL` and the desktop app's Remote engine. Blocking calls; one client may be
// used from one thread at a time (make one per thread). No httplib in this header.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/progress.h"
#include "core/run_record.h"
#include "data/remote/protocol.h"
#include "data/session/session_file.h"

namespace cascade::remote {

// The server could not be reached or answered with an error. status: the HTTP status, 0 when no
// answer came (refused, timed out, the connection lost); kind: the server's "kind" of a failed
// run ("usage", "input", "error"), so that a client exits with the code a local run would.
struct RemoteError : Error {
  RemoteError(int status, const std::string& message, std::string kind = "error")
      : Error(message), status(status), kind(std::move(kind)) {}
  int status;
  std::string kind;
};

struct RemoteDevice {
  std::string kind;  // "cpu" or "cuda" (ROCm says cuda too)
  std::string name;  // "AMD Instinct MI300X", "Intel(R) Xeon(R) ...", ...
  int64_t memory_bytes = 0;
};

struct ServerInfo {
  std::string version;   // the server's Cascade Lens version
  int protocol = 0;
  std::string device;    // the device runs go to: "cpu" or "cuda:0"
  std::vector<RemoteDevice> devices;
  std::string blas;
  std::vector<std::string> families;  // supported model types
  // "AMD Instinct MI300X, 192 GB" — the run device's name and memory, for status bars.
  std::string summary() const;
};

struct RemoteModel {
  std::string id;    // what POST /v1/runs takes as "model"
  std::string type;  // config.json's model_type
  std::string origin;  // "folder" (serve --models) or "hf-cache"
  int64_t num_layers = 0, hidden_size = 0, vocab_size = 0, max_positions = 0;
  bool has_tokenizer = false;  // text works; otherwise give ids
};

struct RunStatus {
  std::string id;
  JobState state = JobState::Queued;
  std::string stage;  // what runs now ("loading model", "prior-max scan", ...)
  int64_t done = 0, total = 0;
  std::string error, error_kind;  // when failed: the message and "usage" | "input" | "error"
  int64_t queue_position = 0;     // runs ahead of it while queued
};

struct Tokenized {
  std::vector<int64_t> ids;
  std::vector<std::string> tokens;
};

class EngineClient {
 public:
  // url: "http://host:port" or "https://host:port" (host:port alone means http). UsageError when
  // it is not one of those.
  EngineClient(const std::string& url, std::string token);
  ~EngineClient();
  EngineClient(const EngineClient&) = delete;
  EngineClient& operator=(const EngineClient&) = delete;

  const std::string& url() const { return url_; }

  ServerInfo info();
  std::vector<RemoteModel> models();
  Tokenized tokenize(const std::string& model, const std::string& text);
  std::string submit(const RunOptions& options);  // the run's id (202)
  RunStatus status(const std::string& id);
  // Follows GET /v1/runs/{id}/events until the run ends and returns its final status. Progress goes
  // to control; a cancel (checked at every event, at least once a second) sends DELETE and throws
  // Cancelled. A dropped stream falls back to polling the status.
  RunStatus follow(const std::string& id, const JobControl& control = {});
  std::string result_bytes(const std::string& id, const JobControl& control = {});  // the session file
  void cancel(const std::string& id);  // DELETE /v1/runs/{id}

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string url_;
};

struct RemoteRun {
  std::string id;
  RunRecord record;           // read from the session bytes
  std::string session_bytes;  // what GET /v1/runs/{id}/result returned (a session file)
};
// The whole run: submit, follow (progress and cancel through control), fetch and read the result.
// A failed run throws RemoteError with the server's message and kind; Cancelled when cancelled.
RemoteRun run_remote(EngineClient& client, const RunOptions& options, const JobControl& control = {},
                     const data::SessionReadOptions& read = {});

// A session file's bytes as a record (read through a private temporary file, removed at once).
RunRecord read_session_bytes(const std::string& bytes, const data::SessionReadOptions& options = {},
                             const JobControl& control = {});

// The token a client uses: the file's (read_or_create_token_file's rules, never created here) when
// token_file is given, else $CASCADELENS_TOKEN. UsageError saying both ways when there is none.
std::string client_token(const std::string& token_file);

}  // namespace cascade::remote
