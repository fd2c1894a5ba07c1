#include "data/formats/npy.h"
#include "data/formats/atomic_write.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <numeric>
#include <string_view>

#include "core/errors.h"
#include "data/formats/activation_io.h"
#include "data/formats/io_util.h"

namespace cascade::data {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the readers assume a little-endian host");

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
constexpr int kMaxRank = 64;  // numpy's own NPY_MAXDIMS (32 before numpy 2)

// One value of the header dict. numpy writes only strings, booleans and tuples of integers.
struct PyValue {
  enum Kind { kString, kBool, kInt, kTuple, kNone } kind = kNone;
  std::string text;
  bool flag = false;
  int64_t number = 0;
  std::vector<int64_t> items;
};

// A recursive-descent parser for the Python literal `np.save` writes, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }. Written by hand instead of
// pattern-matched so that reordered keys, double quotes, extra spaces and "3L" (Python 2) all work.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& path) : s_(text), path_(path) {}

  std::map<std::string, PyValue> parse_dict() {
    std::map<std::string, PyValue> dict;
    expect('{');
    while (!consume('}')) {
      std::string key = parse_string();
      expect(':');
      dict[key] = parse_value();
      if (!consume(',')) {
        expect('}');
        break;
      }
    }
    return dict;
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw InputError(path_, "malformed .npy header: " + problem + " at character " + std::to_string(pos_));
  }
  void skip_space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool consume(char c) {
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!consume(c)) fail(std::string("expected '") + c + "'");
  }
  bool consume_word(std::string_view word) {
    skip_space();
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  std::string parse_string() {
    skip_space();
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) fail("expected a quoted string");
    const char quote = s_[pos_++];
    const size_t end = s_.find(quote, pos_);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string out(s_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return out;
  }

  int64_t parse_int() {
    skip_space();
    const size_t start = pos_;
    int64_t value = 0;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
      if (value > (INT64_MAX - 9) / 10) fail("integer too large");
      value = value * 10 + (s_[pos_++] - '0');
    }
    if (pos_ == start) fail("expected a non-negative integer");
    if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;  // Python 2 long literal
    return value;
  }

  PyValue parse_value() {
    PyValue v;
    skip_space();
    if (pos_ >= s_.size()) fail("unexpected end");
    const char c = s_[pos_];
    if (c == '\'' || c == '"') {
      v.kind = PyValue::kString;
      v.text = parse_string();
    } else if (consume_word("True")) {
      v.kind = PyValue::kBool;
      v.flag = true;
    } else if (consume_word("False")) {
      v.kind = PyValue::kBool;
    } else if (consume_word("None")) {
      v.kind = PyValue::kNone;
    } else if (c == '(') {
      v.kind = PyValue::kTuple;
      ++pos_;
      while (!consume(')')) {
        v.items.push_back(parse_int());
        if (!consume(',')) {
          expect(')');
          break;
        }
      }
    } else if (c == '[') {
      fail("a structured dtype (a list of fields) is not supported");
    } else {
      v.kind = PyValue::kInt;
      v.number = parse_int();
    }
    return v;
  }

  std::string_view s_;
  size_t pos_ = 0;
  const std::string& path_;
};

struct NpyDtype {
  at::ScalarType type;
  bool big_endian;
  int64_t itemsize;
};

NpyDtype npy_dtype(const std::string& descr, const std::string& path) {
  // '<' little, '>' big, '=' native, '|' not applicable (numpy only uses it for 1-byte types).
  if (descr.size() >= 3 && std::string("<>=|").find(descr[0]) != std::string::npos && descr[1] == 'f') {
    const std::string size = descr.substr(2);
    const bool big = descr[0] == '>';
    if (size == "2") return {at::kHalf, big, 2};
    if (size == "4") return {at::kFloat, big, 4};
    if (size == "8") return {at::kDouble, big, 8};
  }
  if (descr == "<V2" || descr == "|V2" || descr == "V2" || descr.find("bfloat16") != std::string::npos)
    throw InputError(path, "dtype '" + descr + "' (probably bfloat16) cannot be read from .npy; " +
                               "save float32 or float16, or use .safetensors for bfloat16");
  throw InputError(path, "dtype '" + descr + "' is not supported (expected a float array: '<f2', '<f4' or '<f8')");
}

uint64_t read_le(const unsigned char* bytes, int count) {
  uint64_t value = 0;
  for (int i = count - 1; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

// Checks that the header's shape and dtype account for exactly the bytes after the header.
void check_data_size(const NpyHeader& header, const NpyDtype& dtype, uint64_t file_size, const std::string& path) {
  uint64_t numel = 1;
  for (int64_t dim : header.shape)
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(dim), &numel))
      throw InputError(path, "header shape " + shape_text(header.shape) + " is impossibly large");
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(numel, static_cast<uint64_t>(dtype.itemsize), &bytes))
    throw InputError(path, "header shape " + shape_text(header.shape) + " is impossibly large");
  const uint64_t held = file_size - static_cast<uint64_t>(header.data_offset);
  if (bytes == held) return;
  const std::string says = "header says " + shape_text(header.shape) + " " + header.descr + " = " +
                           std::to_string(bytes) + " bytes but the file holds " + std::to_string(held);
  if (bytes > held) throw InputError(path, "file is truncated: " + says);
  throw InputError(path, says + " (extra bytes after the array)");
}

void byteswap_in_place(void* data, int64_t numel, int64_t itemsize) {
  auto* bytes = static_cast<unsigned char*>(data);
  for (int64_t i = 0; i < numel; ++i) std::reverse(bytes + i * itemsize, bytes + (i + 1) * itemsize);
}

}  // namespace

NpyHeader read_npy_header(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw InputError(path, "cannot open for reading");
  const uint64_t file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  unsigned char pre[12] = {};
  in.read(reinterpret_cast<char*>(pre), static_cast<std::streamsize>(std::min<uint64_t>(file_size, 12)));
  if (file_size < 10 || std::memcmp(pre, kMagic, kMagicLen) != 0)
    throw InputError(path, "not an .npy file (it does not start with \\x93NUMPY)");

  const int major = pre[6], minor = pre[7];
  uint64_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = read_le(pre + 8, 2);
    header_start = 10;
  } else if ((major == 2 || major == 3) && file_size >= 12) {
    header_len = read_le(pre + 8, 4);
    header_start = 12;
  } else {
    throw InputError(path, "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor));
  }
  if (header_len > file_size - header_start)
    throw InputError(path, "header length " + std::to_string(header_len) + " runs past the end of the file (" +
                               std::to_string(file_size) + " bytes)");

  std::string text(header_len, '\0');
  in.seekg(static_cast<std::streamoff>(header_start));
  in.read(text.data(), static_cast<std::streamsize>(header_len));
  if (!in) throw InputError(path, "could not read the .npy header");

  const auto dict = HeaderParser(text, path).parse_dict();
  auto field = [&](const char* key, PyValue::Kind kind, const char* what) -> const PyValue& {
    auto it = dict.find(key);
    if (it == dict.end()) throw InputError(path, std::string("malformed .npy header: no '") + key + "' key");
    if (it->second.kind != kind)
      throw InputError(path, std::string("malformed .npy header: '") + key + "' is not " + what);
    return it->second;
  };
  NpyHeader header;
  header.descr = field("descr", PyValue::kString, "a dtype string").text;
  header.fortran_order = field("fortran_order", PyValue::kBool, "True or False").flag;
  header.shape = field("shape", PyValue::kTuple, "a tuple").items;
  header.data_offset = static_cast<int64_t>(header_start + header_len);
  if (header.shape.size() > kMaxRank)
    throw InputError(path, "rank " + std::to_string(header.shape.size()) + " is beyond numpy's limit");
  check_data_size(header, npy_dtype(header.descr, path), file_size, path);
  return header;
}

at::Tensor read_npy(const std::string& path) {
  const NpyHeader header = read_npy_header(path);
  const NpyDtype dtype = npy_dtype(header.descr, path);
  // Fortran order is C order of the reversed shape; read that way, then transpose back.
  std::vector<int64_t> stored = header.shape;
  if (header.fortran_order) std::reverse(stored.begin(), stored.end());
  at::Tensor tensor = allocate_for(path, stored, dtype.type);

  std::ifstream in(path, std::ios::binary);
  in.seekg(header.data_offset);
  const auto nbytes = static_cast<std::streamsize>(tensor.numel() * dtype.itemsize);
  in.read(static_cast<char*>(tensor.data_ptr()), nbytes);
  if (in.gcount() != nbytes)
    throw InputError(path, "file is truncated: read " + std::to_string(in.gcount()) + " of " +
                               std::to_string(nbytes) + " data bytes");
  if (dtype.big_endian) byteswap_in_place(tensor.data_ptr(), tensor.numel(), dtype.itemsize);
  if (header.fortran_order && tensor.dim() > 1) {
    std::vector<int64_t> reverse(tensor.dim());
    std::iota(reverse.rbegin(), reverse.rend(), 0);
    tensor = tensor.permute(reverse).contiguous();
  }
  return tensor;
}

void write_npy(const std::string& path, const at::Tensor& tensor) {
  const at::Tensor t = tensor.cpu().contiguous();
  std::string descr;
  switch (t.scalar_type()) {
    case at::kFloat: descr = "<f4"; break;
    case at::kHalf: descr = "<f2"; break;
    case at::kDouble: descr = "<f8"; break;
    default:
      throw UsageError(path + ": .npy stores float32, float16 or float64, not " + c10::toString(t.scalar_type()) +
                       " (bfloat16 goes to .safetensors)");
  }
  // numpy's own spelling of a tuple: "(2, 3)", "(5,)" and "()".
  std::string shape = "(";
  for (int64_t i = 0; i < t.dim(); ++i) shape += (i ? ", " : "") + std::to_string(t.size(i));
  shape += t.dim() == 1 ? ",)" : ")";
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";

  // Version 1.0 unless the header needs more than a uint16 length; data aligned to 64 bytes.
  const bool v2 = header.size() + 1 + 10 > 65535;
  const size_t prefix = v2 ? 12 : 10;
  header.append((64 - (prefix + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string out(kMagic, kMagicLen);
  out += static_cast<char>(v2 ? 2 : 1);
  out += '\0';
  for (size_t i = 0; i < (v2 ? 4u : 2u); ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  out += header;

  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
    file.write(out.data(), static_cast<std::streamsize>(out.size()));
    file.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
    file.close();
    if (!file) throw Error(path + ": cannot write .npy file (disk full, or no permission?)");
  });
}

}  // namespace cascade::data
