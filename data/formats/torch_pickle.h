#pragma once
// The data.pkl of a torch.save zip archive (pytorch_model.bin), read without Python: a restricted
// unpickler that understands only what torch.save writes for a dict of tensors, like
// torch.load(weights_only=True). Any other global (a class to instantiate, a function to call)
// is refused, so a hostile file can at worst produce an error (private to the library).
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cascade::data {

// One tensor as the pickle describes it: a strided view into a storage saved as the archive
// record data/<storage_key>.
struct PickledTensor {
  std::string storage_key;
  std::string storage_type;               // as pickled: "FloatStorage", "BFloat16Storage", ...
  std::optional<at::ScalarType> dtype;    // nullopt for storage types we cannot map
  int64_t storage_numel = 0;              // elements in the storage
  int64_t storage_offset = 0;             // elements
  std::vector<int64_t> sizes, strides;
};

// The top-level dict's tensor entries, in pickle order (entries that are not tensors are skipped).
// `where` names the file in every InputError.
std::vector<std::pair<std::string, PickledTensor>> parse_state_dict_pickle(const std::string& where,
                                                                           const std::string& bytes);

}  // namespace cascade::data
