// bench_remote: the remote engine (`cascadelens-cli serve`) on loopback against the same run in
// this process (run by hand, never by CTest). Both sides in one run, so the machine's noise hits
// both alike.
//   1. The bundled demo run as `cascadelens-cli run` makes it (its teaching text, τ = 0.3, no
//      sweep, no activations): local = run_model on the loaded model; remote = submit, follow the
//      events, fetch the session file, read it back (run_remote). The server keeps the model
//      loaded, as the local side does. Medians of --reps, alternating; target remote ≤ 1.1× local
//      + the transfer.
//   2. Bytes of the result for T = 8192, L = 32 with and without activations: a Llama of 32 thin
//      layers (d = --d, random weights, written as a checkpoint folder) run by the server on 8192
//      random ids; the bytes received, and those scaled to d = 4096 (the activations are L·T·d
//      float16 values; everything else does not depend on d).
//
//   build/tests/bench/bench_remote [--reps 7] [--d 64] [--T 8192] [--layers 32] [--skip-long]
#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/engine.h"
#include "core/version.h"
#include "data/hf/model_source.h"
#include "data/remote/engine_client.h"
#include "data/remote/engine_server.h"
#include "data/session/session_file.h"
#include "llama_checkpoint.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace cascade;

namespace {

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

remote::ServerConfig loopback(std::vector<std::string> models = {}) {
  remote::ServerConfig c;
  c.host = "127.0.0.1";
  c.port = 0;
  c.token = remote::new_token();
  c.models = std::move(models);
  return c;
}

void demo_run(int reps) {
  const std::string text = data::read_text_file(data::bundled_default_text_path());
  auto t0 = Clock::now();
  const data::LoadedModel model = data::load_model({data::bundled_model_dir(), DeviceKind::Cpu, std::nullopt});
  const double load_ms = ms_since(t0);
  RunRequest request = data::request_for(model, data::encode_text(model, text), text);  // run's defaults

  remote::ServerConfig config = loopback();
  remote::EngineServer server(config);
  server.start();
  remote::EngineClient client(server.url(), config.token);
  remote::RunOptions o;
  o.model = "demo-model";
  o.text = text;
  o.taus.clear();  // `run` without --save keeps no sweep

  std::vector<double> local_ms, remote_ms;
  size_t bytes = 0;
  int64_t T = 0, L = 0;
  for (int i = -1; i < reps; ++i) {  // i = -1: warm-up of both (the server loads its model)
    t0 = Clock::now();
    const RunRecord local = run_model(*model.model, request);
    const double l = ms_since(t0);
    t0 = Clock::now();
    const remote::RemoteRun r = remote::run_remote(client, o);
    const double m = ms_since(t0);
    if (r.record.analysis.layers.size() != local.analysis.layers.size() || r.record.ids != local.ids) {
      std::fprintf(stderr, "bench_remote: the remote run differs from the local one\n");
      std::exit(1);
    }
    for (size_t k = 0; k < local.analysis.layers.size(); ++k)
      if (local.analysis.layers[k].reps_casc != r.record.analysis.layers[k].reps_casc) {
        std::fprintf(stderr, "bench_remote: layer %zu's set differs remote vs local\n", k);
        std::exit(1);
      }
    bytes = r.session_bytes.size();
    T = static_cast<int64_t>(local.ids.size()), L = static_cast<int64_t>(local.analysis.layers.size());
    if (i >= 0) local_ms.push_back(l), remote_ms.push_back(m);
  }
  // Where the remote run's time goes: each step of run_remote on its own.
  std::vector<double> submit_ms, follow_ms, fetch_ms, read_ms;
  for (int i = 0; i < reps; ++i) {
    t0 = Clock::now();
    const std::string id = client.submit(o);
    submit_ms.push_back(ms_since(t0));
    t0 = Clock::now();
    client.follow(id);
    follow_ms.push_back(ms_since(t0));
    t0 = Clock::now();
    const std::string b = client.result_bytes(id);
    fetch_ms.push_back(ms_since(t0));
    t0 = Clock::now();
    const RunRecord back = remote::read_session_bytes(b);
    read_ms.push_back(ms_since(t0));
    client.cancel(id);
  }
  // The server's share of the transfer: writing the same record as a session file.
  std::vector<double> write_ms;
  {
    const RunRecord local = run_model(*model.model, request);
    const std::string path = (fs::temp_directory_path() / ("bench-remote-" + std::to_string(::getpid()) + ".h5")).string();
    for (int i = 0; i < reps; ++i) {
      t0 = Clock::now();
      data::write_session(path, local, {false});
      write_ms.push_back(ms_since(t0));
    }
    fs::remove(path);
  }
  const double transfer = median(write_ms) + median(fetch_ms) + median(read_ms);
  const double lm = median(local_ms), rm = median(remote_ms);
  std::printf("## 1. Bundled demo run (T = %lld, L = %lld), %d reps, medians\n\n", static_cast<long long>(T),
              static_cast<long long>(L), reps);
  std::printf("| model load (once, both) | local run | remote run (submit → events → result → read) | remote / local | "
              "remote − local | session bytes |\n|---|---|---|---|---|---|\n");
  std::printf("| %.0f ms | %.1f ms | %.1f ms | %.2fx | %.1f ms | %zu |\n\n", load_ms, lm, rm, rm / lm, rm - lm, bytes);
  std::printf("Remote steps (medians): submit %.1f ms, follow the events to the end (the run and the server's session "
              "write) %.1f ms, fetch the result %.1f ms, read it here %.1f ms.\n\n",
              median(submit_ms), median(follow_ms), median(fetch_ms), median(read_ms));
  std::printf("Transfer (the session written on the server %.1f ms + fetched + read here) = %.1f ms; target remote <= 1.1 x "
              "local + transfer = %.1f ms: remote %.1f ms, %s.\n\n",
              median(write_ms), transfer, 1.1 * lm + transfer, rm, rm <= 1.1 * lm + transfer ? "met" : "NOT met");
  server.stop();
}

void long_run(int64_t T, int64_t layers, int64_t d) {
  const fs::path dir = fs::temp_directory_path() / ("cascade-bench-remote-" + std::to_string(::getpid()));
  bench::Shape s;
  s.vocab = 512, s.hidden = d, s.layers = layers, s.heads = 2, s.kv_heads = 2, s.head_dim = d / 2, s.inter = 2 * d;
  bench::write_checkpoint(dir / "thin-llama", s);
  remote::ServerConfig config = loopback({(dir / "thin-llama").string()});
  config.limits.max_tokens = T;
  remote::EngineServer server(config);
  server.start();
  remote::EngineClient client(server.url(), config.token);
  std::mt19937 rng(7);
  remote::RunOptions o;
  o.model = "thin-llama";
  for (int64_t t = 0; t < T; ++t) o.ids.push_back(static_cast<int64_t>(rng() % 500) + 2);
  o.taus.clear();
  std::printf("## 2. Result bytes, T = %lld, L = %lld (a %lld-layer Llama, d = %lld, random weights; scaled to d = 4096)\n\n",
              static_cast<long long>(T), static_cast<long long>(layers), static_cast<long long>(layers),
              static_cast<long long>(d));
  std::printf("| activations | run (server) | fetch + read (client) | bytes received | at d = 4096 |\n|---|---|---|---|---|\n");
  size_t without = 0;
  for (bool acts : {false, true}) {
    o.with_activations = acts;
    auto t0 = Clock::now();
    const std::string id = client.submit(o);
    const remote::RunStatus end = client.follow(id);
    const double run_ms = ms_since(t0);
    if (end.state != remote::JobState::Done) {
      std::fprintf(stderr, "bench_remote: the long run ended %s: %s\n", remote::to_string(end.state).c_str(), end.error.c_str());
      std::exit(1);
    }
    t0 = Clock::now();
    const std::string bytes = client.result_bytes(id);
    const RunRecord back = remote::read_session_bytes(bytes);
    const double fetch_ms = ms_since(t0);
    client.cancel(id);
    if (!acts) without = bytes.size();
    const double xhat = static_cast<double>(layers) * static_cast<double>(T) * 2.0;  // bytes per unit of d
    const double at_4096 = acts ? static_cast<double>(without) + xhat * 4096 : static_cast<double>(bytes.size());
    std::printf("| %s | %.1f s | %.2f s | %.2f MiB (%zu) | %.1f MiB |\n", acts ? "yes" : "no", run_ms / 1000, fetch_ms / 1000,
                static_cast<double>(bytes.size()) / (1 << 20), bytes.size(), at_4096 / (1 << 20));
    if (acts)
      std::printf("\nActivations measured: %.2f MiB over the file without them; L·T·d·2 = %.2f MiB.\n",
                  static_cast<double>(bytes.size() - without) / (1 << 20), xhat * static_cast<double>(d) / (1 << 20));
    (void)back;
  }
  server.stop();
  fs::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 7;
  int64_t d = 64, T = 8192, layers = 32;
  bool skip_long = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::atol(argv[++i]) : 0L; };
    if (a == "--reps") reps = static_cast<int>(next());
    else if (a == "--d") d = next();
    else if (a == "--T") T = next();
    else if (a == "--layers") layers = next();
    else if (a == "--skip-long") skip_long = true;
    else {
      std::fprintf(stderr, "usage: bench_remote [--reps N] [--d D] [--T T] [--layers L] [--skip-long]\n");
      return 2;
    }
  }
  std::printf("bench_remote: Cascade Lens %s, %s\n\n", version().c_str(), detect_blas().name.c_str());
  demo_run(std::max(1, reps));
  if (!skip_long) long_run(T, layers, d);
  return 0;
}
