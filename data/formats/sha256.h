#pragma once
// SHA-256 (FIPS 180-4), for the model identity a session records (the hash of config.json).
#include <string>
#include <string_view>

namespace cascade::data {

std::string sha256_hex(std::string_view bytes);  // 64 lowercase hex digits

}  // namespace cascade::data
