// cascadelens-cli: the headless front end. Exit codes: 0 ok, 1 internal error, 2 usage, 3 bad input,
// 130 cancelled (Ctrl-C).
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/errors.h"

namespace {

const char* kUsage =
    "usage: cascadelens-cli COMMAND [options]\n"
    "\n"
    "Representative tokens of transformer hidden states, layer by layer: independent (a Gram\n"
    "threshold at every layer) and cascade (inherit, validate, add, remove).\n"
    "\n"
    "commands:\n"
    "  run              run a model on a text and analyse its hidden states (default: the\n"
    "                   bundled demo model and teaching text; --model M for an HF model;\n"
    "                   --save S.h5 keeps it as a session that reopens without the model)\n"
    "  compare [FILE]   the cascade's set against the baselines (H2O, SnapKV, k-means, ...) at\n"
    "                   the same budget: coverage, attention error, perplexity (SPEC section 7)\n"
    "  study [CORPUS]   every measure over the documents of a corpus, with CIs and paired tests\n"
    "                   (SPEC section 8; resumable; --shard i/N + study merge; mpirun; study show)\n"
    "  serve            the engine over HTTP for the desktop app (File > Connect to Engine) and\n"
    "                   `run --engine URL` on another machine (token, loopback or TLS)\n"
    "  analyze [FILE]   per-layer sets and measures at one tau (FILE: activations or a session;\n"
    "                   default: the bundled demo)\n"
    "  sweep [FILE]     the measures over a grid of tau\n"
    "  export S.h5      a session as tidy CSV tables (--csv DIR) or JSON (--json FILE)\n"
    "  tokenize         a model's token ids, tokens and byte offsets for texts (--model M or\n"
    "                   --tokenizer PATH; --text T, --text-file F or --jsonl F)\n"
    "  synth OUT        write synthetic clustered activations for demos and tests\n"
    "  train-demo       train the small demo GPT-2 from Debian-packaged English text\n"
    "  figures [FILE]   render the desktop app's figures to SVG/PDF/PNG, headless\n"
    "\n"
    "  --version        versions, and the BLAS actually in use\n"
    "  --help           this text; COMMAND --help for each command\n"
    "\n"
    "exit codes: 0 ok, 1 other error (e.g. an output that cannot be written), 2 usage error,\n"
    "            3 bad input, 130 cancelled\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string command = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  try {
    if (command == "--help" || command == "-h" || command == "help") {
      std::cout << kUsage;
      return 0;
    }
    if (command == "--version" || command == "version") return cascade::cli::cmd_version();
    if (command == "analyze") return cascade::cli::cmd_analyze(rest);
    if (command == "sweep") return cascade::cli::cmd_sweep(rest);
    if (command == "synth") return cascade::cli::cmd_synth(rest);
    if (command == "run") return cascade::cli::cmd_run(rest);
    if (command == "compare") return cascade::cli::cmd_compare(rest);
    if (command == "study") return cascade::cli::cmd_study(rest);
    if (command == "serve") return cascade::cli::cmd_serve(rest);
    if (command == "tokenize") return cascade::cli::cmd_tokenize(rest);
    if (command == "train-demo") return cascade::cli::cmd_train_demo(rest);
    if (command == "figures") return cascade::cli::cmd_figures(rest);
    if (command == "export") return cascade::cli::cmd_export(rest);
    std::cerr << "cascadelens-cli: unknown command '" << command << "'\n\n" << kUsage;
    return 2;
  } catch (const cascade::UsageError& e) {
    std::cerr << "cascadelens-cli " << command << ": " << e.what() << "\n";
    return 2;
  } catch (const cascade::InputError& e) {
    std::cerr << "cascadelens-cli " << command << ": " << e.what() << "\n";
    return 3;
  } catch (const cascade::Cancelled&) {
    std::cerr << "cascadelens-cli " << command << ": cancelled\n";
    return 130;
  } catch (const cascade::Error& e) {  // e.g. an output file that cannot be written
    std::cerr << "cascadelens-cli " << command << ": " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "cascadelens-cli " << command << ": internal error: " << e.what() << "\n";
    return 1;
  }
}
