// cascadelens-cli run: a real model (HF folder or cache id) through the cascade engine.
#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <optional>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/model_input.h"
#include "cli/options.h"
#include "cli/shared.h"
#include "core/engine.h"
#include "core/errors.h"
#include "core/run_record.h"
#include "data/formats/activation_io.h"
#include "data/hf/model_source.h"
#include "data/hf/weight_memory.h"
#include "data/session/record_json.h"
#include "data/formats/io_util.h"
#include "data/remote/engine_client.h"
#include "data/session/session_file.h"

namespace cascade::cli {

namespace {

const std::vector<OptionSpec> kRunSpecs = {
    kModel,
    kText,
    kTextFile,
    kIds,
    kTau,
    kRule,
    {"--attention", "MODE", "exact, ada-independent or ada-cascade (ADA runs inside the forward pass)", "exact"},
    kNearest,
    kDevice,
    kDtype,
    kLayers,
    {"--format", "FMT", "table, csv or json", "table"},
    {"--dump-activations", "OUT", "write hidden_states.{0..L} as HF gives them, logits, input_ids (.safetensors)", ""},
    {"--generate", "N", "greedy-decode N tokens and print the text (ids in json)", ""},
    kSave,
    kWithActivations,
    kSessionTaus,
    {"--ppl", "", "perplexity, KL and attention error of ADA vs exact (ada-cascade when --attention exact)", ""},
    kThreads, kMemoryLimit,
    {"--engine", "URL", "run on a remote engine (cascadelens-cli serve) at http://HOST:PORT; --model is then one of its "
                        "ids (GET /v1/models), and the output is what a local run prints", ""},
    {"--token-file", "F", "the engine's token file (else $CASCADELENS_TOKEN)", ""},
    kOut,
    kQuiet,
    kHelp};

void dump_activations(const std::string& path, const RunRecord& run) {
  const ForwardCapture& c = *run.capture;
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  const int64_t L = c.activations.num_layers();
  for (int64_t l = 0; l < L; ++l) tensors.emplace_back("hidden_states." + std::to_string(l), c.activations.hidden[l].unsqueeze(0));
  tensors.emplace_back("hidden_states." + std::to_string(L), c.final_hidden.unsqueeze(0));
  tensors.emplace_back("final_residual", c.final_residual.unsqueeze(0));
  tensors.emplace_back("logits", c.logits.unsqueeze(0));
  tensors.emplace_back("input_ids", at::tensor(run.ids, at::kLong).unsqueeze(0));
  data::write_safetensors(path, tensors);
}

}  // namespace

std::vector<int64_t> parse_ids_option(const std::string& text) {
  std::vector<int64_t> ids;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    try {
      size_t used = 0;
      ids.push_back(std::stoll(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw UsageError("--ids expects comma-separated integers, got '" + item + "'");
    }
  }
  if (ids.empty()) throw UsageError("--ids is empty");
  return ids;
}

std::optional<std::string> save_option(const Options& opts) {
  const auto save = opts.value("--save");
  if (save) {
    const auto ext = std::filesystem::path(*save).extension();
    if (ext != ".h5" && ext != ".hdf5") throw UsageError("--save writes an HDF5 session: give a file ending in .h5 or .hdf5");
  }
  if (opts.flag("--with-activations") && !save) throw UsageError("--with-activations goes with --save S.h5");
  return save;
}

std::vector<double> session_taus_option(const Options& opts) {
  return opts.value_or_default("--taus") == "none" ? std::vector<double>{} : taus_option(opts);
}

void save_session(const Options& opts, const std::string& path, const RunRecord& record, const char* command,
                  const JobControl& control) {
  const bool with_activations = opts.flag("--with-activations");
  data::write_session(path, record, {with_activations}, control);
  if (opts.flag("--quiet")) return;
  const double mb = static_cast<double>(std::filesystem::file_size(path)) / (1 << 20);
  std::fprintf(stderr, "%s: saved %s (%.2f MiB; %s)\n", command, path.c_str(), mb,
               with_activations ? "with activations: tau and the rule can change offline"
                                : "without activations: add --with-activations to change tau offline");
}

data::LoadedModel load_model_option(const Options& opts, const char* command) {
  data::ModelRequest request;
  request.spec = opts.value_or("--model", "");
  request.device = parse_device(opts.value_or_default("--device"));
  if (const std::string dtype = opts.value_or_default("--dtype"); dtype != "auto") {
    try {
      request.dtype = parse_dtype(dtype);
    } catch (const UsageError&) {
      throw UsageError("--dtype must be auto, float32, bfloat16 or float16, got '" + dtype + "'");
    }
  }
  const bool quiet = opts.flag("--quiet");
  if (request.spec.empty() && !quiet)
    std::fprintf(stderr, "%s: no --model given, using the bundled demo model %s\n", command, data::bundled_model_dir().c_str());
  // The weights' size and the dtype, before the (possibly long) load.
  request.on_dtype_chosen = [quiet, command](const data::DtypeChoice& choice) {
    if (!quiet) std::fprintf(stderr, "%s: %s\n", command, choice.message.c_str());
  };
  try {
    return data::load_model(request);
  } catch (const data::WeightsTooLarge& e) {
    throw InputError(e.what(), "free memory, or give --dtype to load anyway");
  }
}

namespace {

// The text's ids; without a usable tokenizer the message also says how to run without one.
std::vector<int64_t> encode(const data::LoadedModel& m, const std::string& text) {
  try {
    return data::encode_text(m, text);
  } catch (const InputError& e) {
    if (m.tokenizer) throw;
    throw InputError(e.what(), "give token ids with --ids instead of text");
  }
}

// The text a remote run sends: --text, --text-file (read here) or the bundled teaching text; or
// --ids (checked against the vocabulary by the engine, which knows the model).
remote::RunOptions remote_input(const Options& opts) {
  remote::RunOptions o;
  const int given = opts.value("--text").has_value() + opts.value("--text-file").has_value() +
                    opts.value("--ids").has_value();
  if (given > 1) throw UsageError("give only one of --text, --text-file or --ids");
  if (const auto ids = opts.value("--ids")) {
    o.ids = parse_ids_option(*ids);
    for (int64_t id : o.ids)
      if (id < 0) throw UsageError("--ids: " + std::to_string(id) + " is outside the vocabulary");
  } else if (const auto text = opts.value("--text")) {
    o.text = *text;
  } else if (const auto file = opts.value("--text-file")) {
    o.text = data::read_text_file(*file);
  } else {
    const std::string path = data::bundled_default_text_path();
    if (!opts.flag("--quiet")) std::fprintf(stderr, "run: no text given, using the bundled text %s\n", path.c_str());
    o.text = data::read_text_file(path);
  }
  return o;
}

// What `run` prints, for a local and a remote run alike.
void print_run(const Options& opts, const RunRecord& run, Format format) {
  if (format == Format::Json) {
    nlohmann::json j = data::analysis_json(run.analysis, run.source, run.tokens);
    data::add_run_json(j, run, true);
    emit(opts, j.dump(1) + "\n");
  } else if (format == Format::Csv) {
    emit(opts, analysis_csv(run.analysis));
  } else {
    std::ostringstream out;
    out << run_line(run) << "\n" << analysis_table(run.analysis, run.source);
    if (run.quality) out << quality_lines(*run.quality, run.quality_mode);
    emit(opts, out.str());
  }
}

// run --engine URL: the same run on a server's device, printed as a local run prints it.
int run_remote_command(const Options& opts, const RunRequest& settings, Format format) {
  for (const char* local_only : {"--dump-activations", "--generate"})
    if (opts.value(local_only))
      throw UsageError(std::string(local_only) + " needs the model in this process; it does not combine with --engine");
  remote::EngineClient client(*opts.value("--engine"), remote::client_token(opts.value_or("--token-file", "")));
  remote::RunOptions o = remote_input(opts);
  o.model = opts.value_or("--model", "");
  // A refusal exits as the same run would locally (2 usage, 3 bad input or a wrong token); no answer is 1.
  const auto exit_as_local = [&client](const remote::RemoteError& e) -> void {
    if (e.kind == "usage" || (e.status >= 400 && e.status < 500 && e.status != 401)) throw UsageError(e.what());
    if (e.kind == "input" || e.status == 401) throw InputError(client.url(), e.what());
    throw e;
  };
  if (o.model.empty()) {
    std::vector<remote::RemoteModel> models;
    try {
      models = client.models();
    } catch (const remote::RemoteError& e) {
      exit_as_local(e);
    }
    if (models.empty()) throw InputError(client.url(), "the engine exposes no model");
    o.model = models.front().id;
    if (!opts.flag("--quiet")) std::fprintf(stderr, "run: no --model given, using the engine's first model %s\n", o.model.c_str());
  }
  remote::copy_run_settings(settings, o);
  o.layers_text = opts.value_or("--layers", "");
  if (const std::string dtype = opts.value_or_default("--dtype"); dtype != "auto") o.dtype = parse_dtype(dtype);
  if (const auto device = opts.value("--device")) o.device = parse_device(*device);
  const auto save = save_option(opts);
  o.with_activations = opts.flag("--with-activations");
  o.taus = save ? session_taus_option(opts) : std::vector<double>{};  // the sweep is kept only in the session
  install_sigint();
  StderrProgress progress(opts.flag("--quiet"));
  remote::RemoteRun result;
  try {
    result = remote::run_remote(client, o, progress.control(), {/*activations=*/false});
  } catch (const remote::RemoteError& e) {
    exit_as_local(e);
  }
  const RunRecord& run = result.record;
  if (save) {
    data::write_file_atomically(*save, result.session_bytes);
    if (!opts.flag("--quiet"))
      std::fprintf(stderr, "run: saved %s (%.2f MiB from %s; %s)\n", save->c_str(),
                   static_cast<double>(result.session_bytes.size()) / (1 << 20), client.url().c_str(),
                   o.with_activations ? "with activations: tau and the rule can change offline"
                                      : "without activations: add --with-activations to change tau offline");
  }
  print_run(opts, run, format);
  return 0;
}

}  // namespace

RunInput run_input(const Options& opts, const data::LoadedModel& m, const char* command) {
  const int given = opts.value("--text").has_value() + opts.value("--text-file").has_value() +
                    opts.value("--ids").has_value();
  if (given > 1) throw UsageError("give only one of --text, --text-file or --ids");
  if (given == 0) {  // the bundled teaching text
    const std::string path = data::bundled_default_text_path();
    if (!opts.flag("--quiet")) std::fprintf(stderr, "%s: no text given, using the bundled text %s\n", command, path.c_str());
    const std::string text = data::read_text_file(path);
    return {encode(m, text), text};
  }
  if (const auto ids = opts.value("--ids")) {
    for (int64_t id : parse_ids_option(*ids))
      if (id < 0 || id >= m.config.vocab_size)
        throw InputError("--ids", std::to_string(id) + " is outside the model's vocabulary (0.." +
                                      std::to_string(m.config.vocab_size - 1) + ")");
    return {parse_ids_option(*ids), ""};
  }
  const std::string text = opts.value("--text") ? *opts.value("--text") : data::read_text_file(*opts.value("--text-file"));
  return {encode(m, text), text};
}

int cmd_run(const std::vector<std::string>& args) {
  const Options opts(kRunSpecs, args);
  if (opts.flag("--help")) {
    std::cout << format_help("cascadelens-cli run [--model DIR|ID] [--text STR | --text-file F | --ids 1,2,3] [options]",
                             "Run a Hugging Face checkpoint (gpt2, opt, gptj, gpt_neox/Pythia, llama) on a text,\n"
                             "capture the residual stream entering every block, and report the independent and\n"
                             "cascade selections with the measures of SPEC.md section 4 (same tables as analyze).",
                             kRunSpecs);
    return 0;
  }
  const double tau = tau_option(opts);
  const Rule rule = rule_option(opts);
  const AttentionMode attention = parse_attention_mode(opts.value_or_default("--attention"));
  const NearestRule nearest = parse_nearest_rule(opts.value_or_default("--nearest"));
  LayerRange layers;
  if (const auto range = opts.value("--layers")) layers = with_flag("--layers: ", [&] { return parse_layer_range(*range); });
  const Format format = parse_format(opts.value_or_default("--format"));
  if (opts.value("--token-file") && !opts.value("--engine")) throw UsageError("--token-file goes with --engine URL");
  // The run's options, the same for a local and a remote run.
  const auto with_options = [&](RunRequest r) {
    r.tau = tau, r.rule = rule, r.attention = attention, r.nearest = nearest;
    r.quality = opts.flag("--ppl"), r.layers = layers;
    return r;
  };
  if (opts.value("--engine")) {
    if (opts.flag("--ppl") && format == Format::Csv)
      throw UsageError("--ppl numbers are not part of the per-layer CSV; use --format table or json");
    return run_remote_command(opts, with_options({}), format);
  }
  apply_resource_options(opts);
  install_sigint();
  StderrProgress progress(opts.flag("--quiet"));
  const data::LoadedModel m = load_model_option(opts, "run");
  const RunInput in = run_input(opts, m, "run");
  RunRequest request = with_options(data::request_for(m, in.ids, in.text));
  with_flag("--layers ", [&] { return layer_bounds(layers, m.config.num_layers); });  // before the forward pass

  if (const auto dump = opts.value("--dump-activations");
      dump && std::filesystem::path(*dump).extension() != ".safetensors")
    throw UsageError("--dump-activations writes safetensors: give a file ending in .safetensors");
  if (opts.value("--generate") && (opts.value("--dump-activations") || request.quality || format == Format::Csv))
    throw UsageError("--generate prints text (or ids in json); it does not combine with --dump-activations, --ppl or --format csv");
  const auto save = save_option(opts);
  if (save && opts.value("--generate")) throw UsageError("--save stores an analysed run; it does not combine with --generate");
  const std::vector<double> taus = session_taus_option(opts);
  if (request.quality && format == Format::Csv)
    throw UsageError("--ppl numbers are not part of the per-layer CSV; use --format table or json");

  if (const auto n = opts.value("--generate")) {
    const long steps = opts.integer("--generate", 0);
    if (steps < 1) throw UsageError("--generate needs N >= 1");
    // The context is known now: a run that cannot finish is refused before it starts.
    const int64_t context = m.config.max_positions, T = static_cast<int64_t>(request.ids.size());
    if (context > 0 && T + steps > context)
      throw UsageError("--generate " + std::to_string(steps) + ": the text is " + std::to_string(T) +
                       " tokens and the model's context is " + std::to_string(context) + ", so at most " +
                       std::to_string(std::max<int64_t>(0, context - T)) + " new tokens fit");
    const auto ids = greedy_generate(*m.model, request.ids, steps, m.config.eos_token_id, request.attention,
                                     request.tau, request.rule, request.nearest, progress.control());
    const std::vector<int64_t> generated(ids.begin() + static_cast<long>(request.ids.size()), ids.end());
    if (format == Format::Json) {
      emit(opts, nlohmann::json{{"prompt_ids", request.ids}, {"generated_ids", generated}, {"ids", ids}}.dump(1) + "\n");
    } else if (!m.tokenizer) {
      std::string text;
      for (int64_t id : ids) text += std::to_string(id) + " ";
      emit(opts, text + "\n");
    } else {
      emit(opts, m.tokenizer->decode(ids) + "\n");
    }
    return 0;
  }

  if (save) request.sweep_taus = taus;  // the sweep is kept only in the session
  request.keep_capture = opts.value("--dump-activations").has_value();
  const RunRecord run = run_model(*m.model, request, progress.control());
  if (const auto dump = opts.value("--dump-activations")) dump_activations(*dump, run);
  if (save) save_session(opts, *save, run, "run", progress.control());
  print_run(opts, run, format);
  return 0;
}

}  // namespace cascade::cli
