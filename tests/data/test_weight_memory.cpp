// The weights' memory before loading: sizes from the checkpoint headers (against python3's reading
// of the same headers and against the tensors themselves), the dtype decision (float32 when it
// fits, else bfloat16, else a refusal with the numbers; an explicit dtype; the stored one on a
// GPU), load_model telling it before it loads, and the HF cache listing with each model's type.
#include <ATen/ATen.h>

#include "checkpoint_builders.h"
#include "core/model.h"
#include "core/models/architectures.h"
#include "data/formats/activation_io.h"
#include "data/hf/hf_model.h"
#include "data/hf/model_source.h"
#include "data/hf/weight_memory.h"

namespace cascade::data::testing {
namespace {

constexpr uint64_t GiB = 1ull << 30;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

int64_t numel_of_every_tensor(const std::string& dir, bool (*keep)(const std::string&)) {
  const CheckpointWeights weights(dir);
  int64_t n = 0;
  for (const auto& name : weights.names())
    if (keep(name)) n += weights.get(name).numel();
  return n;
}

// ---- sizes from the headers ----

TEST(WeightFootprint, ShardedBf16FixtureFromItsHeaders) {
  REQUIRE_SHARED(dir, "fixtures/llama-bf16-sharded-tiny");
  const WeightFootprint w = weight_footprint(dir);
  // python3: sum of prod(shape) over both shards' header JSON (struct.unpack('<Q') + json.loads).
  EXPECT_EQ(w.parameters, 141760);
  EXPECT_EQ(w.stored_bytes, 283520u);
  EXPECT_EQ(w.parameters, numel_of_every_tensor(dir, [](const std::string&) { return true; }));
  EXPECT_EQ(w.stored_dtype, DType::BFloat16);  // config.json's torch_dtype
  EXPECT_EQ(w.bytes_in(DType::Float32), 4u * 141760);
  EXPECT_EQ(w.bytes_in(DType::BFloat16), 2u * 141760);
  EXPECT_EQ(w.dir, dir);
}

TEST(WeightFootprint, MultimodalCheckpointCountsTheTextTowerOnly) {
  REQUIRE_SHARED(dir, "fixtures/gemma3-multimodal-tiny");
  const WeightFootprint w = weight_footprint(dir);
  EXPECT_EQ(w.parameters, 175056);  // python3, without vision_tower.* and multi_modal_projector.*
  EXPECT_EQ(w.parameters, numel_of_every_tensor(dir, [](const std::string& name) {
              return name.rfind("language_model.", 0) == 0;
            }));
  EXPECT_EQ(w.stored_bytes, 4u * 175056);
  EXPECT_EQ(w.stored_dtype, DType::Float32);
}

using WeightFootprintTest = TempDirTest;

TEST_F(WeightFootprintTest, IntegerBuffersAndTheStoredDtypeFromTheTensors) {
  write_bytes(path("config.json"), R"({"model_type": "gpt2"})");  // no torch_dtype: the tensors say
  write_safetensors(path("model.safetensors"), {{"a", at::zeros({3, 4}, at::kHalf)},
                                                {"b", at::zeros({5}, at::kFloat)},
                                                {"ids", at::zeros({100}, at::kLong)}});
  const WeightFootprint w = weight_footprint(dir_.string());
  EXPECT_EQ(w.parameters, 17);
  EXPECT_EQ(w.stored_bytes, 12u * 2 + 5 * 4);
  EXPECT_EQ(w.stored_dtype, DType::Float16);
  write_bytes(path("config.json"), R"({"model_type": "gpt2", "dtype": "bfloat16"})");  // newer transformers
  EXPECT_EQ(weight_footprint(dir_.string()).stored_dtype, DType::BFloat16);
}

TEST_F(WeightFootprintTest, NoWeightsIsAnInputError) {
  write_bytes(path("config.json"), R"({"model_type": "gpt2"})");
  try {
    weight_footprint(dir_.string());
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_TRUE(contains(e.what(), "no weights found")) << e.what();
  }
}

// ---- the decision ----

WeightFootprint billion() {
  WeightFootprint w;
  w.dir = "/models/big";
  w.parameters = 1'000'000'000;  // float32 3.7 GiB, bfloat16 1.9 GiB
  w.stored_dtype = DType::BFloat16;
  return w;
}

TEST(ChooseDtype, UsableMemoryKeepsAReserve) {
  EXPECT_EQ(usable_memory_bytes(16 * GiB), 16 * GiB - static_cast<uint64_t>(0.1 * 16 * GiB));  // 10 % > 1 GiB
  EXPECT_EQ(usable_memory_bytes(4 * GiB), 3 * GiB);  // 1 GiB > 10 %
  EXPECT_EQ(usable_memory_bytes(GiB / 2), 0u);
  const auto available = available_memory_bytes();
  ASSERT_TRUE(available.has_value());  // Linux has /proc/meminfo
  EXPECT_GT(*available, 0u);
}

TEST(ChooseDtype, Float32WhenItFits) {
  const DtypeChoice c = choose_dtype(billion(), DeviceKind::Cpu, std::nullopt, 16 * GiB);
  EXPECT_EQ(c.dtype, DType::Float32);
  EXPECT_EQ(c.weight_bytes, 4'000'000'000u);
  EXPECT_EQ(c.message, "float32: the weights take 3.7 GiB (1.00 B parameters); the CPU default, it fits "
                       "(14.4 GiB usable of 16.0 GiB available)");
}

TEST(ChooseDtype, Bfloat16WhenOnlyItFitsAndItSaysSo) {
  const DtypeChoice c = choose_dtype(billion(), DeviceKind::Cpu, std::nullopt, 4 * GiB);
  EXPECT_EQ(c.dtype, DType::BFloat16);
  EXPECT_EQ(c.weight_bytes, 2'000'000'000u);
  EXPECT_EQ(c.message, "bfloat16: the weights take 1.9 GiB (1.00 B parameters); float32 would take 3.7 GiB, more "
                       "than the 3.0 GiB usable of 4.0 GiB available (ask for float32 explicitly to use it anyway)");
}

TEST(ChooseDtype, RefusedWithTheNumbersWhenNothingFits) {
  try {
    choose_dtype(billion(), DeviceKind::Cpu, std::nullopt, 2 * GiB);
    FAIL() << "no error";
  } catch (const WeightsTooLarge& e) {
    EXPECT_EQ(std::string(e.what()),
              "/models/big: the weights do not fit in memory: 1.00 B parameters take 3.7 GiB in float32 and 1.9 GiB "
              "in bfloat16, but only 1.0 GiB usable of 2.0 GiB available (reserve: the larger of 1.0 GiB and 10 % "
              "of the available memory)");
  }
}

TEST(ChooseDtype, AnExplicitDtypeIsHonoured) {
  const DtypeChoice bf16 = choose_dtype(billion(), DeviceKind::Cpu, DType::BFloat16, 16 * GiB);  // float32 would fit
  EXPECT_EQ(bf16.dtype, DType::BFloat16);
  EXPECT_TRUE(contains(bf16.message, "bfloat16: the weights take 1.9 GiB (1.00 B parameters); as asked")) << bf16.message;
  const DtypeChoice f32 = choose_dtype(billion(), DeviceKind::Cpu, DType::Float32, 2 * GiB);  // nothing fits: a warning
  EXPECT_EQ(f32.dtype, DType::Float32);
  EXPECT_TRUE(contains(f32.message, "as asked, but that is more than the 1.0 GiB usable of 2.0 GiB available: "
                                    "loading may run out of memory")) << f32.message;
  EXPECT_EQ(choose_dtype(billion(), DeviceKind::Cuda, DType::Float16, std::nullopt).dtype, DType::Float16);
}

TEST(ChooseDtype, TheGpuKeepsTheStoredDtype) {
  const DtypeChoice c = choose_dtype(billion(), DeviceKind::Cuda, std::nullopt, std::nullopt);
  EXPECT_EQ(c.dtype, DType::BFloat16);
  EXPECT_TRUE(contains(c.message, "the checkpoint's own dtype, kept on the GPU")) << c.message;
  WeightFootprint f32 = billion();
  f32.stored_dtype = DType::Float32;
  EXPECT_EQ(choose_dtype(f32, DeviceKind::Cuda, std::nullopt, std::nullopt).dtype, DType::Float32);
}

TEST(ChooseDtype, UnknownMemoryMeansFloat32) {
  const DtypeChoice c = choose_dtype(billion(), DeviceKind::Cpu, std::nullopt, std::nullopt);
  EXPECT_EQ(c.dtype, DType::Float32);
  EXPECT_TRUE(contains(c.message, "available memory is unknown")) << c.message;
}

TEST(ChooseDtype, TheShardedFixtureAgainstAvailableMemoryPassedIn) {
  REQUIRE_SHARED(dir, "fixtures/llama-bf16-sharded-tiny");
  const WeightFootprint w = weight_footprint(dir);
  const uint64_t between = GiB + 3 * static_cast<uint64_t>(w.parameters);  // usable: room for 2 bytes each, not 4
  EXPECT_EQ(choose_dtype(w, DeviceKind::Cpu, std::nullopt, 8 * GiB).dtype, DType::Float32);
  const DtypeChoice only_bf16 = choose_dtype(w, DeviceKind::Cpu, std::nullopt, between);
  EXPECT_EQ(only_bf16.dtype, DType::BFloat16);
  EXPECT_TRUE(contains(only_bf16.message, "bfloat16: the weights take 276.9 KiB (141.8 k parameters); float32 would "
                                          "take 553.8 KiB")) << only_bf16.message;
  EXPECT_THROW(choose_dtype(w, DeviceKind::Cpu, std::nullopt, GiB), WeightsTooLarge);
  EXPECT_EQ(choose_dtype(w, DeviceKind::Cpu, DType::Float32, between).dtype, DType::Float32);
  EXPECT_EQ(choose_dtype(w, DeviceKind::Cuda, std::nullopt, std::nullopt).dtype, DType::BFloat16);
}

// ---- load_model ----

TEST(LoadModelDtype, SaysTheChoiceBeforeLoadingAndHonoursARequest) {
  REQUIRE_SHARED(dir, "fixtures/llama-bf16-sharded-tiny");
  std::vector<std::string> told;
  ModelRequest request;
  request.spec = dir;
  request.on_dtype_chosen = [&](const DtypeChoice& c) { told.push_back(c.message); };
  const LoadedModel automatic = load_model(request);  // this machine has room for 554 KiB
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(automatic.dtype, DType::Float32);
  EXPECT_EQ(automatic.model->dtype(), at::kFloat);
  EXPECT_EQ(automatic.dtype_note, told[0]);
  EXPECT_TRUE(contains(told[0], "float32: the weights take 553.8 KiB")) << told[0];

  request.dtype = DType::BFloat16;
  const LoadedModel asked = load_model(request);
  EXPECT_EQ(asked.dtype, DType::BFloat16);
  EXPECT_EQ(asked.model->dtype(), at::kBFloat16);
  EXPECT_TRUE(contains(asked.dtype_note, "bfloat16: the weights take 276.9 KiB (141.8 k parameters); as asked"))
      << asked.dtype_note;
}

// ---- the HF cache with each model's type ----

using CachedModelsTest = TempDirTest;

TEST_F(CachedModelsTest, EveryModelWithItsTypeAndWhyItCannotRun) {
  const ScopedEnv hub("HF_HUB_CACHE", path("hub"));
  auto add = [&](const std::string& folder, const std::string& config, bool weights) {
    const fs::path snapshot = dir_ / "hub" / folder / "snapshots" / "rev";
    fs::create_directories(snapshot);
    write_bytes((snapshot / "config.json").string(), config);
    if (weights) write_safetensors((snapshot / "model.safetensors").string(), {{"wte", at::zeros({8, 4})}});
  };
  add("models--org--tiny-gpt2", R"({"model_type": "gpt2", "vocab_size": 8, "n_embd": 4, "n_layer": 1, "n_head": 1})", true);
  add("models--org--bert", R"({"model_type": "bert", "hidden_size": 4})", true);
  add("models--org--no-weights", R"({"model_type": "gpt2", "vocab_size": 8, "n_embd": 4, "n_layer": 1, "n_head": 1})", false);
  const std::vector<CachedModel> models = cached_models();
  ASSERT_EQ(models.size(), 3u);
  EXPECT_EQ(models[0].id, "org/bert");
  EXPECT_EQ(models[0].model_type, "bert");
  EXPECT_EQ(models[0].problem, unsupported_model_type("bert"));
  EXPECT_FALSE(models[0].weights);
  EXPECT_EQ(models[1].id, "org/no-weights");
  EXPECT_EQ(models[1].model_type, "gpt2");
  EXPECT_TRUE(contains(models[1].problem, "no weights found")) << models[1].problem;
  EXPECT_EQ(models[2].id, "org/tiny-gpt2");
  EXPECT_EQ(models[2].model_type, "gpt2");
  EXPECT_EQ(models[2].problem, "");
  ASSERT_TRUE(models[2].weights);
  EXPECT_EQ(models[2].weights->parameters, 32);
}

}  // namespace
}  // namespace cascade::data::testing
