#pragma once
// The model and text options `run` and `compare` share: loading the model (--model, --device,
// --dtype) and the input (--text, --text-file, --ids, or the bundled teaching text).
#include <cstdint>
#include <string>
#include <vector>

#include "cli/options.h"
#include "core/activations.h"
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

}  // namespace cascade::cli
