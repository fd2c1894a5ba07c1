// analyze / sweep / export on a saved session (data/SESSION_FORMAT.md): no model, no GPU.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/options.h"
#include "cli/session_input.h"
#include "cli/shared.h"
#include "core/analyzer.h"
#include "core/errors.h"
#include "core/run_record.h"
#include "data/formats/io_util.h"
#include "data/session/record_json.h"
#include "data/session/session_export.h"
#include "data/session/session_file.h"

namespace cascade::cli {

namespace {

std::string tau_text(double t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", t);
  return buf;
}

std::string stored_taus(const RunRecord& s, Rule rule) {
  std::ostringstream out;
  for (double t : s.stored_taus(rule)) out << (out.tellp() > 0 ? ", " : "") << tau_text(t);
  return out.str();
}

[[noreturn]] void need_activations(const std::string& path, const RunRecord& s, const std::string& what, Rule rule) {
  const std::string taus = stored_taus(s, rule);
  throw UsageError(path + " was saved without activations, so " + what + " cannot be computed (" +
                   (taus.empty() ? "it holds no analysis with the " + to_string(rule) + " rule, only " +
                                       to_string(s.analysis.rule)
                                 : "it stores tau = " + taus + " for " + to_string(rule)) +
                   "). Save the run with --with-activations to change tau or the rule offline");
}

void reject_activation_options(const Options& opts) {
  for (const char* o : {"--layers", "--tokens"})
    if (opts.value(o))
      throw UsageError(std::string(o) + " does not apply to a session (its layers and tokens were fixed when it was saved)");
}

}  // namespace

bool is_session_input(const Options& opts) {
  return opts.positional().size() == 1 && data::is_session_file(opts.positional()[0]);
}

std::string session_label(const std::string& path, const RunRecord& s) {
  std::string label = s.source + " [session " + path + ", saved " + s.created + " by Cascade Lens " + s.app_version;
  label += s.has_activations() ? ", with activations]" : "]";
  return label;
}

namespace {

// What analyze and sweep on a session share: options, progress, and the session without its
// activations (read again with them only when a τ or rule outside the stored ones is asked for).
struct SessionJob {
  explicit SessionJob(const Options& opts)
      : path(opts.positional()[0]), format(parse_format(opts.value_or_default("--format"))),
        progress(quiet_after_setup(opts)) {
    reject_activation_options(opts);
    session = data::read_session(path, {false}, progress.control());
    rule = opts.value("--rule") ? parse_rule(*opts.value("--rule")) : session.analysis.rule;
  }
  std::shared_ptr<const Analyzer> analyzer(const std::string& what) {
    session = data::read_session(path, {true}, progress.control());
    if (!session.has_activations()) need_activations(path, session, what, rule);
    return session.analyzer;
  }
  std::string label() const { return session_label(path, session); }
  static bool quiet_after_setup(const Options& opts) {  // threads and Ctrl-C before any work
    apply_resource_options(opts);
    install_sigint();
    return opts.flag("--quiet");
  }

  std::string path;
  Format format;
  StderrProgress progress;
  RunRecord session;
  Rule rule = Rule::PriorMax;
};

}  // namespace

int analyze_session(const Options& opts) {
  SessionJob job(opts);
  const double tau = opts.value("--tau") ? tau_option(opts) : job.session.analysis.tau;
  const Analysis* stored = job.session.stored(tau, job.rule);
  const Analysis a = stored ? *stored
                            : job.analyzer("tau " + tau_text(tau) + " (" + to_string(job.rule) + ")")
                                  ->analyze(tau, job.rule, job.progress.control());
  const RunRecord& s = job.session;
  // The run's own lines, as `run` printed them; the quality numbers belong to the saved τ only.
  const bool saved = stored == &s.analysis;
  if (job.format == Format::Table) {
    std::ostringstream out;
    if (s.model) out << run_line(s) << " (as saved)\n";
    out << analysis_table(a, job.label());
    if (s.quality && saved) out << quality_lines(*s.quality, s.quality_mode);
    emit(opts, out.str());
  } else if (job.format == Format::Csv) {
    emit(opts, analysis_csv(a));
  } else {
    nlohmann::json j = data::analysis_json(a, job.label(), s.tokens);
    data::add_run_json(j, s, saved);
    emit(opts, j.dump(1) + "\n");
  }
  return 0;
}

int sweep_session(const Options& opts) {
  SessionJob job(opts);
  std::vector<Analysis> runs;
  const auto& sweep = job.session.sweep;
  if (!opts.value("--taus") && !sweep.empty() && sweep[0].analysis.rule == job.rule) {  // the saved sweep, exactly
    for (const auto& e : sweep) runs.push_back(e.analysis);
  } else {
    const auto taus = taus_option(opts);
    for (double t : taus)  // every τ stored: no activations needed
      if (const Analysis* a = job.session.stored(t, job.rule)) runs.push_back(*a);
    if (runs.size() != taus.size()) runs = job.analyzer("this sweep")->sweep(taus, job.rule, job.progress.control());
  }
  if (job.format == Format::Table) emit(opts, sweep_table(runs, job.label()));
  else if (job.format == Format::Csv) emit(opts, sweep_csv(runs));
  else emit(opts, data::sweep_json(runs, job.label()).dump(1) + "\n");
  return 0;
}

int cmd_export(const std::vector<std::string>& args) {
  const std::vector<OptionSpec> specs = {
      {"--csv", "DIR", "write tidy CSV tables into DIR (created): layers, tokens, jaccard, sweep, sweep_layers, quality", ""},
      {"--json", "FILE", "write the whole session (everything but the activations) as one JSON document", ""},
      kQuiet,
      kHelp};
  const Options opts(specs, args);
  if (opts.flag("--help")) {
    std::cout << format_help("cascadelens-cli export S.h5 (--csv DIR | --json FILE)",
                             "Export a saved session for R, pandas or a spreadsheet: one tidy CSV per table (SPEC.md\n"
                             "names as headers, one observation per row, empty cells for missing values), or JSON.",
                             specs);
    return 0;
  }
  if (opts.positional().size() != 1) throw UsageError("export takes one session file S.h5 (see --help)");
  const auto csv = opts.value("--csv");
  const auto json = opts.value("--json");
  if (!csv && !json) throw UsageError("export needs --csv DIR and/or --json FILE");
  const std::string path = opts.positional()[0];
  StderrProgress progress(opts.flag("--quiet"));
  const RunRecord s = data::read_session(path, {false}, progress.control());
  if (csv)
    for (const auto& f : with_flag("--csv ", [&] { return data::export_session_csv(s, *csv); })) std::cout << f << "\n";
  if (json) {
    const nlohmann::json j = data::record_json(s);
    if (std::filesystem::is_directory(*json)) throw UsageError("--json " + *json + " is a folder; give a file name");
    data::write_file_atomically(*json, j.dump(1) + "\n");
    std::cout << *json << "\n";
  }
  return 0;
}

}  // namespace cascade::cli
