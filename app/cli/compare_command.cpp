// cascadelens-cli compare: every SPEC §7 method at an equal budget, side by side on every axis.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/model_input.h"
#include "cli/options.h"
#include "cli/session_input.h"
#include "cli/shared.h"
#include "core/baselines.h"
#include "core/engine.h"
#include "core/errors.h"
#include "core/snapshot.h"
#include "data/formats/activation_io.h"
#include "data/session/record_json.h"
#include "data/session/session_file.h"

namespace cascade::cli {

namespace {

const std::vector<OptionSpec> kCompareSpecs = {
    kModel,
    kText,
    kTextFile,
    kIds,
    kTau,
    kRule,
    kNearest,
    kDevice,
    kDtype,
    kLayers,
    {"--methods", "LIST", "all, or a comma list of " + method_names(), "all"},
    {"--budget", "B", "tokens kept per layer: cascade (r_casc), independent (r_ind), ratio:R (R*T) or count:N", "cascade"},
    {"--quality", "", "end to end: perplexity and KL of the model run with each method in every block", ""},
    {"--seed", "S", "the run seed random and kmeans derive theirs from (per layer)", "0"},
    {"--format", "FMT", "table, csv or json", "table"},
    kSave,
    kWithActivations,
    kSessionTaus,
    kTokens,
    kTile,
    kThreads, kMemoryLimit,
    kOut,
    kQuiet,
    kHelp};

// The record and its analysis at the asked τ and rule, from FILE (activations or a session).
struct FromFile {
  std::shared_ptr<const RunRecord> record;
  Analysis analysis;
  std::string source;
};

FromFile from_file(const Options& opts, const JobControl& control) {
  const std::string path = opts.positional()[0];
  FromFile out;
  if (is_session_input(opts)) {
    for (const char* o : {"--layers", "--tokens"})
      if (opts.value(o)) throw UsageError(std::string(o) + " does not apply to a session (fixed when it was saved)");
    auto record = std::make_shared<RunRecord>(data::read_session(path, {true}, control));
    if (!record->has_activations())
      throw UsageError(path + " was saved without activations: the methods need them (save it with --with-activations)");
    const double tau = opts.value("--tau") ? tau_option(opts) : record->analysis.tau;
    const Rule rule = opts.value("--rule") ? rule_option(opts) : record->analysis.rule;
    if (opts.value("--nearest")) record->nearest = parse_nearest_rule(*opts.value("--nearest"));
    out.source = session_label(path, *record);
    out.record = record;
    out.analysis = RunSnapshot::derive(out.record, tau, rule, control)->analysis();
    return out;
  }
  const ActivationInput in = load_activation_input(opts, "compare");
  auto record = std::make_shared<RunRecord>(analyze_activations(in.acts, {}, rule_option(opts), control));
  record->source = path;
  record->nearest = parse_nearest_rule(opts.value_or_default("--nearest"));
  out.analysis = record->analyzer->analyze(tau_option(opts), rule_option(opts), control);
  out.record = record;
  out.source = path;
  return out;
}

}  // namespace

int cmd_compare(const std::vector<std::string>& args) {
  const Options opts(kCompareSpecs, args);
  if (opts.flag("--help")) {
    std::cout << format_help(
        "cascadelens-cli compare [the run options | FILE] [--methods all|LIST] [--budget B] [--quality] [--save S.h5] [options]",
        "SPEC.md section 7: the cascade's set against the baselines people compare with (random,\n"
        "inherit-only, recency, StreamingLLM, H2O, SnapKV, TOVA, key norm, KeyDiff, ridge leverage,\n"
        "spherical k-means medoids, and the element-level top-k / top-theta attention), each at the same\n"
        "number of kept tokens per layer, scored on coverage, covered, attention error and (with\n"
        "--quality) the perplexity and KL of the model run with the method in every block.\n"
        "Without FILE the model runs (as `run`; default: the bundled demo model and teaching text).\n"
        "FILE may be activations (.npy, .safetensors, .h5) or a session saved --with-activations:\n"
        "the methods and axes that need the model's attention then say \"needs the model\".\n"
        "--save S.h5 stores the run with this comparison (/comparisons in data/SESSION_FORMAT.md);\n"
        "with FILE a session's earlier comparisons are kept and this one is added.",
        kCompareSpecs);
    return 0;
  }
  if (opts.positional().size() > 1) throw UsageError("compare takes at most one input FILE (see --help)");
  const bool file = opts.positional().size() == 1;
  if (file)
    for (const char* o : {"--model", "--text", "--text-file", "--ids", "--device", "--dtype"})
      if (opts.value(o)) throw UsageError(std::string(o) + " is a run option: give either FILE or the run options");
  CompareRequest request;
  request.methods = with_flag("--methods: ", [&] { return parse_methods(opts.value_or_default("--methods")); });
  request.budget = with_flag("--budget: ", [&] { return parse_budget(opts.value_or_default("--budget")); });
  request.quality = opts.flag("--quality");
  request.seed = unsigned_option(opts, "--seed");
  const Format format = parse_format(opts.value_or_default("--format"));
  const double tau = tau_option(opts);
  const Rule rule = rule_option(opts);
  const NearestRule nearest = parse_nearest_rule(opts.value_or_default("--nearest"));
  const auto save = save_option(opts);
  if (save && file && opts.value("--taus"))
    throw UsageError("--taus is the sweep a model run stores; a FILE's session keeps the sweep it has");
  const std::vector<double> taus = session_taus_option(opts);
  apply_resource_options(opts);
  install_sigint();
  StderrProgress progress(opts.flag("--quiet"));

  std::shared_ptr<const RunRecord> record;
  Analysis analysis;
  std::string source;
  data::LoadedModel m;
  if (file) {
    if (request.quality)
      throw UsageError("--quality runs the model with each method's sets: it needs the run options, not FILE");
    FromFile in = from_file(opts, progress.control());
    record = in.record;
    analysis = std::move(in.analysis);
    source = in.source;
  } else {
    LayerRange layers;
    if (const auto range = opts.value("--layers")) {
      if (request.quality) throw UsageError("--quality runs each method in every block: leave out --layers");
      layers = with_flag("--layers: ", [&] { return parse_layer_range(*range); });
    }
    m = load_model_option(opts, "compare");
    const RunInput in = run_input(opts, m, "compare");
    RunRequest run = data::request_for(m, in.ids, in.text);
    run.tau = tau;
    run.rule = rule;
    run.nearest = nearest;
    run.layers = layers;
    if (save) run.sweep_taus = taus;  // as run --save stores
    with_flag("--layers ", [&] { return layer_bounds(layers, m.config.num_layers); });
    auto r = std::make_shared<RunRecord>(run_model(*m.model, run, progress.control()));
    analysis = r->analysis;
    source = r->source;
    record = r;
  }
  const Comparison c = compare_methods(*record, analysis, m.model.get(), request, progress.control());
  if (!opts.flag("--quiet"))
    for (const std::string& note : c.notes) std::fprintf(stderr, "compare: note: %s\n", note.c_str());
  if (save) {  // the run (or FILE's record) at the compared tau and rule, with this comparison added
    RunRecord saved = *record;
    if (file && !record->analysis.layers.empty() &&
        (record->analysis.tau != analysis.tau || record->analysis.rule != analysis.rule))
      saved.quality.reset();  // a session's ADA quality was measured at its own tau and rule
    if (!saved.sweep.empty() && saved.sweep.front().analysis.rule != analysis.rule)
      saved.sweep.clear();  // the sweep has the analysis's rule (data/SESSION_FORMAT.md)
    saved.analysis = analysis;
    saved.capture.reset();
    saved.comparisons.push_back(c);
    save_session(opts, *save, saved, "compare", progress.control());
  }
  if (format == Format::Json) {
    nlohmann::json j = data::comparison_json(c);
    j["source"] = source;
    j["L"] = analysis.L();
    j["d"] = analysis.d;
    j["tokens"] = record->tokens;
    if (!record->ids.empty()) j["input_ids"] = record->ids;
    emit(opts, j.dump(1) + "\n");
  } else if (format == Format::Csv) {
    emit(opts, comparison_csv(c));
  } else {
    emit(opts, comparison_table(c, source));
  }
  return 0;
}

}  // namespace cascade::cli
