// cascadelens-cli serve: the compute engine for a desktop app (File → Connect to Engine) or a
// script on another machine, over HTTP (data/remote/engine_server.h, data/REMOTE_PROTOCOL.md).
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/commands.h"
#include "cli/model_input.h"
#include "cli/options.h"
#include "cli/shared.h"
#include "core/errors.h"
#include "data/formats/io_util.h"
#include "data/remote/engine_server.h"

namespace cascade::cli {

namespace {

const std::vector<OptionSpec> kServeSpecs = {
    {"--listen", "HOST:PORT", "address to listen on; a non-loopback HOST needs --tls-cert/--tls-key (PORT 0: any free one)",
     "127.0.0.1:7341"},
    {"--models", "DIR|ID ...", "the models clients may run: folders or HF cache ids, each exposed by its folder name "
                               "(or hub id); repeatable", "the bundled demo model"},
    {"--hf-cache", "", "also expose every runnable model of the Hugging Face cache, by hub id", ""},
    {"--token-file", "F", "the bearer token: read from F, or a new one written there (mode 0600) when F does not exist",
     "a new token, printed once"},
    {"--device", "DEV", "cpu, cuda or cuda:N: where runs go (ROCm builds of LibTorch say cuda too)", "cpu"},
    {"--tls-cert", "PEM", "serve HTTPS with this certificate (with --tls-key)", ""},
    {"--tls-key", "PEM", "the certificate's private key", ""},
    {"--queue", "N", "runs queued or running at once; more are refused with 503", "8"},
    {"--max-tokens", "N", "longest run in tokens (the model's context bounds it too)", "32768"},
    {"--max-text", "BYTES", "longest text of a request", "4194304"},
    {"--max-body", "BYTES", "largest request body", "8388608"},
    {"--keep-results", "N", "finished runs kept for their clients (the oldest is dropped first)", "16"},
    {"--url-file", "F", "write the URL there once listening (for scripts: the port of --listen HOST:0)", ""},
    kThreads, kMemoryLimit,
    kQuiet,
    kHelp};

const char* kProtocol =
    "Protocol (HTTP/1.1, JSON; every request needs `Authorization: Bearer TOKEN`; data/REMOTE_PROTOCOL.md):\n"
    "  GET    /v1/info                 version, devices (name, memory), BLAS, supported model types, limits\n"
    "  GET    /v1/models               [{\"id\", \"type\", \"num_layers\", ...}]: what POST /v1/runs may name\n"
    "  POST   /v1/tokenize             {\"model\", \"text\"} -> {\"ids\", \"tokens\"}\n"
    "  POST   /v1/runs                 run's options without dashes: {\"model\", \"text\" | \"ids\", \"tau\", \"rule\",\n"
    "                                  \"attention\", \"nearest\", \"dtype\", \"device\", \"quality\", \"with_activations\",\n"
    "                                  \"taus\", \"layers\"} -> 202 {\"id\", \"state\", ...}\n"
    "  GET    /v1/runs/{id}            {\"state\": queued|running|done|failed|cancelled, \"progress\", \"error\"}\n"
    "  GET    /v1/runs/{id}/events     text/event-stream: \"status\" events, then \"end\"\n"
    "  GET    /v1/runs/{id}/result     the run as a session file (application/x-hdf5; open it like run --save's)\n"
    "  DELETE /v1/runs/{id}            cancel (a finished run: drop its result)\n"
    "Runs execute one at a time on the server's device, in order; the loaded model stays between runs.\n"
    "A run whose events stream a client follows is cancelled when that client disconnects before it ends\n"
    "(POST \"cancel_on_disconnect\": false keeps it); a run nobody follows runs to the end.\n"
    "Bad requests get a 4xx with {\"error\": message}; a full queue 503.\n"
    "\n"
    "From a desk: ssh -L 7341:localhost:7341 gpu-box cascadelens-cli serve --models ~/models/gpt2 --token-file ~/.cascadelens-token\n"
    "then cascadelens-cli run --engine http://localhost:7341 --model gpt2 --token-file TOKEN --text '...'\n"
    "(or the desktop app's File > Connect to Engine).\n";

// --models takes several values: every argument after it up to the next option.
std::vector<std::string> take_models(std::vector<std::string>& args) {
  std::vector<std::string> models, rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] != "--models") {
      rest.push_back(args[i]);
      continue;
    }
    size_t j = i + 1;
    for (; j < args.size() && args[j].rfind("--", 0) != 0; ++j) models.push_back(args[j]);
    if (j == i + 1) throw UsageError("--models needs at least one model folder or HF cache id");
    i = j - 1;
  }
  args = rest;
  return models;
}

std::pair<std::string, int> listen_option(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw UsageError("--listen is HOST:PORT (e.g. 127.0.0.1:7341), got '" + text + "'");
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    size_t used = 0;
    port = std::stoi(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
  }
  if (port < 0 || port > 65535) throw UsageError("--listen: the port must be 0..65535, got '" + text.substr(colon + 1) + "'");
  return {host, port};
}

int64_t positive(const Options& opts, const char* name) {
  const long v = opts.integer(name);
  if (v < 1) throw UsageError(std::string(name) + " must be >= 1");
  return v;
}

std::string timestamp() {
  const std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%H:%M:%S", std::localtime(&now));
  return buf;
}

}  // namespace

int cmd_serve(const std::vector<std::string>& arguments) {
  std::vector<std::string> args = arguments;
  const std::vector<std::string> models = take_models(args);
  const Options opts(kServeSpecs, args);
  if (opts.flag("--help")) {
    std::cout << format_help("cascadelens-cli serve [--listen 127.0.0.1:7341] [--models DIR|ID ...] [--token-file F] "
                             "[--device cuda:0] [options]",
                             "Serve the engine over HTTP: the desktop app (File > Connect to Engine) and\n"
                             "`run --engine URL` run models here, on this machine's device, and get the\n"
                             "runs back as session files.",
                             kServeSpecs)
              << "\n" << kProtocol;
    return 0;
  }
  if (!opts.positional().empty()) throw UsageError("serve takes no file arguments (models go after --models)");
  remote::ServerConfig config;
  std::tie(config.host, config.port) = listen_option(opts.value_or_default("--listen"));
  config.models = models;
  config.expose_hf_cache = opts.flag("--hf-cache");
  const std::string device = opts.value_or_default("--device");
  if (device.rfind("cuda:", 0) == 0) {
    config.device = DeviceKind::Cuda;
    try {
      config.device_index = std::stoi(device.substr(5));
    } catch (const std::exception&) {
      throw UsageError("--device cuda:N needs a device number, got '" + device + "'");
    }
  } else {
    config.device = parse_device(device);
  }
  config.tls_cert = opts.value_or("--tls-cert", "");
  config.tls_key = opts.value_or("--tls-key", "");
  config.limits.max_queue = positive(opts, "--queue");
  config.limits.max_tokens = positive(opts, "--max-tokens");
  config.limits.max_text_bytes = positive(opts, "--max-text");
  config.limits.max_body_bytes = positive(opts, "--max-body");
  config.limits.max_results = positive(opts, "--keep-results");
  apply_resource_options(opts);
  const bool quiet = opts.flag("--quiet");
  auto log_mutex = std::make_shared<std::mutex>();
  config.log = [quiet, log_mutex](const std::string& line) {
    if (quiet) return;
    std::lock_guard lock(*log_mutex);
    std::fprintf(stderr, "%s serve: %s\n", timestamp().c_str(), line.c_str());
    std::fflush(stderr);
  };
  bool created = false;
  const auto token_file = opts.value("--token-file");
  config.token = token_file ? remote::read_or_create_token_file(*token_file, &created) : remote::new_token();

  std::signal(SIGPIPE, SIG_IGN);  // a client that goes away is an error on its socket, not our death
  remote::EngineServer server(config);  // resolves the models: a bad folder fails here, before listening
  install_sigint(/*also_sigterm=*/true);
  server.start();
  if (token_file)
    std::fprintf(stderr, "serve: token %s %s\n", created ? "written to" : "read from",
                 (*token_file + (created ? " (mode 0600)" : "")).c_str());
  else
    std::printf("token: %s\n", config.token.c_str());  // printed once; clients give it as Bearer
  std::printf("listening on %s\n", server.url().c_str());
  std::fflush(stdout);
  if (const auto url_file = opts.value("--url-file")) data::write_file_atomically(*url_file, server.url() + "\n");
  // Ctrl-C or SIGTERM: stop accepting, cancel the run, remove every result file.
  StderrProgress signals(true);
  const JobControl interrupted = signals.control();
  std::thread watcher([&] {
    while (!interrupted.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server.stop();
  });
  server.wait();
  watcher.join();
  std::fprintf(stderr, "serve: stopped\n");
  return 0;
}

}  // namespace cascade::cli
