// sentencepiece (through libcascade_spm.so) behind the Tokenizer interface.
#include "data/tokenizers/sp_model_tokenizer.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "core/errors.h"
#include "data/tokenizers/sp_tokenizer.h"
#include "data/tokenizers/spm_backend.h"
#include "data/tokenizers/unicode_props.h"

namespace cascade::data {
namespace {

namespace fs = std::filesystem;

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) s.replace(pos, from.size(), to);
  return s;
}

std::vector<std::string> module_candidates() {
  std::vector<std::string> out;
  if (const char* env = std::getenv("CASCADE_SPM_MODULE")) out.emplace_back(env);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    out.push_back((exe.parent_path() / "libcascade_spm.so").string());
    out.push_back((exe.parent_path().parent_path() / "lib" / "cascadelens" / "libcascade_spm.so").string());
  }
#ifdef CASCADE_SPM_MODULE_PATH
  out.emplace_back(CASCADE_SPM_MODULE_PATH);
#endif
  return out;
}

// ASan and TSan refuse RTLD_DEEPBIND (google/sanitizers#611), and without it the module's
// protobuf-lite clashes with LibTorch's: a sanitizer build (CASCADE_SANITIZED, or a fuzz build
// with ASan) cannot read tokenizer.model files, and says so.
#if defined(CASCADE_SANITIZED) || defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// The module's create function, opened once; null and `why` when it cannot be found or opened.
SpmCreateFn create_function(std::string& why) {
  static std::once_flag once;
  static SpmCreateFn create = nullptr;
  static std::string error;
  std::call_once(once, [] {
    if (kSanitized) {
      error = "this is a sanitizer build, which cannot open the sentencepiece module (ASan and TSan refuse "
              "RTLD_DEEPBIND, which keeps its protobuf apart from LibTorch's)";
      return;
    }
    for (const std::string& path : module_candidates()) {
      if (!fs::is_regular_file(path)) continue;
      void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);  // never closed
      if (!handle) {
        error = std::string("cannot open ") + path + ": " + dlerror();
        return;
      }
      create = reinterpret_cast<SpmCreateFn>(dlsym(handle, kSpmCreateSymbol));
      if (!create) error = path + " has no " + kSpmCreateSymbol;
      return;
    }
    error = "the sentencepiece module libcascade_spm.so was not found (set CASCADE_SPM_MODULE)";
  });
  why = error;
  return create;
}

}  // namespace

SentencePieceModelTokenizer::SentencePieceModelTokenizer(const std::string& path) {
  std::string why;
  const SpmCreateFn create = create_function(why);
  if (!create) throw InputError(path, why);
  backend_.reset(create(path.c_str(), &why));
  if (!backend_) throw InputError(path, "not a sentencepiece model (" + why + ")");
  add_bos_id_ = model_bos_id();
}

SentencePieceModelTokenizer::~SentencePieceModelTokenizer() = default;

std::optional<int64_t> SentencePieceModelTokenizer::model_bos_id() const {
  const int id = backend_->bos_id();
  return id >= 0 ? std::optional<int64_t>(id) : std::nullopt;
}

std::optional<int64_t> SentencePieceModelTokenizer::piece_id(const std::string& piece) const {
  const int id = backend_->piece_to_id(piece);
  if (id == backend_->unk_id() && backend_->piece(id) != piece) return std::nullopt;
  return id;
}

int64_t SentencePieceModelTokenizer::vocab_size() const { return backend_->size(); }

void SentencePieceModelTokenizer::check(int64_t id) const {
  if (id < 0 || id >= vocab_size())
    throw UsageError("token id " + std::to_string(id) + " out of range [0, " + std::to_string(vocab_size()) + ")");
}

Encoding SentencePieceModelTokenizer::encode_detailed(const std::string& text, bool add_special) const {
  std::vector<int> ids;
  std::vector<std::string> pieces;
  std::vector<std::pair<size_t, size_t>> spans;
  std::string error;
  if (!backend_->encode(text, ids, pieces, spans, error)) throw UsageError("sentencepiece cannot encode the text: " + error);
  Encoding e;
  if (add_special && add_bos_id_) {
    e.ids.push_back(*add_bos_id_);
    e.tokens.push_back(backend_->piece(static_cast<int>(*add_bos_id_)));
    e.offsets.emplace_back(0, 0);
  }
  e.ids.insert(e.ids.end(), ids.begin(), ids.end());
  e.tokens.insert(e.tokens.end(), pieces.begin(), pieces.end());
  e.offsets.insert(e.offsets.end(), spans.begin(), spans.end());
  return e;
}

std::vector<int64_t> SentencePieceModelTokenizer::encode(const std::string& text, bool add_special) const {
  return encode_detailed(text, add_special).ids;
}

std::string SentencePieceModelTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::vector<int> pieces;
  pieces.reserve(ids.size());
  for (const int64_t id : ids) {
    check(id);
    pieces.push_back(static_cast<int>(id));
  }
  std::string text, error;
  if (!backend_->decode(pieces, text, error)) throw UsageError("sentencepiece cannot decode the ids: " + error);
  return text;
}

std::string SentencePieceModelTokenizer::display(int64_t id) const {
  check(id);
  const int i = static_cast<int>(id);
  const std::string& piece = backend_->piece(i);
  switch (backend_->type(i)) {
    case SpmBackend::PieceType::kControl:
    case SpmBackend::PieceType::kUnknown: {
      const size_t first = piece.find_first_not_of(" \t\r\n"), last = piece.find_last_not_of(" \t\r\n");
      return first == std::string::npos ? piece : piece.substr(first, last - first + 1);
    }
    case SpmBackend::PieceType::kByte:
      if (const auto b = byte_piece_value(piece)) return unicode::visible(std::string(1, static_cast<char>(*b)));
      [[fallthrough]];
    default:
      return unicode::visible(replace_all(piece, "\xE2\x96\x81", " "));
  }
}

}  // namespace cascade::data
