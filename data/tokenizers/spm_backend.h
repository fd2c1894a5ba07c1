#pragma once
// The sentencepiece library behind a plain interface, in a module of its own (libcascade_spm.so).
// Why a module: Debian's libsentencepiece carries its own protobuf-lite 3.14 and exports those
// symbols, which clash with the protobuf 3.21 LibTorch loads (the process crashes in protobuf's
// start-up). The module is opened with RTLD_LOCAL | RTLD_DEEPBIND, so each keeps its own copy.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace cascade::data {

class SpmBackend {
 public:
  enum class PieceType { kNormal, kControl, kUnknown, kByte, kUnused };
  virtual ~SpmBackend() = default;
  // Pieces of `text` with the input bytes each covers; false and `error` when it fails.
  virtual bool encode(const std::string& text, std::vector<int>& ids, std::vector<std::string>& pieces,
                      std::vector<std::pair<size_t, size_t>>& spans, std::string& error) const = 0;
  virtual bool decode(const std::vector<int>& ids, std::string& text, std::string& error) const = 0;
  virtual int size() const = 0;
  virtual int bos_id() const = 0;  // -1: none
  virtual const std::string& piece(int id) const = 0;
  virtual PieceType type(int id) const = 0;
  virtual int piece_to_id(const std::string& piece) const = 0;  // unk_id when absent
  virtual int unk_id() const = 0;
};

// The module's one exported function: a backend for the model file, or null and `error`.
using SpmCreateFn = SpmBackend* (*)(const char* path, std::string* error);
inline constexpr const char* kSpmCreateSymbol = "cascade_spm_create";

}  // namespace cascade::data
