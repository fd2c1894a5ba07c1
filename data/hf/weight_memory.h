#pragma once
// How much memory a model's weights take, read from the checkpoint's headers without reading a
// tensor, and the dtype they are loaded in: on the CPU float32 when it fits in the machine's
// memory, else bfloat16, else a refusal with the numbers; on a GPU the checkpoint's own dtype;
// an explicit dtype always. load_model (model_source.h) asks choose_dtype before it loads.
#include <cstdint>
#include <optional>
#include <string>

#include "core/errors.h"
#include "core/run_record.h"

namespace cascade::data {

// The weights fit in memory in no dtype (choose_dtype); the message gives the numbers.
struct WeightsTooLarge : InputError {
  using InputError::InputError;
};

// What the weights of a model folder hold: the floating-point tensors the model loads (integer
// buffers and a multimodal checkpoint's vision tower and projector left out), summed from the
// safetensors headers (model.safetensors or the shards of model.safetensors.index.json, only the
// tensors its weight_map names) or pytorch_model.bin's pickled shapes.
struct WeightFootprint {
  std::string dir;             // the model folder
  int64_t parameters = 0;      // elements of those tensors
  uint64_t stored_bytes = 0;   // their bytes as stored
  // config.json's torch_dtype (or dtype, as newer transformers write it; a multimodal config's
  // text_config too) when it is float32, bfloat16 or float16; else the tensors' most common float type.
  DType stored_dtype = DType::Float32;
  uint64_t bytes_in(DType dtype) const;  // parameters × the element size of dtype
};

// InputError naming the file when the folder has no weights or a header is damaged.
WeightFootprint weight_footprint(const std::string& model_dir);

// The part of the available memory the weights may take: available − max(kMemoryReserveMinBytes,
// kMemoryReserveFraction × available). The reserve is for what a run holds besides the weights —
// the residual stream and attention of every layer at T tokens, the analysis, the tokenizer, the
// GUI — and for the rest of the machine, since MemAvailable is an estimate.
inline constexpr uint64_t kMemoryReserveMinBytes = 1ull << 30;  // 1 GiB
inline constexpr double kMemoryReserveFraction = 0.10;
uint64_t usable_memory_bytes(uint64_t available_bytes);

// MemAvailable from /proc/meminfo (the kernel's estimate of what can be allocated without
// swapping, page cache included), in bytes; nullopt where it cannot be read.
std::optional<uint64_t> available_memory_bytes();

struct DtypeChoice {
  DType dtype = DType::Float32;
  uint64_t weight_bytes = 0;  // the weights in that dtype
  std::string message;        // one line: the dtype, the size and why ("float32: the weights take ...")
};

// The dtype the weights are loaded in, and the line that says so.
//   requested: used as given (on the CPU, a warning in the message when it exceeds the usable memory).
//   CPU, none requested: float32 when it fits in usable_memory_bytes(available), else bfloat16 when
//     that fits, else WeightsTooLarge naming the folder with both sizes and the memory available. With the
//     available memory unknown (nullopt), float32.
//   GPU, none requested: the stored dtype (GPU memory is not checked here).
DtypeChoice choose_dtype(const WeightFootprint& weights, DeviceKind device, std::optional<DType> requested,
                         std::optional<uint64_t> available_bytes);

// "4.6 GiB", "12.3 MiB", "58.5 KiB", "512 B" (powers of 1024).
std::string format_bytes(uint64_t bytes);

}  // namespace cascade::data
