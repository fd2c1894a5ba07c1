#include "cli/commands.h"

#include <ATen/Parallel.h>
#include <H5public.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/format.h"
#include "cli/model_input.h"
#include "cli/options.h"
#include "cli/session_input.h"
#include "cli/shared.h"
#include "core/activations.h"
#include "core/analyzer.h"
#include "core/errors.h"
#include "data/hf/weight_memory.h"
#include "core/run_record.h"
#include "core/synthetic.h"
#include "core/kernel_dispatch.h"
#include "core/version.h"
#include "data/hf/model_source.h"
#include "data/formats/activation_io.h"
#include "data/formats/io_util.h"
#include "data/session/record_json.h"

namespace fs = std::filesystem;

namespace cascade::cli {

ActivationInput load_activation_input(const Options& opts, const char* command) {
  std::string path;
  if (opts.positional().size() > 1) throw UsageError(std::string(command) + " takes one input file (see --help)");
  if (opts.positional().empty()) {
    path = bundled_demo_file();
    if (!opts.flag("--quiet"))
      std::fprintf(stderr, "%s: no input given, using the bundled demo file %s (synthetic clustered activations)\n",
                   command, path.c_str());
  } else {
    path = opts.positional()[0];
  }
  ActivationInput in;
  in.acts = data::load_activations(path, opts.value_or("--tokens", ""));  // validated there (finite, shapes)
  if (const auto range = opts.value("--layers")) {
    const LayerRange layers = with_flag("--layers: ", [&] { return parse_layer_range(*range); });
    in.acts = with_flag("--layers ", [&] { return select_layers(in.acts, layers); });
  }
  in.source = path;
  return in;
}

std::string bundled_demo_file() { return data::bundled_synthetic_file(); }

namespace {

// What analyze and sweep share: the rule, output format and tiling options, loading the input,
// and the τ-free Analyzer built with progress and Ctrl-C on stderr.
struct Job {
  Rule rule = Rule::PriorMax;
  Format format = Format::Table;
  ActivationInput in;
};

template <class Run>
int run_job(const Options& opts, const char* command, Run&& run) {
  Job job;
  job.rule = rule_option(opts);
  job.format = parse_format(opts.value_or_default("--format"));
  const int64_t tile = tile_option(opts);
  apply_resource_options(opts);
  install_sigint();
  job.in = load_activation_input(opts, command);
  StderrProgress progress(opts.flag("--quiet"));
  const Analyzer analyzer(job.in.acts, tile, progress.control());
  emit(opts, run(analyzer, job, progress.control()));
  return 0;
}

}  // namespace

int cmd_analyze(const std::vector<std::string>& args) {
  const std::vector<OptionSpec> specs = {
      kTau, kRule, kLayers, {"--format", "FMT", "table, csv or json", "table"}, kTokens, kTile, kThreads, kMemoryLimit, kOut, kQuiet, kHelp};
  const Options opts(specs, args);
  if (opts.flag("--help")) {
    std::cout << format_help(
        "cascadelens-cli analyze [FILE] [options]",
        "Independent and cascade selection of representative tokens at every layer of FILE (.npy [L,T,d],\n"
        "a folder of per-layer .npy, .safetensors with hidden_states.{l}, or .h5 with /hidden_states),\n"
        "with the measures of SPEC.md section 4. Without FILE, the bundled synthetic demo file is used.\n"
        "FILE may also be a saved session (run --save S.h5): its stored analysis is shown at the saved tau\n"
        "and rule (the defaults then); another tau or rule needs a session saved --with-activations.",
        specs);
    return 0;
  }
  if (is_session_input(opts)) return analyze_session(opts);
  const double tau = tau_option(opts);
  return run_job(opts, "analyze", [tau](const Analyzer& analyzer, const Job& job, const JobControl& control) {
    const Analysis a = analyzer.analyze(tau, job.rule, control);
    if (job.format == Format::Table) return analysis_table(a, job.in.source);
    if (job.format == Format::Csv) return analysis_csv(a);
    return data::analysis_json(a, job.in.source, job.in.acts.tokens).dump(1) + "\n";
  });
}

int cmd_sweep(const std::vector<std::string>& args) {
  const std::vector<OptionSpec> specs = {
      kTaus, kRule, kLayers, {"--format", "FMT", "table, csv or json (json adds the per-layer measures)", "table"},
      kTokens, kTile, kThreads, kMemoryLimit, kOut, kQuiet, kHelp};
  const Options opts(specs, args);
  if (opts.flag("--help")) {
    std::cout << format_help("cascadelens-cli sweep [FILE] [options]",
                             "The measures over a grid of tau. The normalised activations and the prior-max scan\n"
                             "are computed once; each tau only re-derives the sets and re-runs the cascade.\n"
                             "FILE may be a saved session: without --taus its stored sweep is shown; a new grid\n"
                             "(or another rule) needs a session saved --with-activations.",
                             specs);
    return 0;
  }
  if (is_session_input(opts)) return sweep_session(opts);
  const auto taus = taus_option(opts);
  return run_job(opts, "sweep", [&taus](const Analyzer& analyzer, const Job& job, const JobControl& control) {
    const auto runs = analyzer.sweep(taus, job.rule, control);
    if (job.format == Format::Table) return sweep_table(runs, job.in.source);
    if (job.format == Format::Csv) return sweep_csv(runs);
    return data::sweep_json(runs, job.in.source).dump(1) + "\n";
  });
}

int cmd_synth(const std::vector<std::string>& args) {
  const std::vector<OptionSpec> specs = {
      {"--layers", "L", "number of layers", "12"},
      {"--tokens", "T", "number of tokens", "96"},
      {"--dim", "D", "hidden size", "64"},
      {"--clusters", "K", "distinct repeated 'words'", "24"},
      {"--seed", "S", "random seed", "1"},
      {"--noise", "LO:HI", "relative token noise at the most / least redundant depth", "0.3:0.55"},
      {"--dtype", "DT", "float32 or float16 (.npy); safetensors also takes bfloat16", "float32"},
      kMemoryLimit,
      kHelp};
  const Options opts(specs, args);
  if (opts.flag("--help")) {
    std::cout << format_help("cascadelens-cli synth OUT.{npy,safetensors,h5} [options]",
                             "Write synthetic clustered activations [L,T,d] with depth structure (not model data)\n"
                             "and tokens.json beside them: for demos, teaching and tests.",
                             specs);
    return 0;
  }
  if (opts.positional().size() != 1) throw UsageError("synth needs exactly one output path (see --help)");
  SyntheticSpec spec;
  spec.layers = opts.integer("--layers");
  spec.tokens = opts.integer("--tokens");
  spec.dim = opts.integer("--dim");
  spec.clusters = opts.integer("--clusters");
  spec.seed = static_cast<uint64_t>(opts.integer("--seed"));
  if (const auto noise = opts.value("--noise")) {
    const auto colon = noise->find(':');
    try {
      if (colon == std::string::npos) throw std::invalid_argument(*noise);
      spec.noise_low = std::stod(noise->substr(0, colon));
      spec.noise_high = std::stod(noise->substr(colon + 1));
    } catch (const std::exception&) {
      throw UsageError("--noise expects LO:HI, e.g. 0.3:0.55");
    }
    if (spec.noise_low < 0 || spec.noise_high < 0) throw UsageError("--noise must be >= 0");
  }
  // The size comes from options: checked against a stated budget before anything is allocated
  // (100000 × 100000 × 100000 used to reach the allocator). The generator holds ~3 float32 copies.
  for (const auto& [name, v] : {std::pair{"--layers", spec.layers}, {"--tokens", spec.tokens}, {"--dim", spec.dim}})
    if (v < 1) throw UsageError(std::string(name) + " must be >= 1");
  const double need = 3.0 * 4.0 * static_cast<double>(spec.layers) * static_cast<double>(spec.tokens) *
                      static_cast<double>(spec.dim);
  apply_memory_limit(opts);
  const auto budget = static_cast<double>(data::memory_budget());
  if (budget > 0 && need > budget)
    throw UsageError(std::to_string(spec.layers) + " × " + std::to_string(spec.tokens) + " × " +
                     std::to_string(spec.dim) + " needs about " + data::format_bytes(static_cast<uint64_t>(std::min(need, 1e19))) +
                     " of memory; the budget is " + data::format_bytes(static_cast<uint64_t>(budget)) +
                     " (--memory-limit GIB raises it)");
  const ActivationSet acts = make_synthetic(spec);
  const std::string dtype = opts.value_or_default("--dtype");
  const DType wanted = with_flag("--", [&] { return parse_dtype(dtype); });
  const fs::path out = opts.positional()[0];
  const data::ActivationFormat* format = data::activation_format_of(out.string());
  if (!format) {
    std::string known;
    for (const auto& f : data::activation_formats())
      for (const auto& e : f.extensions) known += (known.empty() ? "" : ", ") + e;
    throw UsageError("output must end in " + known);
  }
  const auto& stored = format->dtypes;
  if (std::find(stored.begin(), stored.end(), wanted) == stored.end() && stored.size() > 1)
    throw UsageError(out.extension().string() + " has no " + dtype + "; use .safetensors");
  const DType written = stored.size() == 1 ? stored.front() : wanted;
  if (out.has_parent_path()) fs::create_directories(out.parent_path());
  format->write(out.string(), acts.hidden.to(scalar_type(written)));
  const fs::path tokens = out.parent_path() / "tokens.json";
  data::write_tokens_json(tokens.string(), acts.tokens);
  std::cerr << "wrote " << out.string() << " [" << spec.layers << ", " << spec.tokens << ", " << spec.dim << "] "
            << dtype << " and " << tokens.string() << "\n";
  return 0;
}

int cmd_version() {
  const BlasInfo blas = detect_blas();
  unsigned h5_major = 0, h5_minor = 0, h5_release = 0;
  H5get_libversion(&h5_major, &h5_minor, &h5_release);
  std::cout << "cascadelens-cli " << version() << "\n"
            << "  LibTorch " << torch_version() << " (CPU; " << blas.threads << " intra-op threads, --threads to change)\n"
            << "  BLAS     " << blas.name << "\n"
            << "           " << (blas.path.empty() ? "(no libblas mapped)" : blas.path) << "\n"
            << "           sgemm 512^3: " << static_cast<int>(blas.sgemm_gflops + 0.5) << " GFLOP/s\n"
            << "  GPU      " << kernels_summary() << "\n"
            << "  HDF5     " << h5_major << "." << h5_minor << "." << h5_release << "\n"
            << "  JSON     nlohmann " << NLOHMANN_JSON_VERSION_MAJOR << "." << NLOHMANN_JSON_VERSION_MINOR << "."
            << NLOHMANN_JSON_VERSION_PATCH << "\n"
            << "  compiler " << compiler() << "\n";
  if (blas.reference)
    std::cerr << "warning: LibTorch is running on the reference BLAS (" << blas.path
              << "), about 60x slower than OpenBLAS.\n"
              << "         Install libopenblas0-pthread (apt-get install libopenblas0-pthread) or select it with\n"
              << "         update-alternatives --config libblas.so.3-x86_64-linux-gnu\n";
  return 0;
}

}  // namespace cascade::cli
