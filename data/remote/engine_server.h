#pragma once
// `cascadelens-cli serve`: the compute engine on a GPU server, driven over HTTP/1.1 + JSON by the
// desktop app and by scripts (data/REMOTE_PROTOCOL.md). cpp-httplib (Debian libcpp-httplib-dev)
// does the HTTP and TLS; this file is the protocol: authentication, the exposed models, a bounded
// queue of runs executed one at a time on the server's device, their progress as server-sent
// events, and their results as session files. No httplib in this header.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/run_record.h"
#include "data/remote/protocol.h"

namespace cascade::remote {

struct ServerConfig {
  std::string host = "127.0.0.1";  // a non-loopback address needs tls_cert and tls_key
  int port = kDefaultPort;         // 0: any free port (EngineServer::port() says which)
  // What clients may run: model folders or HF cache ids, each exposed under its folder name (or
  // hub id). Empty: the bundled demo model, as id "demo-model".
  std::vector<std::string> models;
  bool expose_hf_cache = false;  // also every runnable model of the HF cache, by hub id
  std::string token;             // required on every request (Authorization: Bearer TOKEN)
  DeviceKind device = DeviceKind::Cpu;
  int device_index = 0;          // cuda:N (runs go to it; LibTorch's current device)
  std::string tls_cert, tls_key;  // PEM files: HTTPS
  Limits limits;
  int connection_threads = 16;   // requests served at once (an events stream holds one)
  int keep_models = 1;           // loaded models kept between runs (the least recent one goes)
  // One line per request and per run (the serve command prints them on stderr).
  std::function<void(const std::string&)> log;
};

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback(const std::string& host);

class EngineServer {
 public:
  // Checks the configuration (UsageError: a non-loopback host without TLS, an empty token, a bad
  // limit) and resolves the exposed models (InputError for a folder that is not a model).
  explicit EngineServer(ServerConfig config);
  ~EngineServer();  // stop()
  EngineServer(const EngineServer&) = delete;
  EngineServer& operator=(const EngineServer&) = delete;

  // Binds and starts serving on a thread of its own; returns the port. Error when it cannot bind.
  int start();
  // Blocks until stop() (from a signal handler's thread, a test, ...).
  void wait();
  // Stops accepting, cancels the running run, drops the queue and removes every result file.
  void stop();
  int port() const;
  std::string url() const;  // "http://127.0.0.1:PORT" (https with TLS)

  // For tests and the log: runs accepted so far, and runs that reached the engine.
  int64_t runs_submitted() const;
  int64_t runs_started() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cascade::remote
