// Finding a model: a local folder, or a hub id in the HF cache that huggingface_hub fills
// (ROOT/models--ORG--NAME/{refs/main, snapshots/REV/...}). Read-only: nothing is ever downloaded.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/models/architectures.h"
#include "data/hf/hf_model.h"

namespace cascade::data {

namespace {

namespace fs = std::filesystem;

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

bool has_config(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "config.json", ec);
}

// "ORG/NAME" or "NAME", each part non-empty and neither "." nor ".."; anything else is a path.
bool looks_like_hub_id(const std::string& text) {
  if (text.empty() || text.front() == '/' || text.front() == '~' || text.back() == '/') return false;
  const size_t slash = text.find('/');
  if (slash != std::string::npos && text.find('/', slash + 1) != std::string::npos) return false;
  for (const std::string& part : {text.substr(0, slash), slash == std::string::npos ? "x" : text.substr(slash + 1)})
    if (part.empty() || part == "." || part == ".." || part.find("--") != std::string::npos) return false;
  return true;
}

// "ORG/NAME" → "models--ORG--NAME", as huggingface_hub names its cache folders.
std::string cache_folder_name(const std::string& hub_id) {
  std::string out = "models--" + hub_id;
  const size_t slash = out.find('/');
  if (slash != std::string::npos) out.replace(slash, 1, "--");
  return out;
}

std::string read_first_line(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
  return line;
}

// The newest snapshot folder with a config.json (for caches without refs/main, e.g. filled by
// hand or from a revision other than main).
std::optional<fs::path> newest_snapshot(const fs::path& snapshots) {
  std::optional<fs::path> best;
  fs::file_time_type best_time{};
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(snapshots, ec)) {
    if (!has_config(entry.path())) continue;
    const auto time = fs::last_write_time(entry.path() / "config.json", ec);
    if (!best || time > best_time) best = entry.path(), best_time = time;
  }
  return best;
}

// The snapshot folder of one cached repo; nullopt when it has none with a config.json. A refs/main
// that names a snapshot without config.json is an error, not a reason to use an older revision.
std::optional<fs::path> snapshot_of(const fs::path& repo) {
  const fs::path ref = repo / "refs" / "main";
  std::error_code ec;
  if (fs::is_regular_file(ref, ec)) {
    const std::string revision = read_first_line(ref);
    const fs::path snapshot = repo / "snapshots" / revision;
    if (revision.empty() || !has_config(snapshot))
      throw InputError(ref.string(), "names revision '" + revision + "', but " + snapshot.string() +
                                         " has no config.json (incomplete download?)");
    return snapshot;
  }
  return newest_snapshot(repo / "snapshots");
}

std::string cached_models_text(const fs::path& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return "the cache folder does not exist";
  const auto models = list_cached_models();
  if (models.empty()) return "no models are cached there";
  std::string text = "cached models: ";
  const size_t shown = std::min<size_t>(models.size(), 20);
  for (size_t i = 0; i < shown; ++i) text += (i ? ", " : "") + models[i];
  if (models.size() > shown) text += ", ... (" + std::to_string(models.size()) + " in all)";
  return text;
}

}  // namespace

std::string hf_cache_root() {
  if (const std::string hub = env("HF_HUB_CACHE"); !hub.empty()) return hub;
  if (const std::string home = env("HF_HOME"); !home.empty()) return (fs::path(home) / "hub").string();
  if (const std::string xdg = env("XDG_CACHE_HOME"); !xdg.empty())
    return (fs::path(xdg) / "huggingface" / "hub").string();
  return (fs::path(env("HOME")) / ".cache" / "huggingface" / "hub").string();
}

std::vector<std::string> list_cached_models() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(hf_cache_root(), ec)) {
    const std::string folder = entry.path().filename().string();
    if (folder.rfind("models--", 0) != 0 || !entry.is_directory(ec)) continue;
    try {
      if (!snapshot_of(entry.path())) continue;
    } catch (const InputError&) {
      continue;  // a broken entry is not offered
    }
    std::string id = folder.substr(std::string("models--").size());
    if (const size_t sep = id.find("--"); sep != std::string::npos) id.replace(sep, 2, "/");
    out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<CachedModel> cached_models() {
  std::vector<CachedModel> out;
  for (const std::string& id : list_cached_models()) {
    CachedModel m;
    m.id = id;
    try {
      m.dir = resolve_model_path(id);
      std::ifstream in(fs::path(m.dir) / "config.json", std::ios::binary);
      const auto config = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
      if (config.is_object() && config.contains("model_type") && config["model_type"].is_string())
        m.model_type = config["model_type"].get<std::string>();
      if (m.model_type.empty() || find_architecture(m.model_type)) {
        try {
          read_hf_config(m.dir);
          m.weights = weight_footprint(m.dir);
        } catch (const InputError& e) {
          m.problem = e.what();
          // Only the problem itself where the file is the entry's own config.json or folder.
          for (const std::string where : {(fs::path(m.dir) / "config.json").string() + ": ", m.dir + ": "})
            if (m.problem.rfind(where, 0) == 0) m.problem.erase(0, where.size());
        }
      } else {
        m.problem = unsupported_model_type(m.model_type);
      }
    } catch (const InputError& e) {
      m.problem = e.what();
    }
    out.push_back(std::move(m));
  }
  return out;
}

ResolvedModel resolve_model(const std::string& dir_or_id) {
  std::error_code ec;
  const bool is_folder = fs::is_directory(dir_or_id, ec);
  if (is_folder && has_config(dir_or_id)) return ResolvedModel{dir_or_id, model_folder_name(dir_or_id), false};
  const fs::path root = hf_cache_root();
  const bool hub_id = looks_like_hub_id(dir_or_id);
  const fs::path repo = root / cache_folder_name(dir_or_id);
  if (hub_id) {
    if (auto snapshot = snapshot_of(repo)) return ResolvedModel{snapshot->string(), dir_or_id, true};
  }
  const std::string local = is_folder ? "folder has no config.json" : "no such folder";
  std::string cache = ", and no '" + dir_or_id + "' in the HF cache at " + root.string();
  if (!hub_id) cache = " (and not a hub id ORG/NAME to look up in the HF cache at " + root.string() + ")";
  else if (fs::is_directory(repo, ec)) cache = ", and " + repo.string() + " has no snapshot with a config.json";
  throw InputError(dir_or_id, local + cache + " (" + cached_models_text(root) + ")");
}

std::string resolve_model_path(const std::string& dir_or_id) { return resolve_model(dir_or_id).dir; }

}  // namespace cascade::data
