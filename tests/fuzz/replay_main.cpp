// Replays inputs through LLVMFuzzerTestOneInput without libFuzzer (any compiler): every file
// named on the command line, and every regular file inside each folder named (not recursive,
// sorted by name). CTest runs it over tests/fuzz/corpus (fuzz_session_corpus_replay); a crash,
// an abort or a non-InputError exception fails the test. Exit status 1 when no input ran.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace fs = std::filesystem;

namespace {

const char* program = "fuzz_replay";  // argv[0]

bool run_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "%s: cannot read %s\n", program, p.c_str());
    return false;
  }
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::fprintf(stderr, "  %s (%zu bytes)\n", p.c_str(), bytes.size());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE_OR_FOLDER...\n", argv[0]);
    return 2;
  }
  program = argv[0];
  size_t ran = 0;
  bool ok = true;
  for (int i = 1; i < argc; ++i) {
    const fs::path arg(argv[i]);
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(arg, ec))
        if (e.is_regular_file()) files.push_back(e.path());
      if (ec) {
        std::fprintf(stderr, "%s: cannot list %s: %s\n", program, arg.c_str(), ec.message().c_str());
        ok = false;
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) ran += run_file(f) ? 1 : 0;
    } else if (fs::is_regular_file(arg, ec)) {
      ran += run_file(arg) ? 1 : 0;
    } else {
      std::fprintf(stderr, "%s: no such file or folder: %s\n", program, arg.c_str());
      ok = false;
    }
  }
  std::printf("%s: ran %zu inputs\n", program, ran);
  return ok && ran > 0 ? 0 : 1;
}
