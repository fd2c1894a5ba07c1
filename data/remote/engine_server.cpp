#include "data/remote/engine_server.h"

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <arpa/inet.h>
#include <unistd.h>

#include <ATen/Context.h>
#include <c10/core/DeviceGuard.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <list>
#include <map>
#include <mutex>
#include <thread>

#include "core/kernel_dispatch.h"
#include "core/version.h"
#include "data/hf/hf_model.h"
#include "data/hf/model_source.h"
#include "data/session/session_file.h"
#include "data/tokenizers/tokenizer_loader.h"

namespace cascade::remote {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

bool is_loopback(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  in_addr a{};
  return inet_pton(AF_INET, host.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

namespace {

// A model the server exposes: clients name it by id; spec is what load_model gets ("" = bundled).
struct ExposedModel {
  std::string id, spec, dir, type, origin;
  ModelConfig config;
  bool has_tokenizer = false;
};

// A finished run's session file in the server's private folder, removed with the last reference
// (an eviction while a client still downloads it waits for the download).
struct ResultFile {
  std::string path;
  int64_t bytes = 0;
  ~ResultFile() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

struct Job {
  std::string id;
  RunOptions options;
  const ExposedModel* model = nullptr;
  bool cancel_on_disconnect = true;
  JobState state = JobState::Queued;
  std::string stage = "queued", error, error_kind;
  int64_t done = 0, total = 0, tokens = 0;
  std::atomic<bool> cancel{false};
  uint64_t seq = 0;   // bumped on every change; event streams send what changed
  int watchers = 0;   // open event streams
  std::shared_ptr<ResultFile> result;
  std::string created = utc_now_iso8601();
  Clock::time_point last_progress{};
  double seconds = 0;
};

std::string random_id() { return new_token().substr(0, 16); }

// "Intel(R) Xeon(R) ..." from /proc/cpuinfo, else "CPU".
std::string cpu_name() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "CPU";
}

int64_t physical_memory() {
  const long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? static_cast<int64_t>(pages) * size : 0;
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump() + "\n", "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, status, json{{"error", message}, {"status", status}});
}

// "usage" | "input" | "error": how a client maps a failed run onto the exit code a local run gives.
std::string error_kind(const std::exception& e) {
  if (dynamic_cast<const UsageError*>(&e)) return "usage";
  if (dynamic_cast<const InputError*>(&e)) return "input";
  return "error";
}

}  // namespace

struct EngineServer::Impl {
  ServerConfig config;
  std::vector<ExposedModel> models;
  std::string device_label;  // "cpu" | "cuda:0"
  json info;                 // GET /v1/info, made once (the BLAS probe runs a GEMM)
  fs::path folder;           // private (0700) folder of result files

  mutable std::mutex mutex;
  std::condition_variable changed;  // any job's state, the queue, stopping
  std::deque<std::shared_ptr<Job>> queue;
  std::map<std::string, std::shared_ptr<Job>> jobs;
  std::list<std::string> finished;  // ids of final jobs, oldest first
  std::shared_ptr<Job> running;
  bool stopping = false;
  int streams = 0;
  std::atomic<int64_t> submitted{0}, started{0};

  // Loaded models, most recent first (the worker thread only).
  std::list<std::pair<std::string, std::shared_ptr<data::LoadedModel>>> loaded;
  // Tokenizers for POST /v1/tokenize (any connection thread), each used under its own lock.
  std::mutex tokenizer_mutex;
  std::map<std::string, std::pair<std::shared_ptr<std::mutex>, std::shared_ptr<Tokenizer>>> tokenizers;

  std::unique_ptr<httplib::Server> http;
  std::thread http_thread, worker;
  int bound_port = 0;
  std::once_flag stopped;

  void log(const std::string& line) const {
    if (config.log) config.log(line);
  }

  void resolve_models();
  void make_info();
  void routes();
  const ExposedModel& model_by_id(const std::string& id) const;
  json job_json(const Job& job) const;  // under mutex
  std::shared_ptr<Job> find(const std::string& id) const;  // under mutex
  void finish(const std::shared_ptr<Job>& job, JobState state);  // under mutex
  void work();
  void execute(Job& job);
  std::shared_ptr<data::LoadedModel> model_for(const Job& job, const JobControl& control);
  void events(const httplib::Request& req, httplib::Response& res, const std::string& id);
};

void EngineServer::Impl::resolve_models() {
  auto add = [&](ExposedModel m) {
    for (const auto& other : models)
      if (other.id == m.id) return;  // the first spelling wins (a folder named like a cache id)
    m.config = data::read_hf_config(m.dir);
    try {
      data::load_tokenizer(m.dir, m.config.model_type);
      m.has_tokenizer = true;
    } catch (const InputError&) {
      m.has_tokenizer = false;  // ids still run
    }
    m.type = m.config.model_type;
    models.push_back(std::move(m));
  };
  if (config.models.empty() && !config.expose_hf_cache) add({"demo-model", "", data::bundled_model_dir(), "", "bundled", {}, false});
  for (const std::string& spec : config.models) {
    const std::string dir = data::resolve_model_path(spec);
    const bool folder = fs::is_directory(spec);
    add({folder ? data::model_folder_name(dir) : spec, spec, dir, "", folder ? "folder" : "hf-cache", {}, false});
  }
  if (config.expose_hf_cache)
    for (const auto& c : data::cached_models())
      if (c.problem.empty()) add({c.id, c.id, c.dir, "", "hf-cache", {}, false});
  if (models.empty()) throw UsageError("serve: no model to expose (the HF cache has no runnable model); give --models");
}

void EngineServer::Impl::make_info() {
  json devices = json::array();
  devices.push_back({{"kind", "cpu"}, {"name", cpu_name()}, {"memory_bytes", physical_memory()}});
  if (const auto gpu = gpu_device())
    devices.push_back({{"kind", "cuda"}, {"name", gpu->name}, {"memory_bytes", gpu->memory_bytes}, {"index", config.device_index}});
  else if (at::hasCUDA())
    devices.push_back({{"kind", "cuda"}, {"name", "GPU " + std::to_string(config.device_index)}, {"memory_bytes", 0},
                       {"index", config.device_index}});
  const BlasInfo blas = detect_blas();
  info = {{"name", "cascadelens"},
          {"version", version()},
          {"protocol", kProtocolVersion},
          {"device", device_label},
          {"devices", devices},
          {"blas", blas.name},
          {"torch", torch_version()},
          {"kernels", kernels_summary()},
          {"families", data::supported_model_types()},
          {"limits",
           {{"max_body_bytes", config.limits.max_body_bytes},
            {"max_text_bytes", config.limits.max_text_bytes},
            {"max_tokens", config.limits.max_tokens},
            {"max_taus", config.limits.max_taus},
            {"max_queue", config.limits.max_queue},
            {"max_results", config.limits.max_results}}}};
}

const ExposedModel& EngineServer::Impl::model_by_id(const std::string& id) const {
  for (const auto& m : models)
    if (m.id == id) return m;
  throw ProtocolError(404, "unknown model '" + id + "': GET /v1/models lists the ids this server runs");
}

std::shared_ptr<Job> EngineServer::Impl::find(const std::string& id) const {
  const auto it = jobs.find(id);
  if (it == jobs.end()) throw ProtocolError(404, "no run '" + id + "' (finished runs are kept until " +
                                                     std::to_string(config.limits.max_results) + " newer ones end)");
  return it->second;
}

json EngineServer::Impl::job_json(const Job& job) const {
  json j{{"id", job.id},
         {"state", to_string(job.state)},
         {"model", job.model->id},
         {"created", job.created},
         {"progress", {{"stage", job.stage}, {"done", job.done}, {"total", job.total},
                       {"fraction", job.total > 0 ? static_cast<double>(job.done) / static_cast<double>(job.total) : 0.0}}},
         {"error", job.error.empty() ? json(nullptr) : json(job.error)}};
  if (!job.error_kind.empty()) j["error_kind"] = job.error_kind;
  if (job.tokens) j["tokens"] = job.tokens;
  if (job.state == JobState::Queued) {
    int64_t ahead = running ? 1 : 0;
    for (const auto& q : queue) {
      if (q.get() == &job) break;
      ++ahead;
    }
    j["queue_position"] = ahead;
  }
  if (job.result) j["result_bytes"] = job.result->bytes;
  if (is_final(job.state)) j["seconds"] = job.seconds;
  return j;
}

void EngineServer::Impl::finish(const std::shared_ptr<Job>& job, JobState state) {
  job->state = state;
  job->stage = to_string(state);
  ++job->seq;
  finished.push_back(job->id);
  while (static_cast<int64_t>(finished.size()) > config.limits.max_results) {
    jobs.erase(finished.front());  // its result file goes with the last download holding it
    finished.pop_front();
  }
  changed.notify_all();
}

std::shared_ptr<data::LoadedModel> EngineServer::Impl::model_for(const Job& job, const JobControl& control) {
  const RunOptions& o = job.options;
  const DeviceKind device = o.device.value_or(config.device);
  const std::string key = job.model->id + "|" + to_string(device) + "|" + (o.dtype ? to_string(*o.dtype) : "auto");
  for (auto it = loaded.begin(); it != loaded.end(); ++it)
    if (it->first == key) {
      loaded.splice(loaded.begin(), loaded, it);
      return it->second;
    }
  while (!loaded.empty() && static_cast<int>(loaded.size()) >= std::max(1, config.keep_models)) loaded.pop_back();
  control.report("loading model", 0, 1);
  data::ModelRequest request{job.model->spec, device, o.dtype, {}};
  request.on_dtype_chosen = [&](const data::DtypeChoice& choice) {
    control.report("loading " + data::format_bytes(choice.weight_bytes) + " in " + to_string(choice.dtype), 0, 1);
    log("run " + job.id + ": " + choice.message);
  };
  auto m = std::make_shared<data::LoadedModel>(data::load_model(request));
  control.report("loading model", 1, 1);
  loaded.emplace_front(key, m);
  return m;
}

void EngineServer::Impl::execute(Job& job) {
  JobControl control;
  control.cancel = &job.cancel;
  control.on_progress = [this, &job](const Progress& p) {
    std::lock_guard lock(mutex);
    const auto now = Clock::now();
    // Coalesced to ~20 a second: the scans report every tile.
    if (p.stage == job.stage && p.done != p.total && now - job.last_progress < std::chrono::milliseconds(50)) return;
    job.last_progress = now;
    job.stage = p.stage, job.done = p.done, job.total = p.total;
    ++job.seq;
    changed.notify_all();
  };
  const RunOptions& o = job.options;
  const auto m = model_for(job, control);
  control.check();
  std::vector<int64_t> ids = o.ids;
  std::string text = o.text;
  if (ids.empty()) {
    ids = data::encode_text(*m, text);
  } else {
    for (int64_t id : ids)
      if (id >= m->config.vocab_size)
        throw InputError("ids", std::to_string(id) + " is outside the model's vocabulary (0.." +
                         std::to_string(m->config.vocab_size - 1) + ")");
  }
  const auto T = static_cast<int64_t>(ids.size());
  if (T > config.limits.max_tokens)
    throw UsageError("the text is " + std::to_string(T) + " tokens; this server runs at most " +
                     std::to_string(config.limits.max_tokens) + " (serve --max-tokens)");
  if (m->config.max_positions > 0 && T > m->config.max_positions)
    throw UsageError("the text is " + std::to_string(T) + " tokens; this model's context is " +
                     std::to_string(m->config.max_positions) + " (" + std::to_string(T - m->config.max_positions) +
                     " too many)");
  {
    std::lock_guard lock(mutex);
    job.tokens = T;
  }
  RunRequest request = data::request_for(*m, std::move(ids), text);
  copy_run_settings(o, request);
  layer_bounds(o.layers, m->config.num_layers);  // UsageError before the forward pass
  const RunRecord record = run_model(*m->model, request, control);
  auto file = std::make_shared<ResultFile>();
  file->path = (folder / (job.id + ".h5")).string();
  data::write_session(file->path, record, {o.with_activations}, control);
  file->bytes = static_cast<int64_t>(fs::file_size(file->path));
  std::lock_guard lock(mutex);
  job.result = std::move(file);
}

void EngineServer::Impl::work() {
  // cuda:N is the current device of this thread, which runs every model.
  std::optional<c10::DeviceGuard> on_device;
  if (config.device == DeviceKind::Cuda && at::hasCUDA()) on_device.emplace(at::Device(at::kCUDA, config.device_index));
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return stopping || !queue.empty(); });
      if (stopping) return;
      job = queue.front();
      queue.pop_front();
      running = job;
      job->state = JobState::Running;
      job->stage = "starting";
      ++job->seq;
      changed.notify_all();
    }
    ++started;
    log("run " + job->id + ": started (" + job->model->id + ")");
    const auto t0 = Clock::now();
    JobState state = JobState::Done;
    std::string error, kind;
    try {
      execute(*job);
    } catch (const Cancelled&) {
      state = JobState::Cancelled;
    } catch (const std::bad_alloc&) {
      state = JobState::Failed, error = "the server ran out of memory for this run", kind = "error";
    } catch (const std::exception& e) {
      state = JobState::Failed, error = e.what(), kind = error_kind(e);
    }
    std::lock_guard lock(mutex);
    job->seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    job->error = error, job->error_kind = kind;
    running.reset();
    finish(job, state);
    log("run " + job->id + ": " + to_string(state) + (error.empty() ? "" : ": " + error) + " in " +
        std::to_string(job->seconds) + " s");
  }
}

// text/event-stream: an event "status" whenever the run changes (coalesced), a comment every
// second otherwise (so a client that went away is noticed), and "end" with the final status.
void EngineServer::Impl::events(const httplib::Request&, httplib::Response& res, const std::string& id) {
  std::shared_ptr<Job> job;
  {
    std::lock_guard lock(mutex);
    job = find(id);
    if (streams >= std::max(1, config.connection_threads / 2))
      throw ProtocolError(503, "too many event streams open (" + std::to_string(streams) + "); poll GET /v1/runs/" + id);
    ++streams;
    ++job->watchers;
  }
  auto sent = std::make_shared<uint64_t>(~uint64_t{0});
  auto ended = std::make_shared<bool>(false);
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, job, sent, ended](size_t, httplib::DataSink& sink) {
        std::string chunk;
        bool last = false;
        {
          std::unique_lock lock(mutex);
          changed.wait_for(lock, std::chrono::seconds(1), [&] { return stopping || job->seq != *sent; });
          if (stopping) return false;
          if (job->seq != *sent) {
            *sent = job->seq;
            last = is_final(job->state);
            chunk = std::string("event: ") + (last ? "end" : "status") + "\ndata: " + job_json(*job).dump() + "\n\n";
          } else {
            chunk = ": waiting\n\n";
          }
        }
        if (!sink.write(chunk.data(), chunk.size())) return false;  // the client went away
        if (last) {
          *ended = true;
          sink.done();
        }
        return true;
      },
      [this, job, ended](bool) {
        std::lock_guard lock(mutex);
        --streams;
        // The last follower of a run that has not ended went away: free the device for others.
        if (--job->watchers == 0 && !*ended && !is_final(job->state) && job->cancel_on_disconnect && !stopping) {
          job->cancel = true;
          const auto it = std::find(queue.begin(), queue.end(), job);
          if (it != queue.end()) {
            queue.erase(it);
            finish(job, JobState::Cancelled);
          }
          log("run " + job->id + ": its client disconnected; cancelled");
        }
        changed.notify_all();
      });
}

void EngineServer::Impl::routes() {
  httplib::Server& s = *http;
  s.set_payload_max_length(static_cast<size_t>(config.limits.max_body_bytes));
  s.set_read_timeout(10);
  s.set_write_timeout(30);
  s.set_keep_alive_timeout(5);
  s.set_keep_alive_max_count(1000);
  s.set_tcp_nodelay(true);  // answers and events go out at once (no Nagle wait behind a delayed ACK)
  const int threads = std::max(2, config.connection_threads);
  s.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    const std::string auth = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    if (auth.rfind(prefix, 0) != 0 || !same_token(auth.substr(prefix.size()), config.token)) {
      res.set_header("WWW-Authenticate", "Bearer");
      send_error(res, 401, auth.empty() ? "this server needs Authorization: Bearer TOKEN (serve printed or wrote the token)"
                                        : "wrong token");
      log(req.method + " " + req.path + " 401");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // httplib's own refusals (no route, 413 over --max-body, 400 unparsable HTTP) get a JSON body too.
  s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) send_error(res, 404, "no endpoint " + req.method + " " + req.path + " (GET /v1/info; see REMOTE_PROTOCOL.md)");
    else if (res.status == 413) send_error(res, 413, "the request body is over the server's limit (serve --max-body)");
    else send_error(res, res.status, "the request was refused (HTTP " + std::to_string(res.status) + ")");
  });
  s.set_exception_handler([this](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const ProtocolError& e) {
      send_error(res, e.status, e.what());
    } catch (const UsageError& e) {
      send_error(res, 400, e.what());
    } catch (const InputError& e) {
      send_error(res, 400, e.what());
    } catch (const std::exception& e) {
      send_error(res, 500, std::string("internal error: ") + e.what());
      log(req.method + " " + req.path + " 500: " + e.what());
    } catch (...) {
      send_error(res, 500, "internal error");
    }
  });

  s.Get("/v1/info", [this](const httplib::Request&, httplib::Response& res) {
    json j = info;
    std::lock_guard lock(mutex);
    j["queue"] = {{"queued", queue.size()}, {"running", running ? 1 : 0}};
    send_json(res, 200, j);
  });
  s.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    json list = json::array();
    for (const auto& m : models)
      list.push_back({{"id", m.id},
                      {"type", m.type},
                      {"origin", m.origin},
                      {"num_layers", m.config.num_layers},
                      {"hidden_size", m.config.hidden_size},
                      {"num_heads", m.config.num_heads},
                      {"vocab_size", m.config.vocab_size},
                      {"max_positions", m.config.max_positions},
                      {"has_tokenizer", m.has_tokenizer}});
    send_json(res, 200, list);
  });
  s.Post("/v1/tokenize", [this](const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req.body, config.limits);
    for (const auto& [key, value] : body.items())
      if (key != "model" && key != "text") throw ProtocolError(400, "unknown field '" + key + "' (fields: model, text)");
    if (!body.contains("model") || !body["model"].is_string()) throw ProtocolError(400, "'model': a model id is required");
    if (!body.contains("text") || !body["text"].is_string()) throw ProtocolError(400, "'text': a string is required");
    const std::string& text = body["text"].get_ref<const std::string&>();
    if (static_cast<int64_t>(text.size()) > config.limits.max_text_bytes)
      throw ProtocolError(413, "'text': over the server's limit of " + std::to_string(config.limits.max_text_bytes) + " bytes");
    const ExposedModel& m = model_by_id(body["model"].get<std::string>());
    if (!m.has_tokenizer) throw ProtocolError(400, "model '" + m.id + "' has no tokenizer: run it with ids");
    std::pair<std::shared_ptr<std::mutex>, std::shared_ptr<Tokenizer>> tok;
    {
      std::lock_guard lock(tokenizer_mutex);
      auto& slot = tokenizers[m.id];
      if (!slot.second) slot = {std::make_shared<std::mutex>(), std::shared_ptr<Tokenizer>(data::load_tokenizer(m.dir, m.type))};
      tok = slot;
    }
    std::lock_guard lock(*tok.first);
    const std::vector<int64_t> ids = tok.second->encode(text, /*add_special=*/true);
    std::vector<std::string> tokens;
    for (int64_t id : ids) tokens.push_back(tok.second->display(id));
    send_json(res, 200, json{{"model", m.id}, {"ids", ids}, {"tokens", tokens}});
  });
  s.Post("/v1/runs", [this](const httplib::Request& req, httplib::Response& res) {
    json body = parse_body(req.body, config.limits);
    bool cancel_on_disconnect = true;
    if (body.contains("cancel_on_disconnect")) {
      if (!body["cancel_on_disconnect"].is_boolean()) throw ProtocolError(400, "'cancel_on_disconnect': expected true or false");
      cancel_on_disconnect = body["cancel_on_disconnect"].get<bool>();
      body.erase("cancel_on_disconnect");
    }
    auto job = std::make_shared<Job>();
    job->options = parse_run_options(body, config.limits);
    job->model = &model_by_id(job->options.model);
    job->cancel_on_disconnect = cancel_on_disconnect;
    if (job->options.device == DeviceKind::Cuda && config.device != DeviceKind::Cuda)
      throw ProtocolError(400, "'device': this server runs on " + device_label + " (serve --device)");
    std::lock_guard lock(mutex);
    if (stopping) throw ProtocolError(503, "the server is stopping");
    const int64_t active = static_cast<int64_t>(queue.size()) + (running ? 1 : 0);
    if (active >= config.limits.max_queue)
      throw ProtocolError(503, "the queue is full (" + std::to_string(active) + " runs; serve --queue " +
                                   std::to_string(config.limits.max_queue) + "): try again later");
    do job->id = random_id();
    while (jobs.count(job->id));
    jobs[job->id] = job;
    queue.push_back(job);
    ++submitted;
    changed.notify_all();
    log("run " + job->id + ": queued (" + job->model->id + ", " +
        (job->options.ids.empty() ? std::to_string(job->options.text.size()) + " bytes of text"
                                  : std::to_string(job->options.ids.size()) + " ids") + ")");
    res.set_header("Location", "/v1/runs/" + job->id);
    send_json(res, 202, job_json(*job));
  });
  s.Get("/v1/runs", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard lock(mutex);
    json list = json::array();
    for (const auto& [id, job] : jobs) list.push_back(job_json(*job));
    send_json(res, 200, list);
  });
  s.Get(R"(/v1/runs/([0-9a-f]{1,64}))", [this](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex);
    send_json(res, 200, job_json(*find(req.matches[1])));
  });
  s.Get(R"(/v1/runs/([0-9a-f]{1,64})/events)", [this](const httplib::Request& req, httplib::Response& res) {
    events(req, res, req.matches[1]);
  });
  s.Get(R"(/v1/runs/([0-9a-f]{1,64})/result)", [this](const httplib::Request& req, httplib::Response& res) {
    std::shared_ptr<ResultFile> file;
    {
      std::lock_guard lock(mutex);
      const auto job = find(req.matches[1]);
      if (job->state != JobState::Done)
        throw ProtocolError(409, "run " + job->id + " is " + to_string(job->state) +
                                     (job->error.empty() ? "" : ": " + job->error) + "; its result comes when it is done");
      file = job->result;
    }
    auto in = std::make_shared<std::ifstream>(file->path, std::ios::binary);
    if (!*in) throw Error("the result file of this run is gone");
    res.set_header("Content-Disposition", "attachment; filename=\"" + std::string(req.matches[1]) + ".h5\"");
    res.set_content_provider(static_cast<size_t>(file->bytes), "application/x-hdf5",
                             [file, in](size_t offset, size_t length, httplib::DataSink& sink) {
                               std::vector<char> buffer(std::min<size_t>(length, size_t{1} << 20));
                               in->seekg(static_cast<std::streamoff>(offset));
                               in->read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
                               const auto n = static_cast<size_t>(in->gcount());
                               return n > 0 && sink.write(buffer.data(), n);
                             });
  });
  s.Delete(R"(/v1/runs/([0-9a-f]{1,64}))", [this](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex);
    const auto job = find(req.matches[1]);
    if (is_final(job->state)) {  // a finished run: its result is dropped
      jobs.erase(job->id);
      finished.remove(job->id);
      send_json(res, 200, json{{"id", job->id}, {"state", to_string(job->state)}, {"deleted", true}});
      return;
    }
    job->cancel = true;
    const auto it = std::find(queue.begin(), queue.end(), job);
    if (it != queue.end()) {
      queue.erase(it);
      finish(job, JobState::Cancelled);
    }
    log("run " + job->id + ": cancel asked");
    send_json(res, 202, job_json(*job));
  });
}

EngineServer::EngineServer(ServerConfig config) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.config = std::move(config);
  const ServerConfig& c = s.config;
  if (c.token.empty()) throw UsageError("serve: the token is empty");
  if (c.port < 0 || c.port > 65535) throw UsageError("serve: the port must be 0..65535, got " + std::to_string(c.port));
  if ((c.tls_cert.empty()) != (c.tls_key.empty())) throw UsageError("serve: --tls-cert and --tls-key go together");
  if (!is_loopback(c.host) && c.tls_cert.empty())
    throw UsageError("serve: listening on " + c.host + " (not loopback) needs TLS: give --tls-cert and --tls-key, or keep "
                     "127.0.0.1 and reach it through an SSH tunnel (ssh -L " + std::to_string(kDefaultPort) +
                     ":localhost:" + std::to_string(kDefaultPort) + " HOST)");
  const Limits& l = c.limits;
  for (const auto& [name, value] : {std::pair{"--max-body", l.max_body_bytes}, {"--max-text", l.max_text_bytes},
                                    {"--max-tokens", l.max_tokens}, {"--queue", l.max_queue}, {"--keep-results", l.max_results}})
    if (value < 1) throw UsageError(std::string("serve: ") + name + " must be >= 1");
  if (c.device == DeviceKind::Cuda && !at::hasCUDA())
    throw UsageError("serve: --device cuda: this LibTorch build has no CUDA/ROCm device");
  s.device_label = c.device == DeviceKind::Cuda ? "cuda:" + std::to_string(c.device_index) : "cpu";
  s.resolve_models();
}

EngineServer::~EngineServer() { stop(); }

int EngineServer::start() {
  Impl& s = *impl_;
  if (s.http) throw UsageError("serve: already started");
  s.make_info();
  // Result files live in a folder only this user can enter, removed by stop().
  std::string folder = (fs::temp_directory_path() / "cascadelens-serve-XXXXXX").string();
  if (!mkdtemp(folder.data())) throw Error("serve: cannot make a private folder for results in " + fs::temp_directory_path().string());
  s.folder = folder;
  if (s.config.tls_cert.empty()) {
    s.http = std::make_unique<httplib::Server>();
  } else {
    auto tls = std::make_unique<httplib::SSLServer>(s.config.tls_cert.c_str(), s.config.tls_key.c_str());
    if (!tls->is_valid()) throw InputError(s.config.tls_cert, "cannot use this certificate and key (" + s.config.tls_key + ")");
    s.http = std::move(tls);
  }
  s.routes();
  s.bound_port = s.config.port == 0 ? s.http->bind_to_any_port(s.config.host) : s.config.port;
  if (s.config.port != 0 && !s.http->bind_to_port(s.config.host, s.config.port)) s.bound_port = -1;
  if (s.bound_port <= 0)
    throw Error("serve: cannot listen on " + s.config.host + ":" + std::to_string(s.config.port) +
                " (in use, or not an address of this machine)");
  s.worker = std::thread([&s] { s.work(); });
  s.http_thread = std::thread([&s] { s.http->listen_after_bind(); });
  // httplib's stop() does nothing before the listening loop runs (0.11 has no wait_until_ready):
  // return only once it does, so that a stop() right after start() cannot be lost.
  for (int i = 0; i < 5000 && !s.http->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!s.http->is_running()) {
    stop();
    throw Error("serve: the HTTP server did not start listening on " + s.config.host);
  }
  s.log("serving " + url() + " (" + std::to_string(s.models.size()) + " model" + (s.models.size() == 1 ? "" : "s") +
        ", runs on " + s.device_label + ")");
  return s.bound_port;
}

void EngineServer::wait() {
  Impl& s = *impl_;
  std::unique_lock lock(s.mutex);
  s.changed.wait(lock, [&] { return s.stopping; });
}

void EngineServer::stop() {
  Impl& s = *impl_;
  std::call_once(s.stopped, [&s] {
    {
      std::lock_guard lock(s.mutex);
      s.stopping = true;
      if (s.running) s.running->cancel = true;
      s.queue.clear();
      s.changed.notify_all();
    }
    if (s.http) s.http->stop();
    if (s.http_thread.joinable()) s.http_thread.join();
    if (s.worker.joinable()) s.worker.join();
    {
      std::lock_guard lock(s.mutex);
      s.jobs.clear();
      s.finished.clear();
    }
    std::error_code ec;
    if (!s.folder.empty()) fs::remove_all(s.folder, ec);
  });
}

int EngineServer::port() const { return impl_->bound_port; }

std::string EngineServer::url() const {
  const std::string host = impl_->config.host.find(':') != std::string::npos && impl_->config.host[0] != '['
                               ? "[" + impl_->config.host + "]"
                               : impl_->config.host;
  return std::string(impl_->config.tls_cert.empty() ? "http" : "https") + "://" + host + ":" + std::to_string(impl_->bound_port);
}

int64_t EngineServer::runs_submitted() const { return impl_->submitted; }
int64_t EngineServer::runs_started() const { return impl_->started; }

}  // namespace cascade::remote
