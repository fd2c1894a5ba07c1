// bench_llama_cpu: a Llama-3.2-1B-shaped model (random weights) on the CPU, through the same path a
// user's checkpoint takes: a sharded bf16 safetensors checkpoint with an index is written once to a
// folder, then
//   1. loading it in bfloat16 and in float32, each in a fresh child process: the dtype line
//      load_model prints, load time, and peak resident memory (VmHWM, with RssAnon/RssFile) after
//      the load and after a first 8-token forward (which touches every weight);
//   2. forward tokens/s at T = 512 in float32 (the CPU default), median of --reps after a warm-up,
//      next to a plain PyTorch forward of the same model on the same weights and ids
//      (llama_peer.py, Debian's python3-torch 1.13 = this LibTorch), in a child process that holds
//      its own copy; each repetition runs ours and then the peer's, so the machine's noise hits
//      both alike. The peer also reports max |Δ| of the last position's logits against ours.
// Run by hand (never by CTest):
//   build/tests/bench/bench_llama_cpu [--dir D] [--T 512] [--reps 3] [--layers 16] [--keep]
//                                     [--python /usr/bin/python3]
// D defaults to /tmp/cascade-bench-llama1b (~2.5 GB on disk for 16 layers; reused when present,
// removed at the end unless --keep). Memory: the float32 model takes ~4.6 GiB; during the forward
// comparison ours and the peer's are both held (~11 GiB together).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "core/model.h"
#include "core/version.h"
#include "data/formats/activation_io.h"
#include "data/hf/model_source.h"
#include "data/hf/weight_memory.h"
#include "llama_checkpoint.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace cascade;
using cascade::bench::Shape;
using cascade::bench::checkpoint_matches;
using cascade::bench::write_checkpoint;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

long status_kb(const char* key) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + std::strlen(key));
  return -1;
}

std::string memory_now() {
  char buf[160];
  std::snprintf(buf, sizeof buf, "VmHWM %.2f GiB (RssAnon %.2f, RssFile %.2f)", status_kb("VmHWM:") / 1048576.0,
                status_kb("RssAnon:") / 1048576.0, status_kb("RssFile:") / 1048576.0);
  return buf;
}

at::Tensor random_ids(int64_t T, int64_t vocab) {
  at::manual_seed(7);
  return at::randint(vocab, {T}, at::kLong);
}

// A child process: load in `dtype`, report memory, run 8 tokens, report again.
int child_load(const std::string& dir, const std::string& dtype) {
  data::ModelRequest request;
  request.spec = dir;
  request.dtype = parse_dtype(dtype);
  request.on_dtype_chosen = [](const data::DtypeChoice& c) { std::printf("  load_model: %s\n", c.message.c_str()); };
  const auto t0 = Clock::now();
  const data::LoadedModel m = data::load_model(request);
  const double load_s = seconds_since(t0);
  std::printf("  %s: loaded in %.1f s; %s\n", dtype.c_str(), load_s, memory_now().c_str());
  const auto t1 = Clock::now();
  m.model->forward(random_ids(8, m.config.vocab_size));
  std::printf("  %s: after an 8-token forward (%.1f s): %s\n", dtype.c_str(), seconds_since(t1), memory_now().c_str());
  return 0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// llama_peer.py as a child with pipes both ways: its output lines are echoed, except the protocol's.
class Peer {
 public:
  explicit Peer(const std::string& command) {
    int to_child[2], from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(to_child[0], 0);
      dup2(from_child[1], 1);
      close(to_child[1]);
      close(from_child[0]);
      execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    in_ = fdopen(to_child[1], "w");
    out_ = fdopen(from_child[0], "r");
  }
  // Echoes lines until one starts with `tag`; false at EOF.
  bool wait_for(const char* tag, std::string* line_out = nullptr) {
    char line[512];
    while (out_ && std::fgets(line, sizeof line, out_)) {
      if (std::strncmp(line, tag, std::strlen(tag)) == 0) {
        if (line_out) *line_out = line;
        return true;
      }
      std::fputs(line, stdout);
    }
    return false;
  }
  double run() {
    std::fputs("run\n", in_);
    std::fflush(in_);
    std::string line;
    return wait_for("SECONDS", &line) ? std::atof(line.c_str() + 8) : 0.0;
  }
  void finish() {
    if (in_) std::fclose(in_), in_ = nullptr;
    wait_for("\x01");  // echo the rest
    if (out_) std::fclose(out_), out_ = nullptr;
    if (pid_ > 0) waitpid(pid_, nullptr, 0), pid_ = -1;
  }
  ~Peer() { finish(); }

 private:
  pid_t pid_ = -1;
  FILE* in_ = nullptr;
  FILE* out_ = nullptr;
};

}  // namespace

int main(int argc, char** argv) {
  Shape shape;
  fs::path dir = "/tmp/cascade-bench-llama1b";
  int64_t T = 512;
  int reps = 3;
  bool keep = false;
  // Debian's interpreter, which has python3-torch (a pyenv or venv python3 on PATH may not).
  std::string python = fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--child-load") {  // internal: --child-load DIR DTYPE
      const std::string d = next();
      return child_load(d, next());
    }
    if (a == "--dir") dir = next();
    else if (a == "--T") T = std::atol(next().c_str());
    else if (a == "--reps") reps = std::atoi(next().c_str());
    else if (a == "--layers") shape.layers = std::atol(next().c_str());
    else if (a == "--keep") keep = true;
    else if (a == "--python") python = next();
  }
  const BlasInfo blas = detect_blas();
  std::printf("# bench_llama_cpu — Llama-3.2-1B shape (%lld layers), random weights, T = %lld\n\n",
              static_cast<long long>(shape.layers), static_cast<long long>(T));
  std::printf("- BLAS: %s, sgemm 512^3 %.0f GFLOP/s; LibTorch %s, %d intra-op threads\n", blas.name.c_str(),
              blas.sgemm_gflops, torch_version().c_str(), at::get_num_threads());
  const auto available = data::available_memory_bytes();
  std::printf("- MemAvailable at start: %s\n", available ? data::format_bytes(*available).c_str() : "unknown");

  if (!checkpoint_matches(dir, shape)) {
    std::printf("- writing the checkpoint to %s ...\n", dir.c_str());
    std::fflush(stdout);
    fs::remove_all(dir);
    const auto t0 = Clock::now();
    write_checkpoint(dir, shape);
    std::printf("  written in %.0f s\n", seconds_since(t0));
  }
  const data::WeightFootprint w = data::weight_footprint(dir.string());
  std::printf("- checkpoint: %s, %lld parameters, %s stored (bf16)\n\n", dir.c_str(), static_cast<long long>(w.parameters),
              data::format_bytes(w.stored_bytes).c_str());

  // 1. Peak memory of loading, one fresh process per dtype.
  std::printf("## Loading (fresh process each)\n\n");
  std::fflush(stdout);
  for (const char* dtype : {"bfloat16", "float32"}) {
    const std::string cmd = std::string(argv[0]) + " --child-load " + dir.string() + " " + dtype;
    if (std::system(cmd.c_str()) != 0) std::printf("  (%s child failed)\n", dtype);
    std::fflush(stdout);
  }

  // 2. Forward tokens/s, float32 (what the CPU chooses when it fits), interleaved with the peer:
  // each repetition runs ours, then the peer's, so the machine's noise hits both alike.
  std::printf("\n## Forward, T = %lld (each repetition: ours, then the peer's)\n\n", static_cast<long long>(T));
  std::vector<double> ours, theirs;
  {
    data::ModelRequest request;
    request.spec = dir.string();
    request.on_dtype_chosen = [](const data::DtypeChoice& c) { std::printf("  load_model: %s\n", c.message.c_str()); };
    const data::LoadedModel m = data::load_model(request);
    const at::Tensor ids = random_ids(T, m.config.vocab_size);
    const at::Tensor logits = m.model->forward(ids);  // warm-up
    // For the peer: the ids and our last position's logits.
    {
      std::ofstream ids_file(dir / "ids.txt");
      for (int64_t i = 0; i < T; ++i) ids_file << ids[i].item<int64_t>() << "\n";
    }
    data::write_npy((dir / "last_logits.npy").string(), logits[T - 1].contiguous());
    std::fflush(stdout);
    Peer peer(python + " " + CASCADE_SOURCE_DIR + "/tests/bench/llama_peer.py --dir " + dir.string());
    if (!peer.wait_for("READY")) {
      std::printf("  (the PyTorch peer failed: is python3-torch installed for %s?)\n", python.c_str());
      return 1;
    }
    for (int r = 0; r < reps; ++r) {
      const auto t0 = Clock::now();
      m.model->forward(ids);
      ours.push_back(seconds_since(t0));
      theirs.push_back(peer.run());
      std::printf("  repetition %d: cascade %.2f s, PyTorch %.2f s\n", r + 1, ours.back(), theirs.back());
      std::fflush(stdout);
    }
    peer.finish();  // prints the logits' difference
  }
  const double ours_s = median(ours), peer_s = median(theirs);
  std::printf("\n  cascade (LibTorch, float32): %.2f s median of %d -> %.1f tokens/s\n", ours_s, reps, T / ours_s);
  std::printf("  PyTorch peer (float32):      %.2f s median of %d -> %.1f tokens/s\n", peer_s, reps, T / peer_s);
  std::printf("  ratio cascade / PyTorch: %.2fx\n", peer_s / ours_s);
  if (!keep) {
    fs::remove_all(dir);
    std::printf("\n(removed %s)\n", dir.c_str());
  }
  return 0;
}
