// `cascadelens-cli serve` and its clients, all on loopback: an EngineServer in this process (port 0)
// driven through EngineClient, raw HTTP (httplib, to send what a client library never would) and
// the real `cascadelens-cli run --engine` binary. Every server here stops with its test.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "cli/cli_runner.h"
#include "core/engine.h"
#include "data/hf/model_source.h"
#include "data/remote/engine_client.h"
#include "data/remote/engine_server.h"
#include "data/session/record_json.h"
#include "data/session/session_file.h"

namespace cascade::remote {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::string kText = "The cat sat on the mat. The cat sat on the mat again, and then the dog came in.";

ServerConfig loopback_config() {
  ServerConfig c;
  c.host = "127.0.0.1";
  c.port = 0;
  c.token = new_token();
  return c;
}

struct Server {
  explicit Server(ServerConfig c = loopback_config()) : config(c), server(std::move(c)) { server.start(); }
  ServerConfig config;
  EngineServer server;
  EngineClient client() const { return EngineClient(server.url(), config.token); }
  httplib::Client raw() const {
    httplib::Client h(server.url());
    h.set_connection_timeout(5);
    h.set_read_timeout(30);
    return h;
  }
  httplib::Headers auth() const { return {{"Authorization", "Bearer " + config.token}}; }
};

// What a record says, without what differs between two runs of the same thing.
json comparable(const RunRecord& r) {
  json j = data::record_json(r);
  j.erase("created");
  j["run"].erase("timings_ms");
  return j;
}

// A run long enough to cancel: 500 tokens, ADA error and ΔPPL at 200 τ (one ADA pass each).
RunOptions slow_run() {
  RunOptions o;
  o.model = "demo-model";
  for (int i = 0; i < 500; ++i) o.ids.push_back(1 + (i * 37) % 4000);
  o.taus.clear();
  for (int i = 0; i < 200; ++i) o.taus.push_back(0.001 + 0.004 * i);
  o.quality_sweep = true;
  return o;
}

RunOptions short_run(const std::string& text = kText) {
  RunOptions o;
  o.model = "demo-model";
  o.text = text;
  return o;
}

JobState wait_final(EngineClient& c, const std::string& id, double seconds = 30) {
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < until) {
    const RunStatus s = c.status(id);
    if (is_final(s.state)) return s.state;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "run " << id << " did not end within " << seconds << " s";
  return JobState::Running;
}

TEST(RemoteProtocol, RunOptionsAreCheckedField_by_field) {
  const Limits limits;
  const auto refused = [&](const json& body, int status, const std::string& part) {
    try {
      parse_run_options(body, limits);
      ADD_FAILURE() << "accepted " << body.dump();
    } catch (const ProtocolError& e) {
      EXPECT_EQ(e.status, status) << body.dump();
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  refused({{"text", "x"}}, 400, "'model' is required");
  refused({{"model", "m"}}, 400, "give 'text'");
  refused({{"model", "m"}, {"text", "x"}, {"ids", {1}}}, 400, "not both");
  refused({{"model", "/etc/passwd"}, {"text", "x"}}, 400, "never a path");
  refused({{"model", "../models/gpt2"}, {"text", "x"}}, 400, "never a path");
  refused({{"model", "a/b/c"}, {"text", "x"}}, 400, "never a path");
  refused({{"model", "m"}, {"text", "x"}, {"tau", 1.5}}, 400, "'tau'");
  refused({{"model", "m"}, {"text", "x"}, {"tau", "0.3"}}, 400, "expected a number");
  refused({{"model", "m"}, {"text", "x"}, {"rule", "best"}}, 400, "'rule'");
  refused({{"model", "m"}, {"ids", {1, -2}}}, 400, "negative");
  refused({{"model", "m"}, {"ids", {1, 2.5}}}, 400, "integers");
  refused({{"model", "m"}, {"text", "x"}, {"quality", 1}}, 400, "true or false");
  refused({{"model", "m"}, {"text", "x"}, {"taus", "0:1:0.001"}}, 400, "limit");
  refused({{"model", "m"}, {"text", "x"}, {"text_file", "/etc/passwd"}}, 400, "unknown field 'text_file'");
  refused({{"model", "m"}, {"text", "x"}, {"layers", "9:2"}}, 400, "'layers'");
  Limits small;
  small.max_text_bytes = 4;
  EXPECT_THROW(parse_run_options({{"model", "m"}, {"text", "hello"}}, small), ProtocolError);
  EXPECT_THROW(parse_body("{\"a\":", limits), ProtocolError);
  EXPECT_THROW(parse_body("[1,2]", limits), ProtocolError);

  // A client's options survive the trip through JSON unchanged.
  RunOptions o = short_run();
  o.tau = 0.45, o.rule = Rule::GreedyCover, o.attention = AttentionMode::AdaCascade, o.quality = true;
  o.with_activations = true, o.taus = {0.1, 0.2}, o.layers_text = "1:4", o.dtype = DType::BFloat16;
  const RunOptions back = parse_run_options(to_json(o), limits);
  EXPECT_EQ(to_json(back), to_json(o));
  EXPECT_EQ(back.layers.begin, 1);
  EXPECT_EQ(back.layers.end, 4);
  // The defaults are the CLI's (the session's sweep grid).
  const RunOptions d = parse_run_options({{"model", "m"}, {"text", "x"}}, limits);
  EXPECT_EQ(d.taus, default_run_taus());
  EXPECT_EQ(d.tau, kDefaultTau);
}

TEST(RemoteProtocol, TokensAndTheirFile) {
  const std::string a = new_token(), b = new_token();
  EXPECT_EQ(a.size(), 64u);
  EXPECT_NE(a, b);
  EXPECT_TRUE(same_token(a, a));
  EXPECT_FALSE(same_token(a, b));
  EXPECT_FALSE(same_token(a, a.substr(0, 63)));
  EXPECT_FALSE(same_token("", ""));
  const fs::path dir = fs::temp_directory_path() / ("cascade_token_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  bool created = false;
  const std::string t = read_or_create_token_file((dir / "tok").string(), &created);
  EXPECT_TRUE(created);
  struct stat st {};
  ASSERT_EQ(stat((dir / "tok").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(read_or_create_token_file((dir / "tok").string(), &created), t);
  EXPECT_FALSE(created);
  std::ofstream((dir / "empty")) << "\n";
  EXPECT_THROW(read_or_create_token_file((dir / "empty").string()), InputError);
  EXPECT_THROW(client_token((dir / "missing").string()), UsageError);  // a client never creates one
  fs::remove_all(dir);
}

TEST(RemoteServer, ListensOnLoopbackOnlyWithoutTls) {
  EXPECT_TRUE(is_loopback("127.0.0.1"));
  EXPECT_TRUE(is_loopback("127.3.2.1"));
  EXPECT_TRUE(is_loopback("::1"));
  EXPECT_TRUE(is_loopback("localhost"));
  EXPECT_FALSE(is_loopback("0.0.0.0"));
  EXPECT_FALSE(is_loopback("10.0.0.7"));
  ServerConfig c = loopback_config();
  c.host = "0.0.0.0";
  try {
    EngineServer s(c);
    ADD_FAILURE() << "a non-loopback address without TLS was accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("needs TLS"), std::string::npos) << e.what();
  }
  c = loopback_config();
  c.token.clear();
  EXPECT_THROW(EngineServer{c}, UsageError);
  c = loopback_config();
  c.models = {"/no/such/model/folder"};
  EXPECT_THROW(EngineServer{c}, InputError);
}

TEST(RemoteServer, InfoAndModelsSayWhatRunsWhere) {
  Server s;
  EngineClient c = s.client();
  const ServerInfo info = c.info();
  EXPECT_EQ(info.protocol, kProtocolVersion);
  EXPECT_EQ(info.device, "cpu");
  ASSERT_FALSE(info.devices.empty());
  EXPECT_GT(info.devices[0].memory_bytes, 0);
  EXPECT_NE(info.summary().find(" GB"), std::string::npos) << info.summary();
  EXPECT_NE(std::find(info.families.begin(), info.families.end(), "llama"), info.families.end());
  const auto models = c.models();
  ASSERT_EQ(models.size(), 1u);
  EXPECT_EQ(models[0].id, "demo-model");
  EXPECT_EQ(models[0].type, "gpt2");
  EXPECT_TRUE(models[0].has_tokenizer);
  // Tokenize gives the ids a local load gives.
  const data::LoadedModel local = data::load_model({});
  const Tokenized t = c.tokenize("demo-model", kText);
  EXPECT_EQ(t.ids, data::encode_text(local, kText));
  EXPECT_EQ(t.tokens, data::display_tokens(local, t.ids));
}

// The record a remote run returns is the one a local run saves and reopens, timings aside.
TEST(RemoteServer, ARemoteRunEqualsTheLocalRun) {
  Server s;
  EngineClient c = s.client();
  RunOptions o = short_run();
  o.tau = 0.35;
  o.quality = true;
  o.with_activations = true;
  o.taus = {0.1, 0.3, 0.5};
  const RemoteRun remote = run_remote(c, o);

  const data::LoadedModel m = data::load_model({});
  RunRequest request = data::request_for(m, data::encode_text(m, kText), kText);
  request.tau = 0.35;
  request.quality = true;
  request.sweep_taus = o.taus;
  const RunRecord local = run_model(*m.model, request);
  const fs::path path = fs::temp_directory_path() / ("cascade_remote_local_" + std::to_string(getpid()) + ".h5");
  data::write_session(path.string(), local, {true});
  const RunRecord reopened = data::read_session(path.string());
  fs::remove(path);

  EXPECT_EQ(comparable(remote.record), comparable(reopened));
  // And what the local run holds in memory: the same sets, measures and quality.
  EXPECT_EQ(comparable(remote.record)["analysis"], comparable(local)["analysis"]);
  EXPECT_EQ(comparable(remote.record)["quality"], comparable(local)["quality"]);
  ASSERT_TRUE(remote.record.has_activations());
  EXPECT_TRUE(at::equal(stack_normalized(*remote.record.analyzer, at::kHalf), stack_normalized(*local.analyzer, at::kHalf)));
  // τ re-derives from the remote record as from the local one.
  EXPECT_EQ(remote.record.analyzer->analyze(0.2, Rule::PriorMax).layers.size(), local.analyzer->analyze(0.2, Rule::PriorMax).layers.size());
  EXPECT_EQ(s.server.runs_started(), 1);
}

TEST(RemoteServer, NoTokenOrAWrongOneIs401AndNothingRuns) {
  Server s;
  httplib::Client h = s.raw();
  const std::string body = to_json(short_run()).dump();
  for (const httplib::Headers& headers :
       {httplib::Headers{}, httplib::Headers{{"Authorization", "Bearer " + new_token()}},
        httplib::Headers{{"Authorization", s.config.token}}, httplib::Headers{{"Authorization", "Basic " + s.config.token}},
        httplib::Headers{{"Authorization", "Bearer " + s.config.token.substr(1)}}}) {
    for (const char* path : {"/v1/info", "/v1/models"}) {
      const auto r = h.Get(path, headers);
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 401);
      EXPECT_TRUE(json::parse(r->body).contains("error"));
    }
    const auto r = h.Post("/v1/runs", headers, body, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
  }
  EngineClient wrong(s.server.url(), new_token());
  try {
    wrong.submit(short_run());
    ADD_FAILURE() << "a wrong token was accepted";
  } catch (const RemoteError& e) {
    EXPECT_EQ(e.status, 401);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(s.server.runs_submitted(), 0);
  EXPECT_EQ(s.server.runs_started(), 0);
}

TEST(RemoteServer, MalformedRequestsGet4xxAndTheServerStillServes) {
  ServerConfig config = loopback_config();
  config.limits.max_body_bytes = 64 * 1024;
  Server s(config);
  httplib::Client h = s.raw();
  const auto post = [&](const std::string& path, const std::string& body) {
    const auto r = h.Post(path.c_str(), s.auth(), body, "application/json");
    EXPECT_TRUE(r) << path << " " << body.substr(0, 80);
    return r ? r->status : 0;
  };
  const std::vector<std::pair<std::string, int>> cases = {
      {"{\"model\": ", 400},
      {"not json at all", 400},
      {"[]", 400},
      {"\"a string\"", 400},
      {"{}", 400},
      {"{\"model\": \"demo-model\", \"text\": \"x\", \"shell\": \"rm -rf /\"}", 400},
      {"{\"model\": \"/work/main/data/demo/model\", \"text\": \"x\"}", 400},
      {"{\"model\": \"../../etc\", \"text\": \"x\"}", 400},
      {"{\"model\": \"gpt2\", \"text\": \"x\"}", 404},  // not exposed here
      {"{\"model\": \"demo-model\", \"ids\": [1, 99999999]}", 202},  // accepted, then fails as a run (vocabulary)
      {"{\"model\": \"demo-model\", \"text\": \"x\", \"tau\": -1}", 400},
      {"{\"model\": \"demo-model\", \"text\": \"x\", \"device\": \"tpu\"}", 400},
      {"{\"model\": \"demo-model\", \"text\": \"x\", \"device\": \"cuda\"}", 400},
      {"{\"model\": \"demo-model\", \"text\": \"" + std::string(100 * 1024, 'a') + "\"}", 413},
  };
  for (const auto& [body, status] : cases) {
    EXPECT_EQ(post("/v1/runs", body), status) << body.substr(0, 120);
  }
  EXPECT_EQ(post("/v1/tokenize", "{\"model\": \"demo-model\"}"), 400);
  EXPECT_EQ(post("/v1/tokenize", "{\"model\": \"demo-model\", \"text\": 3}"), 400);
  EXPECT_EQ(post("/v1/tokenize", "{\"model\": \"x/../../y\", \"text\": \"a\"}"), 404);
  for (const char* path : {"/v1/nothing", "/v1/runs/zzz", "/v1/runs/0123abcd", "/v1/runs/0123abcd/result", "/../etc/passwd"}) {
    const auto r = h.Get(path, s.auth());
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_TRUE(json::parse(r->body, nullptr, false).contains("error")) << path << ": " << r->body;
  }
  // Every refusal is JSON with a message; the server goes on serving runs.
  const auto r = h.Post("/v1/runs", s.auth(), "{\"model\": 3}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(json::parse(r->body)["error"].get<std::string>().find("'model'"), std::string::npos);
  EngineClient c = s.client();
  const RemoteRun run = run_remote(c, short_run());
  EXPECT_EQ(run.record.num_tokens(), static_cast<int64_t>(c.tokenize("demo-model", kText).ids.size()));
  // The out-of-vocabulary run failed as a run would locally: bad input (exit 3), with the reason.
  try {
    RunOptions o = short_run();
    o.text.clear();
    o.ids = {1, 99999999};
    run_remote(c, o);
    ADD_FAILURE() << "an id outside the vocabulary ran";
  } catch (const RemoteError& e) {
    EXPECT_EQ(e.kind, "input");
    EXPECT_NE(std::string(e.what()).find("outside the model's vocabulary"), std::string::npos) << e.what();
  }
}

TEST(RemoteServer, CancelStopsARunningRunAndTheNextIsServed) {
  Server s;
  EngineClient c = s.client();
  const std::string id = c.submit(slow_run());
  while (c.status(id).state == JobState::Queued) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto t0 = Clock::now();
  c.cancel(id);
  EXPECT_EQ(wait_final(c, id), JobState::Cancelled);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 10.0);
  // A cancelled run has no result.
  try {
    c.result_bytes(id);
    ADD_FAILURE() << "a cancelled run gave a result";
  } catch (const RemoteError& e) {
    EXPECT_EQ(e.status, 409);
  }
  // Cancel through the client's JobControl (what the GUI's Cancel and Ctrl-C do): run_remote throws
  // Cancelled and the server's run ends cancelled.
  std::atomic<bool> stop{false};
  JobControl control;
  control.cancel = &stop;
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    stop = true;
  });
  EXPECT_THROW(run_remote(c, slow_run(), control), Cancelled);
  later.join();
  EXPECT_EQ(run_remote(c, short_run()).record.num_layers(), 6);
  EXPECT_EQ(s.server.runs_started(), 3);
}

TEST(RemoteServer, AClientThatDisconnectsMidRunCancelsItAndTheNextIsServed) {
  Server s;
  EngineClient c = s.client();
  const std::string id = c.submit(slow_run());
  {
    httplib::Client h = s.raw();
    int events = 0;
    // Read two events, then hang up (a GUI killed, a laptop lid closed).
    h.Get(("/v1/runs/" + id + "/events").c_str(), s.auth(), [&](const char* data, size_t n) {
      events += static_cast<int>(std::count(data, data + n, '\n') > 0);
      return events < 2;
    });
    EXPECT_GE(events, 2);
  }
  EXPECT_EQ(wait_final(c, id, 15), JobState::Cancelled);
  // A run submitted with cancel_on_disconnect false survives its client.
  httplib::Client h = s.raw();
  json body = to_json(short_run());
  body["cancel_on_disconnect"] = false;
  const auto r = h.Post("/v1/runs", s.auth(), body.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202);
  const std::string kept = json::parse(r->body)["id"];
  h.Get(("/v1/runs/" + kept + "/events").c_str(), s.auth(), [](const char*, size_t) { return false; });
  EXPECT_EQ(wait_final(c, kept), JobState::Done);
  EXPECT_GT(c.result_bytes(kept).size(), 1000u);
  EXPECT_EQ(run_remote(c, short_run()).record.num_layers(), 6);
}

TEST(RemoteServer, TwoClientsAtOnceGetTheirOwnRuns) {
  Server s;
  const std::string a = "One small text about the sea and its waves.", b = "Another, longer text: the mountain, the river, the valley below.";
  RemoteRun ra, rb;
  std::thread ta([&] {
    EngineClient c = s.client();
    ra = run_remote(c, short_run(a));
  });
  std::thread tb([&] {
    EngineClient c = s.client();
    rb = run_remote(c, short_run(b));
  });
  ta.join();
  tb.join();
  EXPECT_EQ(ra.record.text, a);
  EXPECT_EQ(rb.record.text, b);
  EngineClient c = s.client();
  EXPECT_EQ(comparable(run_remote(c, short_run(a)).record)["analysis"], comparable(ra.record)["analysis"]);
  EXPECT_EQ(comparable(run_remote(c, short_run(b)).record)["analysis"], comparable(rb.record)["analysis"]);
}

TEST(RemoteServer, TheQueueIsBounded) {
  ServerConfig config = loopback_config();
  config.limits.max_queue = 2;
  Server s(config);
  EngineClient c = s.client();
  const std::string first = c.submit(slow_run()), second = c.submit(slow_run());
  try {
    c.submit(short_run());
    ADD_FAILURE() << "a third run was queued past --queue 2";
  } catch (const RemoteError& e) {
    EXPECT_EQ(e.status, 503);
    EXPECT_NE(std::string(e.what()).find("queue is full"), std::string::npos) << e.what();
  }
  EXPECT_EQ(c.status(second).queue_position, 1);
  c.cancel(second);
  EXPECT_EQ(c.status(second).state, JobState::Cancelled);  // a queued run is cancelled at once
  c.cancel(first);
  EXPECT_EQ(wait_final(c, first), JobState::Cancelled);
  EXPECT_EQ(run_remote(c, short_run()).record.num_layers(), 6);
}

TEST(RemoteServer, LostConnectionIsAClearError) {
  std::string url;
  {
    Server s;
    url = s.server.url();
  }  // stopped: nothing listens there now
  EngineClient c(url, new_token());
  try {
    c.info();
    ADD_FAILURE() << "no error from a stopped server";
  } catch (const RemoteError& e) {
    EXPECT_EQ(e.status, 0);
    EXPECT_NE(std::string(e.what()).find("no answer from the engine"), std::string::npos) << e.what();
  }
  EXPECT_THROW(EngineClient("ftp://x:1", "t"), UsageError);
  EXPECT_THROW(EngineClient("http://host", "t"), UsageError);
}

// 1,000 mixed requests from 8 threads, bounded in count and time: every one answered with the
// status its kind deserves; latency percentiles and the process's memory before and after printed.
TEST(RemoteServer, StressThousandMixedRequests) {
  Server s;
  const auto rss_kib = [] {
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);)
      if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return 0L;
  };
  {
    EngineClient warm = s.client();
    run_remote(warm, short_run());  // the model loaded once before measuring
  }
  const long before = rss_kib();
  constexpr int kThreads = 8, kPerThread = 125;
  const auto deadline = Clock::now() + std::chrono::seconds(240);
  std::vector<std::vector<double>> latency(kThreads);
  std::atomic<int> unanswered{0}, wrong{0}, runs{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      httplib::Client h = s.raw();
      std::mt19937 rng(1234 + t);
      for (int i = 0; i < kPerThread && Clock::now() < deadline; ++i) {
        const int kind = static_cast<int>(rng() % 10);
        const auto t0 = Clock::now();
        int expect = 200;
        const auto send = [&]() -> httplib::Result {
          switch (kind) {
            case 0: return h.Get("/v1/info", s.auth());
            case 1: return h.Get("/v1/models", s.auth());
            case 2: return h.Post("/v1/tokenize", s.auth(), json{{"model", "demo-model"}, {"text", kText}}.dump(), "application/json");
            case 3: expect = 400; return h.Post("/v1/runs", s.auth(), "{\"model\": [", "application/json");
            case 4: expect = 400; return h.Post("/v1/runs", s.auth(), json{{"model", "/etc"}, {"text", "x"}}.dump(), "application/json");
            case 5: expect = 401; return h.Get("/v1/info");
            case 6: expect = 404; return h.Get("/v1/runs/abcdef0123456789", s.auth());
            case 7: expect = 400; return h.Post("/v1/tokenize", s.auth(), std::string(1000, '{'), "application/json");
            case 8: expect = 401; return h.Get("/v1/info", {{"Authorization", "Bearer nope"}});
            default:
              if (i % 25 == 9) {  // a real run now and then: 202, or 503 when the queue is full
                ++runs;
                auto r = h.Post("/v1/runs", s.auth(), to_json(short_run("stress " + std::to_string(t * 1000 + i))).dump(),
                                "application/json");
                expect = r && r->status == 503 ? 503 : 202;
                return r;
              }
              return h.Get("/v1/runs", s.auth());
          }
        };
        const httplib::Result r = send();
        latency[t].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (!r) ++unanswered;
        else if (r->status != expect || !json::parse(r->body, nullptr, false).is_structured()) ++wrong;
      }
    });
  for (auto& th : threads) th.join();
  ASSERT_LT(Clock::now(), deadline) << "the stress test ran out of time";
  std::vector<double> all;
  for (const auto& v : latency) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  const auto pct = [&](double p) { return all[std::min(all.size() - 1, static_cast<size_t>(p * static_cast<double>(all.size())))]; };
  EngineClient c = s.client();
  EXPECT_EQ(c.info().protocol, kProtocolVersion);  // still serving
  const long after = rss_kib();
  std::printf("[stress] %zu requests (%d runs) from %d threads: latency p50 %.2f ms, p90 %.2f, p99 %.2f, max %.2f; "
              "unanswered %d, wrong status %d; RSS %ld -> %ld MiB\n",
              all.size(), runs.load(), kThreads, pct(0.5), pct(0.9), pct(0.99), all.back(), unanswered.load(), wrong.load(),
              before / 1024, after / 1024);
  EXPECT_EQ(unanswered, 0);
  EXPECT_EQ(wrong, 0);
  EXPECT_LT(after - before, 512 * 1024) << "the server's memory grew by more than 512 MiB";
}

// The real binary: `run --engine` prints what a local `run` prints, --save keeps the session.
class RemoteCli : public clitest::TempDirTest {};

TEST_F(RemoteCli, RunEnginePrintsWhatALocalRunPrints) {
  Server s;
  std::ofstream(dir_ / "tok") << s.config.token << "\n";
  const std::vector<std::string> common = {"--text", kText, "--tau", "0.4", "--ppl", "--format", "json", "--quiet"};
  std::vector<std::string> remote = {"run", "--engine", s.server.url(), "--token-file", (dir_ / "tok").string(),
                                     "--model", "demo-model", "--save", (dir_ / "r.h5").string(), "--with-activations"};
  remote.insert(remote.end(), common.begin(), common.end());
  std::vector<std::string> local = {"run", "--save", (dir_ / "l.h5").string(), "--with-activations"};
  local.insert(local.end(), common.begin(), common.end());
  const auto r = run(remote);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto l = run(local);
  ASSERT_EQ(l.code, 0) << l.err;
  json jr = json::parse(r.out), jl = json::parse(l.out);
  jr.erase("timings_ms"), jl.erase("timings_ms");
  EXPECT_EQ(jr, jl);
  EXPECT_EQ(comparable(data::read_session((dir_ / "r.h5").string())), comparable(data::read_session((dir_ / "l.h5").string())));
  // The token from the environment; the model defaults to the engine's first.
  setenv("CASCADELENS_TOKEN", s.config.token.c_str(), 1);
  const auto e = run({"run", "--engine", s.server.url(), "--text", kText, "--tau", "0.4", "--ppl", "--format", "json"});
  unsetenv("CASCADELENS_TOKEN");
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_NE(e.err.find("using the engine's first model demo-model"), std::string::npos) << e.err;
  json je = json::parse(e.out);
  je.erase("timings_ms");
  EXPECT_EQ(je, jl);
}

TEST_F(RemoteCli, RunEngineErrorsExitAsLocalOnesDo) {
  Server s;
  std::ofstream(dir_ / "tok") << s.config.token << "\n";
  std::ofstream(dir_ / "bad") << "0000\n";
  const std::string tok = (dir_ / "tok").string();
  auto r = run({"run", "--engine", s.server.url(), "--token-file", tok, "--model", "/etc"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("never a path"), std::string::npos) << r.err;
  r = run({"run", "--engine", s.server.url(), "--token-file", tok, "--ids", "1,99999999"});
  EXPECT_EQ(r.code, 3) << r.err;  // bad input, as a local run
  EXPECT_NE(r.err.find("outside the model's vocabulary"), std::string::npos) << r.err;
  r = run({"run", "--engine", s.server.url(), "--token-file", (dir_ / "bad").string()});
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("401"), std::string::npos) << r.err;
  r = run({"run", "--engine", s.server.url(), "--token-file", tok, "--generate", "3"});
  EXPECT_EQ(r.code, 2) << r.err;
  r = run({"run", "--engine", "http://127.0.0.1:1", "--token-file", tok});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("no answer from the engine at 127.0.0.1:1"), std::string::npos) << r.err;
  r = run({"run", "--token-file", tok});
  EXPECT_EQ(r.code, 2) << r.err;
}

}  // namespace
}  // namespace cascade::remote
