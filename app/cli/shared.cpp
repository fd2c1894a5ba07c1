#include "cli/shared.h"

#include <ATen/Parallel.h>
#include <unistd.h>

#include <algorithm>
#include <thread>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "core/errors.h"
#include "core/analyzer.h"
#include "core/selection.h"
#include "core/version.h"
#include "data/formats/io_util.h"

namespace cascade::cli {

namespace {
std::atomic<bool> g_cancel{false};
extern "C" void on_sigint(int) { g_cancel.store(true); }
}  // namespace

StderrProgress::StderrProgress(bool quiet) : quiet_(quiet), tty_(isatty(STDERR_FILENO) != 0) {}

StderrProgress::~StderrProgress() {
  if (shown_ && tty_) std::fputc('\n', stderr);
}

JobControl StderrProgress::control() {
  JobControl c;
  c.cancel = &g_cancel;
  if (!quiet_) c.on_progress = [this](const Progress& p) { update(p); };
  return c;
}

void StderrProgress::update(const Progress& p) {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double since = std::chrono::duration<double>(now - last_).count();
  const bool finished = p.done == p.total;
  if (elapsed < 1.0 || (since < (tty_ ? 0.1 : 1.0) && !finished)) return;
  last_ = now;
  shown_ = true;
  std::fprintf(stderr, "%s%s: %lld/%lld (%.1f s)%s", tty_ ? "\r" : "", p.stage.c_str(),
               static_cast<long long>(p.done), static_cast<long long>(p.total), elapsed, tty_ ? "   " : "\n");
  std::fflush(stderr);
}

void install_sigint(bool also_sigterm) {
  std::signal(SIGINT, on_sigint);
  if (also_sigterm) std::signal(SIGTERM, on_sigint);
}

void apply_memory_limit(const Options& opts) {
  if (const auto limit = opts.value("--memory-limit")) {
    const double gib = opts.number("--memory-limit");
    if (!(gib > 0) || gib > 1e6) throw UsageError("--memory-limit must be > 0 GiB (and at most 1e6), got '" + *limit + "'");
    data::set_memory_budget(static_cast<uint64_t>(gib * double(uint64_t{1} << 30)));
  }
}

void apply_resource_options(const Options& opts) {
  apply_memory_limit(opts);
  const long threads = opts.integer("--threads", 0);
  if (threads < 0) throw UsageError("--threads must be >= 1");
  // More threads than 4 per core only thrash (100000 used to hang creating them).
  const long cores = std::max(1u, std::thread::hardware_concurrency());
  const long most = std::max(64L, 4 * cores);
  if (threads > most)
    throw UsageError("--threads " + std::to_string(threads) + ": this machine has " + std::to_string(cores) +
                     " cores; give at most " + std::to_string(most));
  if (threads > 0) set_compute_threads(static_cast<int>(threads));
}

uint64_t unsigned_option(const Options& opts, const char* name) {
  const std::string text = opts.value_or_default(name);
  try {
    size_t used = 0;
    const uint64_t v = std::stoull(text, &used);
    if (used != text.size() || text.front() == '-') throw std::invalid_argument(text);
    return v;
  } catch (const std::logic_error&) {
    throw UsageError(std::string(name) + " expects a non-negative integer, got '" + text + "'");
  }
}

double tau_option(const Options& opts) {
  const double tau = opts.number("--tau");
  theta_of_tau(tau);  // range check before any loading
  return tau;
}

std::vector<double> taus_option(const Options& opts) {
  return with_flag("--taus: ", [&] { return parse_tau_grid(opts.value_or_default("--taus")); });
}

Rule rule_option(const Options& opts) { return parse_rule(opts.value_or_default("--rule")); }

int64_t tile_option(const Options& opts) {
  const long tile = opts.integer("--tile");
  if (tile < 1) throw UsageError("--tile must be >= 1");
  return tile;
}

void emit(const Options& opts, const std::string& text) {
  const auto out = opts.value("--out");
  if (!out) {
    std::cout << text << std::flush;
    return;
  }
  if (std::filesystem::is_directory(*out)) throw UsageError("--out " + *out + " is a folder; give a file name");
  data::write_file_atomically(*out, text);
}

}  // namespace cascade::cli
