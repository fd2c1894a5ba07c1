// cascadelens-cli figures: the GUI's figures rendered headless (Qt's offscreen platform) from an
// activation file or a model run, to SVG/PDF/PNG — the same figure classes, the same painter code.
#include <QDir>
#include <QGuiApplication>

#include <cstdio>
#include <filesystem>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/session_input.h"
#include "cli/shared.h"
#include "core/analyzer.h"
#include "core/engine.h"
#include "core/errors.h"
#include "core/snapshot.h"
#include "data/formats/activation_io.h"
#include "data/hf/model_source.h"
#include "data/session/session_file.h"
#include "data/study/study_file.h"
#include "widgets/figures/method_view.h"
#include "widgets/render.h"
#include "widgets/study_figures.h"

namespace cascade::cli {

namespace {

// The figure ids come from the figure registry, the one list of them.
const std::vector<OptionSpec> kSpecs = {
    {"--out", "DIR", "folder for the figures (created)", ""},
    {"--format", "LIST", "comma list of svg, pdf, png", "svg,pdf,png"},
    {"--figures", "LIST", "comma list of figure ids (" + widgets::figure_ids().join(", ").toStdString() + ")", "all"},
    {"--dpi", "N", "PNG resolution", "300"},
    {"--layer", "N", "the selected layer (depth player, Gram matrix, cascade step)", "1"},
    {"--token", "N", "the selected token (outlined)", "none"},
    {"--anonymous", "", "no model or file name in the figures (double-blind review)", ""},
    {"--width", "POINTS", "figure width (a paper column is ~240, a page ~500)", "each figure's own"},
    {"--height", "POINTS", "figure height", "fits the width and type"},
    {"--font-size", "POINTS", "no text smaller than this (8 for a paper column)", "each figure's own (7-10)"},
    {"--preset", "NAME", "single-column (240 pt, 8 pt type), double-column (500, 9) or slide (720, 16); "
                         "--width/--font-size override it", "none"},
    {"--no-title", "", "leave out the title line (the caption says it)", ""},
    {"--no-highlight", "", "no selected-layer or token emphasis", ""},
    {"--layers", "A:B", "draw layers A..B-1 only (Python slice; either end may be left out)", "all"},
    {"--tokens", "A:B", "draw tokens A..B-1 only (token map, depth player, Gram matrix)", "all"},
    kTau,
    kRule,
    kTaus,
    {"--model", "DIR|ID", "run this model (without FILE)", "the bundled demo model"},
    {"--text", "STR", "the text to run", "the bundled teaching text"},
    {"--text-file", "FILE", "read the text from FILE", ""},
    kThreads, kMemoryLimit,
    kQuiet,
    kHelp};

// "A:B", ":B", "A:" or "A" (that one index) as a window within 0..n−1; `flag` names the option in errors.
widgets::Span span_option(const Options& opts, const std::string& flag, int64_t n, const char* what) {
  widgets::Span span;
  const auto v = opts.value(flag);
  if (!v) return span;
  const std::string s = *v;
  const auto colon = s.find(':');
  auto index = [&](const std::string& part, int64_t fallback) -> int64_t {
    if (part.empty()) return fallback;
    size_t used = 0;
    long long x = 0;
    try {
      x = std::stoll(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != part.size()) throw UsageError(flag + " wants A:B with whole numbers, got '" + s + "'");
    return x < 0 ? n + x : x;  // −1 is the last, as in Python
  };
  const int64_t a = index(s.substr(0, colon), 0);
  const int64_t b = colon == std::string::npos ? a + 1 : index(s.substr(colon + 1), n);
  if (a < 0 || a >= n || b <= a || b > n)
    throw UsageError(flag + " " + s + " is outside this run's " + std::to_string(n) + " " + what + " (0.." +
                     std::to_string(n - 1) + "), or empty");
  span.begin = a;
  span.end = b;
  return span;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

// A study file's figures (study-bands, study-histogram, study-tradeoff) at --tau (a τ of its grid),
// exported as the study window exports them.
int study_figures(const Options& opts, const std::string& path, const std::vector<std::string>& wanted,
                  const std::vector<widgets::ExportFormat>& formats, double dpi, QSizeF size, double font_pt) {
  study::Aggregates stored;
  auto s = std::make_shared<const study::Study>(data::read_study(path, &stored));
  widgets::StudyFigureState state;
  state.font_pt = font_pt;
  state.title = !opts.flag("--no-title");
  if (opts.value("--tau")) {
    state.tau = s->tau_index(tau_option(opts));
    if (state.tau < 0) throw UsageError("--tau " + *opts.value("--tau") + " is not in the study's grid (" + s->params.get("taus").value_or("") + ")");
  }
  const widgets::StudyData data =
      widgets::make_study_data(s, widgets::study_name(*s, QString::fromStdString(path)), stored);
  const std::vector<const widgets::StudyData*> studies{&data};
  const QString dir = QString::fromStdString(*opts.value("--out"));
  if (!QDir().mkpath(dir)) throw Error("cannot write " + *opts.value("--out") + " (cannot create the folder)");
  QStringList written;
  for (const widgets::StudyFigureKind kind : widgets::study_figure_kinds()) {
    const QString id = widgets::study_figure_id(kind);
    if (!wanted.empty() && wanted != std::vector<std::string>{"all"} &&
        std::find(wanted.begin(), wanted.end(), id.toStdString()) == wanted.end())
      continue;
    if (const QString why = widgets::study_unavailable(kind, studies); !why.isEmpty()) {
      std::fprintf(stderr, "figures: skipping %s (%s)\n", id.toUtf8().constData(), why.toUtf8().constData());
      continue;
    }
    for (auto f : formats) {
      const QString file = QDir(dir).filePath(id + "." + widgets::extension(f));
      widgets::export_study_figure(kind, studies, state, file, widgets::ExportOptions{f, size, dpi});
      written << file;
    }
  }
  if (written.isEmpty()) throw UsageError("nothing was drawn: every figure asked for was skipped (see above)");
  for (const QString& p : written) std::cout << p.toStdString() << "\n";
  return 0;
}

}  // namespace

int cmd_figures(const std::vector<std::string>& args) {
  const Options opts(kSpecs, args);
  if (opts.flag("--help")) {
    std::cout << format_help("cascadelens-cli figures [FILE] --out DIR [options]",
                             "Render the desktop app's figures headless: from a saved session (run --save S.h5; at its\n"
                             "saved tau unless --tau is given), an activation FILE (.npy, .safetensors, .h5), or by\n"
                             "running a model on a text (default: the bundled model and teaching text). A study file\n"
                             "(study --out S.h5) gives the study window's figures: study-bands, study-histogram,\n"
                             "study-tradeoff (at --tau, a tau of its grid; default its first).",
                             kSpecs);
    return 0;
  }
  const auto out = opts.value("--out");
  if (!out) throw UsageError("figures needs --out DIR");
  std::vector<widgets::ExportFormat> formats;
  for (const auto& f : split(opts.value_or_default("--format"))) formats.push_back(widgets::parse_export_format(QString::fromStdString(f)));
  if (formats.empty()) throw UsageError("--format is empty");
  const double tau = tau_option(opts);
  const Rule rule = rule_option(opts);
  const auto taus = taus_option(opts);
  const double dpi = opts.number("--dpi");
  // The layout, before any work: a preset's width and type, each overridden by its own option.
  const widgets::ExportPreset* preset = nullptr;
  if (const auto p = opts.value("--preset")) {
    preset = widgets::find_export_preset(QString::fromStdString(*p));
    if (!preset) {
      std::string ids;
      for (const auto& e : widgets::export_presets()) ids += std::string(ids.empty() ? "" : ", ") + e.id;
      throw UsageError("unknown --preset '" + *p + "' (" + ids + ")");
    }
  }
  const QSizeF size(opts.value("--width") ? opts.number("--width") : preset ? preset->width_pt : 0,
                    opts.value("--height") ? opts.number("--height") : 0);
  for (const auto& [flag, v] : {std::pair{"--width", size.width()}, std::pair{"--height", size.height()}})
    if (opts.value(flag) && !(v >= 36 && v <= 10000)) throw UsageError(std::string(flag) + " must be between 36 and 10000 points");
  const double font_pt = opts.value("--font-size") ? opts.number("--font-size") : preset ? preset->font_pt : 0;
  if (opts.value("--font-size") && !(font_pt >= 4 && font_pt <= 72)) throw UsageError("--font-size must be between 4 and 72 points");
  const auto wanted = split(opts.value_or_default("--figures"));
  if (opts.positional().size() > 1) throw UsageError("figures takes at most one input FILE");
  const bool study_input = opts.positional().size() == 1 && data::is_study_file(opts.positional()[0]);
  for (const auto& id : wanted)  // before any work
    if (id != "all" && (study_input ? !widgets::parse_study_figure(QString::fromStdString(id))
                                    : !widgets::make_figure(QString::fromStdString(id))))
      throw UsageError("unknown figure '" + id + "' (" +
                       (study_input ? std::string("a study file has study-bands, study-histogram, study-tradeoff")
                                    : widgets::figure_ids().join(", ").toStdString()) + ")");
  apply_resource_options(opts);
  install_sigint();
  StderrProgress progress(opts.flag("--quiet"));

  // Qt without a display: the offscreen platform unless the caller chose one.
  if (!std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1);
  static int argc = 1;
  static char name[] = "cascadelens-cli";
  static char* argv[] = {name, nullptr};
  // Qt's own chatter ("QStandardPaths: XDG_RUNTIME_DIR not set, …") is not ours to print: an error
  // stays one line. Qt's criticals still go to stderr; CASCADELENS_QT_MESSAGES=1 shows the rest.
  qInstallMessageHandler([](QtMsgType type, const QMessageLogContext&, const QString& message) {
    static const bool all = std::getenv("CASCADELENS_QT_MESSAGES") != nullptr;
    if (type == QtCriticalMsg || type == QtFatalMsg || all)
      std::fprintf(stderr, "figures: Qt: %s\n", message.toLocal8Bit().constData());
  });
  QGuiApplication app(argc, argv);

  if (study_input) return study_figures(opts, opts.positional()[0], wanted, formats, dpi, size, font_pt);

  std::shared_ptr<RunRecord> record;
  double shown_tau = tau;  // a session shows its saved τ and rule unless others are asked for
  Rule shown_rule = rule;
  if (is_session_input(opts)) {
    if (opts.value("--model") || opts.value("--text") || opts.value("--text-file"))
      throw UsageError("give an input FILE or --model/--text, not both");
    const std::string path = opts.positional()[0];
    record = std::make_shared<RunRecord>(data::read_session(path, {}, progress.control()));
    record->source += " · session " + std::filesystem::path(path).filename().string();
    if (!opts.value("--tau")) shown_tau = record->analysis.tau;
    if (!opts.value("--rule")) shown_rule = record->analysis.rule;
  } else if (!opts.positional().empty()) {
    if (opts.value("--model") || opts.value("--text") || opts.value("--text-file"))
      throw UsageError("give an input FILE or --model/--text, not both");
    const ActivationSet acts = data::load_activations(opts.positional()[0], "");
    record = std::make_shared<RunRecord>(
        analyze_activations(acts, taus, rule, progress.control(), kInteractiveGramCacheBytes));
    record->source = opts.positional()[0];
  } else {
    const data::LoadedModel m = data::load_model(data::ModelRequest{opts.value_or("--model", "")});
    if (opts.value("--text") && opts.value("--text-file")) throw UsageError("give only one of --text or --text-file");
    const std::string text = opts.value("--text")        ? *opts.value("--text")
                             : opts.value("--text-file") ? data::read_text_file(*opts.value("--text-file"))
                                                         : data::read_text_file(data::bundled_default_text_path());
    RunRequest request = data::request_for(m, data::encode_text(m, text), text);
    request.tau = tau;
    request.rule = rule;
    request.sweep_taus = taus;
    record = std::make_shared<RunRecord>(run_model(*m.model, request, progress.control()));  // its own analysis at τ is stored
  }
  const auto snap = RunSnapshot::derive(record, shown_tau, shown_rule, progress.control());
  widgets::FigureState state;
  state.layer = opts.integer("--layer", std::min<int64_t>(1, snap->L() - 1));
  if (state.layer < 0 || state.layer >= snap->L())
    throw UsageError("--layer must be in 0.." + std::to_string(snap->L() - 1) + " (this run has " +
                     std::to_string(snap->L()) + " layers)");
  if (opts.value("--token")) {
    state.token = opts.integer("--token", -1);
    if (state.token < 0 || state.token >= snap->T())
      throw UsageError("--token must be in 0.." + std::to_string(snap->T() - 1));
  }
  state.anonymous = opts.flag("--anonymous");
  state.title = !opts.flag("--no-title");
  state.highlight = !opts.flag("--no-highlight");
  state.layers = span_option(opts, "--layers", snap->L(), "layers");
  state.tokens = span_option(opts, "--tokens", snap->T(), "tokens");
  state.font_pt = font_pt;
  std::vector<float> gram;
  state.gram_limit = 4096;  // headless: no UI thread to keep responsive
  if (snap->T() <= state.gram_limit && snap->has_activations()) {
    gram = snap->gram(state.layer);
    state.gram = &gram;
  }
  std::unique_ptr<CascadeExplanation> explanation;
  if (state.layer >= 1 && snap->has_activations()) {
    explanation = std::make_unique<CascadeExplanation>(snap->explain(state.layer));
    state.explanation = explanation.get();
  }
  // SPEC §7 comparisons the record holds (a session saved by the GUI or with them): the Methods and
  // trade-off figures draw them, at the budget of the last one made at the shown τ (else the last).
  // Without any they are skipped with the note why (a folder of figures holds only what was computed).
  std::vector<Comparison> tradeoff;
  if (!record->comparisons.empty()) {
    Budget budget = record->comparisons.back().budget;
    if (const Comparison* at = widgets::comparison_at(record->comparisons, snap->tau())) budget = at->budget;
    state.comparison = widgets::shown_comparison(record->comparisons, snap->tau(), to_string(snap->rule()), snap->T(), budget,
                                                 tradeoff);
    if (!tradeoff.empty()) state.tradeoff = &tradeoff;
  }
  QStringList written;
  const QString dir = QString::fromStdString(*out);
  if (!QDir().mkpath(dir)) throw Error("cannot write " + *out + " (cannot create the folder)");
  for (const auto& figure : widgets::all_figures()) {
    const bool asked = wanted.empty() || wanted == std::vector<std::string>{"all"} ||
                       std::find(wanted.begin(), wanted.end(), figure->id().toStdString()) != wanted.end();
    if (!asked) continue;
    if (!figure->available(*snap, state)) {
      std::fprintf(stderr, "figures: skipping %s (nothing to draw: %s)\n", figure->id().toUtf8().constData(),
                   figure->unavailable_reason(*snap, state).toUtf8().constData());
      continue;
    }
    for (auto f : formats) {
      const QString path = QDir(dir).filePath(figure->id() + "." + widgets::extension(f));
      widgets::export_figure(*figure, *snap, state, path, widgets::ExportOptions{f, size, dpi});
      written << path;
    }
  }
  if (written.isEmpty()) throw UsageError("nothing was drawn: every figure asked for was skipped (see above)");
  for (const QString& p : written) std::cout << p.toStdString() << "\n";
  return 0;
}

}  // namespace cascade::cli
