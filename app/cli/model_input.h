#pragma once
// The model and text options `run` and `compare` share: loading the model (--model, --device,
// --dtype) and the input (--text, --text-file, --ids, or the bundled teaching text).
#include <cstdint>
#include <string>
#include <vector>

#include "cli/options.h"
#include "data/hf/model_source.h"

namespace cascade::cli {

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

}  // namespace cascade::cli
