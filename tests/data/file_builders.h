#pragma once
// Test helpers that assemble input files byte by byte, independently of cascade_data's writers,
// plus a fixture that gives every test its own temporary folder.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <unistd.h>

#include "core/errors.h"

namespace cascade::data::testing {

namespace fs = std::filesystem;

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("cascade_data_" + std::string(info->name()) + "_" +
                                        std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

template <class T>
std::string raw(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

inline std::string little_endian(uint64_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}

// Distinct values that float16 and bfloat16 hold exactly: multiples of 1/8 in [-6, 6.5].
inline std::vector<float> sample_values(size_t n, float offset = 0) {
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>((i * 37) % 101) * 0.125f - 6.0f + offset;
  return out;
}

inline uint32_t float_bits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return bits;
}

// IEEE half by hand, for normal numbers and zero whose mantissa fits 10 bits (all sample_values).
inline uint16_t half_bits(float f) {
  const uint32_t bits = float_bits(f);
  EXPECT_EQ(bits & 0x1fff, 0u) << f << " is not exact in float16";
  const uint32_t sign = (bits >> 16) & 0x8000;
  const int exponent = static_cast<int>((bits >> 23) & 0xff);
  if (exponent == 0) return static_cast<uint16_t>(sign);
  return static_cast<uint16_t>(sign | ((exponent - 127 + 15) << 10) | ((bits >> 13) & 0x3ff));
}

inline uint16_t bf16_bits(float f) {
  EXPECT_EQ(float_bits(f) & 0xffff, 0u) << f << " is not exact in bfloat16";
  return static_cast<uint16_t>(float_bits(f) >> 16);
}

inline std::string half_raw(const std::vector<float>& values, bool bf16) {
  std::vector<uint16_t> out;
  for (float v : values) out.push_back(bf16 ? bf16_bits(v) : half_bits(v));
  return raw(out);
}

inline std::string big_endian_raw(const std::vector<float>& values) {
  std::string out;
  for (float v : values) {
    const uint32_t bits = float_bits(v);
    for (int i = 3; i >= 0; --i) out += static_cast<char>((bits >> (8 * i)) & 0xff);
  }
  return out;
}

// An .npy file: magic, version, little-endian header length, the dict padded with spaces and a
// newline to a multiple of 64 bytes (as numpy does), then the data.
inline std::string npy_bytes(const std::string& dict, const std::string& data, int major = 1) {
  const size_t prefix = major == 1 ? 10 : 12;
  std::string header = dict;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  return std::string("\x93NUMPY") + static_cast<char>(major) + '\0' +
         little_endian(header.size(), major == 1 ? 2 : 4) + header + data;
}

inline std::string npy_dict(const std::string& descr, const std::string& shape, bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
}

// One tensor of a hand-assembled safetensors file; `shape` is JSON text such as "[3, 4]".
struct RawTensor {
  std::string name, dtype, shape, data;
};

// A safetensors file: u64 header length, the JSON header (offsets computed here), then the data.
// `header_len` overrides the length field to make lying files.
inline std::string safetensors_bytes(const std::vector<RawTensor>& tensors, int64_t header_len = -1) {
  std::string json = "{\"__metadata__\": {\"format\": \"pt\"}";
  std::string data;
  for (const auto& t : tensors) {
    json += ", \"" + t.name + "\": {\"dtype\": \"" + t.dtype + "\", \"shape\": " + t.shape +
            ", \"data_offsets\": [" + std::to_string(data.size()) + ", " + std::to_string(data.size() + t.data.size()) +
            "]}";
    data += t.data;
  }
  json += "}";
  while (json.size() % 8 != 0) json += ' ';
  return little_endian(header_len < 0 ? json.size() : static_cast<uint64_t>(header_len), 8) + json + data;
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The message of the InputError that `action` throws, or a marker that makes the caller's check fail.
inline std::string input_error(const std::function<void()>& action) {
  try {
    action();
  } catch (const cascade::InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<not an InputError: ") + e.what() + ">";
  }
  return "<no error>";
}

// Every element of `got` (any float dtype) equals `want` exactly, and the shape is `shape`.
inline void expect_values(const at::Tensor& got, const std::vector<float>& want, std::vector<int64_t> shape) {
  ASSERT_EQ(got.sizes().vec(), shape);
  const at::Tensor f = got.to(at::kFloat).contiguous();
  ASSERT_EQ(static_cast<size_t>(f.numel()), want.size());
  const float* p = f.data_ptr<float>();
  for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(p[i], want[i]) << "element " << i;
}

}  // namespace cascade::data::testing
