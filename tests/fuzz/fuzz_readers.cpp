// libFuzzer target for every reader of untrusted input other than the session file (which has
// fuzz_session_reader.cpp): the reader is chosen by FUZZ_READER (names below). Every byte string,
// written to the reader's file, must read or throw cascade::InputError (cascade::Error for the
// remote request parser's ProtocolError) — never crash, never throw anything else. What a reader
// builds is used a little (a tokenizer encodes a text, tensors are read), so the fuzzer also reaches
// what a half-valid file does later. Built with clang (-fsanitize=fuzzer,address) when
// CASCADE_BUILD_FUZZ is ON, and with replay_main.cpp into fuzz_readers_replay for CTest.
// See tests/fuzz/README.md.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/tokenizer.h"
#include "data/formats/hdf5_activations.h"
#include "data/formats/npy.h"
#include "data/formats/safetensors.h"
#include "data/formats/tensor_file.h"
#include "data/hf/hf_model.h"
#include "data/remote/protocol.h"
#include "data/study/study_file.h"
#include "data/tokenizers/tokenizer_loader.h"

namespace fs = std::filesystem;
using namespace cascade;

namespace {

// One folder per process; each reader writes its input under the name it reads.
const fs::path& folder() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("fuzz_readers." + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

std::string put(const std::string& name, const uint8_t* data, size_t size) {
  const fs::path p = folder() / name;
  std::FILE* f = std::fopen(p.c_str(), "wb");
  if (!f || (size > 0 && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror(p.c_str());
    std::abort();
  }
  return p.string();
}

// Two files from one input: the bytes before the first "\n@@\n" and after it.
std::pair<std::string, std::string> split(const uint8_t* data, size_t size) {
  const std::string s(reinterpret_cast<const char*>(data), size);
  const size_t at = s.find("\n@@\n");
  if (at == std::string::npos) return {s, ""};
  return {s.substr(0, at), s.substr(at + 4)};
}

void use(const Tokenizer& t) {
  static const char* const kTexts[] = {"Hello world, 123 h\xc3\xa9llo!", " \n\t  <s></s><|endoftext|>", "\xe2\x96\x81\xf0\x9f\x98\x80 x"};
  for (const char* text : kTexts) {
    const auto ids = t.encode(text, true);
    (void)t.decode(ids);
  }
}

using Reader = std::function<void(const uint8_t*, size_t)>;

const std::map<std::string, Reader>& readers() {
  static const std::map<std::string, Reader> r = {
      {"npy", [](const uint8_t* d, size_t n) { (void)data::read_npy(put("x.npy", d, n)); }},
      {"safetensors",
       [](const uint8_t* d, size_t n) {
         const std::string p = put("x.safetensors", d, n);
         const data::SafetensorsFile f(p);
         for (const auto& e : f.entries()) (void)f.read(e);
         const auto mapped = data::open_safetensors_mapped(p);
         for (const auto& name : mapped->names()) (void)mapped->get(name);
       }},
      {"hdf5_activations", [](const uint8_t* d, size_t n) { (void)data::read_hdf5_hidden_states(put("x.h5", d, n), /*isolate=*/false); }},
      {"config", [](const uint8_t* d, size_t n) {
         put("config.json", d, n);
         (void)data::read_hf_config(folder().string());
       }},
      {"tokenizer_json",
       [](const uint8_t* d, size_t n) { use(*data::load_hf_tokenizer_json(put("tokenizer.json", d, n), 1)); }},
      {"vocab_merges",
       [](const uint8_t* d, size_t n) {
         const auto [vocab, merges] = split(d, n);
         const std::string v = put("vocab.json", reinterpret_cast<const uint8_t*>(vocab.data()), vocab.size());
         const std::string m = put("merges.txt", reinterpret_cast<const uint8_t*>(merges.data()), merges.size());
         use(*data::load_gpt2_bpe(v, m));
       }},
      {"tokens_json", [](const uint8_t* d, size_t n) { use(*data::load_llama2c_tokens(put("tokens.json", d, n))); }},
      {"tokenizer_model",
       [](const uint8_t* d, size_t n) { use(*data::load_sentencepiece_model(put("tokenizer.model", d, n))); }},
      {"pytorch_bin",
       [](const uint8_t* d, size_t n) {
         const auto f = data::open_torch_zip(put("pytorch_model.bin", d, n));
         for (const auto& name : f->names()) (void)f->get(name);
       }},
      {"study",
       [](const uint8_t* d, size_t n) {
         study::Aggregates agg;
         (void)data::read_study(put("study.h5", d, n), &agg, /*isolate=*/false);
       }},
      {"remote_request",
       [](const uint8_t* d, size_t n) {
         remote::Limits limits;
         const nlohmann::json body = remote::parse_body(std::string(reinterpret_cast<const char*>(d), n), limits);
         (void)remote::to_json(remote::parse_run_options(body, limits));
       }},
  };
  return r;
}

const Reader& chosen() {
  static const Reader* reader = [] {
    const char* name = std::getenv("FUZZ_READER");
    const auto it = name ? readers().find(name) : readers().end();
    if (it == readers().end()) {
      std::fprintf(stderr, "fuzz_readers: set FUZZ_READER to one of:");
      for (const auto& [n, _] : readers()) std::fprintf(stderr, " %s", n.c_str());
      std::fprintf(stderr, "\n");
      std::exit(2);
    }
    return &it->second;
  }();
  return *reader;
}

struct RemoveAtExit {
  ~RemoveAtExit() {
    std::error_code ec;
    fs::remove_all(folder(), ec);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const RemoveAtExit cleanup;
  static const bool verbose = std::getenv("FUZZ_VERBOSE") != nullptr;
  const Reader& read = chosen();
  try {
    read(data, size);
    if (verbose) std::fprintf(stderr, "reads\n");
  } catch (const InputError& e) {  // a malformed file: expected
    if (verbose) std::fprintf(stderr, "InputError: %s\n", e.what());
  } catch (const remote::ProtocolError& e) {  // a malformed request: a 4xx
    if (verbose) std::fprintf(stderr, "ProtocolError %d: %s\n", e.status, e.what());
  }
  // anything else escapes and aborts the fuzzer
  return 0;
}
