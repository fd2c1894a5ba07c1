#pragma once
// The shared/ folder with golden fixtures and models: $CASCADE_SHARED when set, else the path
// configured in CMake (CASCADE_SHARED_DIR, default ../shared beside the checkout). Returns "" when it
// holds no fixtures/, and the tests that need it skip with a message saying so.
#include <cstdlib>
#include <filesystem>
#include <string>

namespace testshared {

inline std::filesystem::path configured_shared_dir() {
  if (const char* env = std::getenv("CASCADE_SHARED")) return env;
  return CASCADE_SHARED_DIR;
}

inline std::string shared_dir() {
  std::error_code ec;
  const auto dir = configured_shared_dir();
  return std::filesystem::is_directory(dir / "fixtures", ec) ? dir.string() : std::string();
}

}  // namespace testshared
