#include "data/hf/hf_model.h"

namespace cascade::data {

HfModel open_hf_model(const std::string& dir_or_id) {
  const ResolvedModel where = resolve_model(dir_or_id);
  HfModel model;
  model.dir = where.dir;
  model.config = read_hf_config(where.dir);
  model.config.name = where.name;  // the hub id rather than the snapshot hash folder
  model.weights = std::make_shared<CheckpointWeights>(where.dir);
  return model;
}

}  // namespace cascade::data
