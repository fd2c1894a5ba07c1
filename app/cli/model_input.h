#pragma once
// The model and text options `run` and `compare` share: loading the model (--model, --device,
// --dtype), the input (--text, --text-file, --ids, or the bundled teaching text), and saving the
// run as a session (--save, --with-activations, --taus).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/options.h"
#include "core/activations.h"
#include "core/defaults.h"
#include "core/progress.h"
#include "core/run_record.h"
#include "data/hf/model_source.h"

namespace cascade::cli {

inline const OptionSpec kTokens{"--tokens", "FILE", "token strings, a JSON list (default: tokens.json beside the input)", ""};
// The model and input options, spelled once (run, compare).
inline const OptionSpec kModel{"--model", "DIR|ID", "HF model folder, or a hub id found in the local HF cache (never downloaded)",
                               "the bundled demo model"};
inline const OptionSpec kText{"--text", "STR", "the text to run", "the bundled teaching text"};
inline const OptionSpec kTextFile{"--text-file", "FILE", "read the text from FILE", ""};
inline const OptionSpec kIds{"--ids", "1,2,3", "token ids instead of text", ""};
inline const OptionSpec kNearest{"--nearest", "RULE", "paper (nearest rep anywhere) or causal-nearest (reps s <= t only)", "paper"};
inline const OptionSpec kDevice{"--device", "DEV", "cpu or cuda (ROCm builds of LibTorch also say cuda)", "cpu"};
inline const OptionSpec kDtype{"--dtype", "DT", "float32, bfloat16 or float16 (float16 needs a GPU), or auto: on the CPU float32 when the weights fit in memory, else bfloat16; on a GPU the checkpoint's dtype", "auto"};

// "1,2,3" → ids; UsageError naming --ids otherwise.
std::vector<int64_t> parse_ids_option(const std::string& text);
// The model of --model (the bundled demo model without it), with --device and --dtype; `command`
// prefixes the notes printed on stderr.
data::LoadedModel load_model_option(const Options& opts, const char* command);

struct RunInput {
  std::vector<int64_t> ids;
  std::string text;  // "" for --ids
};
RunInput run_input(const Options& opts, const data::LoadedModel& m, const char* command);

// An activation file (the one positional argument; the bundled demo file without it) with
// --tokens and --layers applied (analyze, sweep, compare).
struct ActivationInput {
  ActivationSet acts;
  std::string source;
};
ActivationInput load_activation_input(const Options& opts, const char* command);
// --save S.h5, --with-activations and --taus GRID (the sweep stored in the session).
// (inline, as shared.h's: initialised before the option tables of every file that includes this)
inline const OptionSpec kSave{"--save", "S.h5", "save the run as a session (reopen it without the model: analyze/sweep/figures/export S.h5)", ""};
inline const OptionSpec kWithActivations{"--with-activations", "", "store the normalised activations (float16, L*T*d*2 bytes) in the session so tau and the rule can change offline", ""};
inline const OptionSpec kSessionTaus{"--taus", "GRID", "the tau sweep stored in the session (START:STOP:STEP, a list, or none)", kDefaultTauGrid};
// The --save path once checked (.h5 or .hdf5; --with-activations needs --save); nullopt without it.
std::optional<std::string> save_option(const Options& opts);
// The --taus grid to store with a saved run ([] for `none`).
std::vector<double> session_taus_option(const Options& opts);
// Writes `record` to `path` (with the activations when --with-activations) and, unless --quiet,
// says on stderr what was saved, prefixed by `command`.
void save_session(const Options& opts, const std::string& path, const RunRecord& record, const char* command,
                  const JobControl& control);

}  // namespace cascade::cli
