// Built without the figure library (CASCADE_BUILD_GUI=OFF): `figures` explains how to get it.
#include "cli/commands.h"
#include "core/errors.h"

namespace cascade::cli {

int cmd_figures(const std::vector<std::string>&) {
  throw UsageError("this build has no figures (configure with -DCASCADE_BUILD_GUI=ON; needs Qt6)");
}

}  // namespace cascade::cli
