// CheckpointWeights: the real fixtures (safetensors), shards built here, pytorch_model.bin built
// here, memory-mapping lifetimes, and corrupted files.
#include <ATen/ATen.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "checkpoint_builders.h"
#include "data/formats/activation_io.h"
#include "data/hf/hf_model.h"
#include "data/hf/model_source.h"
#include "data/formats/safetensors.h"

namespace cascade::data::testing {
namespace {

using CheckpointTest = TempDirTest;

const std::vector<std::pair<std::string, size_t>> kFixtureTensorCounts = {
    {"fixtures/gpt2-tiny", 40},  {"fixtures/gpt2-tiny-hubnames", 43},   {"fixtures/opt-tiny", 52},
    {"fixtures/gptj-tiny", 35},  {"fixtures/gpt_neox-tiny", 40},        {"fixtures/gpt_neox-serial-tiny", 40},
    {"fixtures/llama-tiny", 30}, {"models/stories260K-hf", 47}};

// Every tensor of `weights` equals what SafetensorsFile::read (plain file reads) gives for `file`.
void expect_same_as_file(const CheckpointWeights& weights, const std::string& file) {
  const SafetensorsFile reference(file);
  ASSERT_EQ(weights.names().size(), reference.entries().size()) << file;
  for (const auto& entry : reference.entries()) {
    ASSERT_TRUE(weights.has(entry.name)) << entry.name;
    const at::Tensor want = reference.read(entry);
    const at::Tensor got = weights.get(entry.name);
    ASSERT_EQ(got.scalar_type(), want.scalar_type()) << entry.name;
    ASSERT_TRUE(at::equal(got, want)) << entry.name;
  }
}

std::vector<std::pair<std::string, at::Tensor>> all_tensors(const std::string& file) {
  const SafetensorsFile reference(file);
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& entry : reference.entries()) out.emplace_back(entry.name, reference.read(entry));
  return out;
}

void write_text(const std::string& path, const std::string& text) { write_bytes(path, text); }

std::string checkpoint_error(const std::string& dir) {
  return input_error([&] { CheckpointWeights weights(dir); });
}

void expect_error_names(const std::string& message, const std::string& file, const std::string& phrase) {
  EXPECT_TRUE(contains(message, file)) << "expected the file " << file << " in: " << message;
  EXPECT_TRUE(contains(message, phrase)) << "expected '" << phrase << "' in: " << message;
}

// ---- the fixtures ----

TEST(CheckpointFixtures, EveryTensorEqualsThePlainRead) {
  REQUIRE_SHARED(root, "");
  for (const auto& [folder, count] : kFixtureTensorCounts) {
    SCOPED_TRACE(folder);
    const std::string dir = shared_path(folder);
    const CheckpointWeights weights(dir);
    EXPECT_EQ(weights.names().size(), count);
    EXPECT_EQ(weights.describe(), dir + "/model.safetensors");
    expect_same_as_file(weights, dir + "/model.safetensors");
  }
}

TEST(CheckpointFixtures, TensorsViewTheMappingWithoutCopies) {
  REQUIRE_SHARED(dir, "fixtures/gpt2-tiny");
  const CheckpointWeights weights(dir);
  const at::Tensor a = weights.get("transformer.wte.weight");
  const at::Tensor b = weights.get("transformer.wte.weight");
  EXPECT_EQ(a.data_ptr(), b.data_ptr());  // both point into the one mapping
  EXPECT_EQ(a.sizes().vec(), (std::vector<int64_t>{96, 64}));
  EXPECT_TRUE(a.is_contiguous());
}

TEST(CheckpointFixtures, TensorsOutliveTheWeightsObject) {
  REQUIRE_SHARED(dir, "fixtures/llama-tiny");
  const SafetensorsFile reference(dir + "/model.safetensors");
  at::Tensor kept;
  {
    CheckpointWeights weights(dir);
    kept = weights.get("lm_head.weight");
  }
  at::Tensor view = kept.slice(0, 10, 20);
  kept = at::Tensor();  // the view alone keeps the mapping now
  EXPECT_TRUE(at::equal(view, reference.read(*reference.find("lm_head.weight")).slice(0, 10, 20)));
  view.mul_(2);  // the mapping is private: writing is allowed and never reaches the file
  EXPECT_TRUE(at::equal(CheckpointWeights(dir).get("lm_head.weight"), reference.read(*reference.find("lm_head.weight"))));
}

TEST(CheckpointFixtures, MissingTensorSuggestsTheNearestNames) {
  REQUIRE_SHARED(dir, "fixtures/gpt2-tiny");
  const CheckpointWeights weights(dir);
  EXPECT_FALSE(weights.has("h.0.attn.c_attn.weight"));
  const std::string message = input_error([&] { weights.get("h.0.attn.c_attn.weight"); });
  expect_error_names(message, dir + "/model.safetensors", "tensor 'h.0.attn.c_attn.weight' not found (40 tensors; e.g. ");
  EXPECT_TRUE(contains(message, "e.g. transformer.h.0.attn.c_attn.weight")) << message;
}

// ---- shards ----

TEST_F(CheckpointTest, ShardedSafetensorsEqualTheSingleFile) {
  REQUIRE_SHARED(dir, "fixtures/opt-tiny");
  const auto tensors = all_tensors(dir + "/model.safetensors");
  const size_t half = tensors.size() / 2;
  write_safetensors(path("model-00001-of-00002.safetensors"), {tensors.begin(), tensors.begin() + half});
  write_safetensors(path("model-00002-of-00002.safetensors"), {tensors.begin() + half, tensors.end()});
  nlohmann::ordered_json map;
  for (size_t i = 0; i < tensors.size(); ++i)
    map[tensors[i].first] = i < half ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  write_text(path("model.safetensors.index.json"),
             nlohmann::ordered_json{{"metadata", {{"total_size", 1}}}, {"weight_map", map}}.dump());
  write_text(path("model.safetensors"), "not used: the index comes first");

  const CheckpointWeights weights(dir_.string());
  EXPECT_EQ(weights.describe(), path("model.safetensors.index.json"));
  EXPECT_EQ(weights.files().size(), 2u);
  EXPECT_EQ(weights.names().front(), tensors.front().first);  // index order
  expect_same_as_file(weights, dir + "/model.safetensors");
}

TEST_F(CheckpointTest, IndexPointingToAMissingShard) {
  write_safetensors(path("a.safetensors"), {{"x", at::ones({2})}});
  write_text(path("model.safetensors.index.json"), R"({"weight_map": {"x": "a.safetensors", "y": "b.safetensors"}})");
  expect_error_names(checkpoint_error(dir_.string()), path("model.safetensors.index.json"),
                     "shard 'b.safetensors' (holding 'y') does not exist");
}

TEST_F(CheckpointTest, IndexNamingATensorAbsentFromItsShard) {
  write_safetensors(path("a.safetensors"), {{"x", at::ones({2})}});
  write_text(path("model.safetensors.index.json"), R"({"weight_map": {"x": "a.safetensors", "z": "a.safetensors"}})");
  const std::string message = checkpoint_error(dir_.string());
  expect_error_names(message, path("model.safetensors.index.json"), "maps tensor 'z' to ");
  EXPECT_TRUE(contains(message, path("a.safetensors") + ", which does not contain it")) << message;
}

TEST_F(CheckpointTest, IndexThatIsNotJsonOrEscapesTheFolder) {
  write_text(path("model.safetensors.index.json"), "{\"weight_map\": ");
  expect_error_names(checkpoint_error(dir_.string()), path("model.safetensors.index.json"), "is not a JSON object");
  write_text(path("model.safetensors.index.json"), R"({"weight_map": {"x": "../secret.safetensors"}})");
  expect_error_names(checkpoint_error(dir_.string()), path("model.safetensors.index.json"),
                     "which is not a file beside the index");
  write_text(path("model.safetensors.index.json"), R"({"metadata": {}})");
  expect_error_names(checkpoint_error(dir_.string()), path("model.safetensors.index.json"), "no \"weight_map\"");
}

// ---- corrupted safetensors ----

TEST_F(CheckpointTest, NoWeightsInTheFolder) {
  write_text(path("config.json"), "{}");
  write_text(path("consolidated.safetensors"), "");
  const std::string message = checkpoint_error(dir_.string());
  expect_error_names(message, dir_.string(), "no weights found");
  EXPECT_TRUE(contains(message, "weight-like files there: consolidated.safetensors")) << message;
}

TEST_F(CheckpointTest, TruncatedModelSafetensors) {
  REQUIRE_SHARED(dir, "fixtures/gpt2-tiny");
  const std::string bytes = read_bytes(dir + "/model.safetensors");
  write_bytes(path("model.safetensors"), bytes.substr(0, bytes.size() / 2));
  expect_error_names(checkpoint_error(dir_.string()), path("model.safetensors"), "lie outside the data region");
  write_bytes(path("model.safetensors"), bytes.substr(0, 5));
  expect_error_names(checkpoint_error(dir_.string()), path("model.safetensors"), "too short");
}

TEST_F(CheckpointTest, HeaderLengthBeyondTheFile) {
  write_bytes(path("model.safetensors"), safetensors_bytes({{"x", "F32", "[2]", raw(sample_values(2))}}, 1 << 20));
  expect_error_names(checkpoint_error(dir_.string()), path("model.safetensors"), "runs past the end of the file");
}

TEST_F(CheckpointTest, OffsetsBeyondTheFile) {
  std::string bytes = safetensors_bytes({{"x", "F32", "[4]", raw(sample_values(4))}});
  write_bytes(path("model.safetensors"), bytes.substr(0, bytes.size() - 4));
  expect_error_names(checkpoint_error(dir_.string()), path("model.safetensors"), "data_offsets [0, 16] lie outside");
}

TEST_F(CheckpointTest, MisalignedDataIsCopiedAndIntegerBuffersLoad) {
  // A 1-byte tensor first puts every later tensor at an odd address.
  const auto values = sample_values(6);
  write_bytes(path("model.safetensors"),
              safetensors_bytes({{"pad", "U8", "[1]", "\x07"},
                                 {"w", "F32", "[2, 3]", raw(values)},
                                 {"h", "BF16", "[3, 2]", half_raw(values, true)},
                                 {"f", "F16", "[6]", half_raw(values, false)},
                                 {"ids", "I64", "[2]", raw(std::vector<int64_t>{-5, 1LL << 40})},
                                 {"fp8", "F8_E4M3", "[2]", "ab"}}));
  const CheckpointWeights weights(dir_.string());
  EXPECT_EQ(weights.names().size(), 6u);  // an unsupported dtype only fails when asked for
  expect_values(weights.get("w"), values, {2, 3});
  expect_values(weights.get("h"), values, {3, 2});
  expect_values(weights.get("f"), values, {6});
  EXPECT_EQ(weights.get("h").scalar_type(), at::kBFloat16);
  EXPECT_EQ(weights.get("f").scalar_type(), at::kHalf);
  const at::Tensor ids = weights.get("ids");
  EXPECT_EQ(ids.scalar_type(), at::kLong);
  EXPECT_EQ(ids[1].item<int64_t>(), 1LL << 40);
  EXPECT_EQ(weights.get("pad").item<uint8_t>(), 7);
  expect_error_names(input_error([&] { weights.get("fp8"); }), path("model.safetensors"),
                     "tensor 'fp8' has dtype F8_E4M3, which has no torch type");
}

// ---- pytorch_model.bin ----

TEST_F(CheckpointTest, AWeightRelabelledAsAnIntegerIsRefused) {
  // The probe's case: a float weight's dtype relabelled to an integer of the same width (F16 → I16,
  // the bytes unchanged) was cast silently into nonsense weights. The loader names it.
  const fs::path dir = dir_ / "relabelled";
  fs::copy(bundled_model_dir(), dir, fs::copy_options::recursive);
  std::string bytes = read_bytes((dir / "model.safetensors").string());
  const std::string from = "\"transformer.h.0.ln_1.weight\":{\"dtype\":\"F16\"";
  const auto at = bytes.find(from);
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at + from.size() - 4, 3, "I16");
  write_bytes((dir / "model.safetensors").string(), bytes);
  const std::string message = input_error([&] { load_model({dir.string(), DeviceKind::Cpu, std::nullopt, {}}); });
  EXPECT_TRUE(contains(message, "transformer.h.0.ln_1.weight")) << message;
  EXPECT_TRUE(contains(message, "has dtype Short; model weights are floating point")) << message;
}

TEST_F(CheckpointTest, PytorchBinEqualsSafetensors) {
  REQUIRE_SHARED(dir, "fixtures/gptj-tiny");
  for (bool ordered : {true, false}) {
    SCOPED_TRACE(ordered ? "OrderedDict with _metadata" : "plain dict");
    write_state_dict_zip(path("pytorch_model.bin"), all_tensors(dir + "/model.safetensors"), ordered);
    const CheckpointWeights weights(dir_.string());
    EXPECT_EQ(weights.describe(), path("pytorch_model.bin"));
    expect_same_as_file(weights, dir + "/model.safetensors");
  }
}

// The data.pkl bytes CPython's pickle (protocol 2, as torch.save uses) emits for an OrderedDict
// state dict with `_metadata` whose two tensors share storage '0' (10 floats): memo puts and gets
// (BINPUT/BINGET) for the repeated storage tuple parts, as in real files.
TEST_F(CheckpointTest, PytorchBinWithPythonsOwnPickleBytes) {
  const std::string python_pickle(
      "\x80\x02" "ccollections\x0aOrderedDict\x0aq\x00)Rq\x01(X\x08\x00\x00\x00" "a.weightq\x02" "c"
      "torch._utils\x0a_rebuild_tensor_v2\x0aq\x03((X\x07\x00\x00\x00storageq\x04" "ctorch\x0a" "F"
      "loatStorage\x0aq\x05X\x01\x00\x00\x00" "0q\x06X\x03\x00\x00\x00" "cpuq\x07K\x0atq\x08QK\x00"
      "K\x02K\x03\x86q\x09K\x03K\x01\x86q\x0a\x89h\x00)Rq\x0btq\x0cRq\x0dX\x08\x00\x00\x00" "b.wei"
      "ghtq\x0eh\x03((h\x04h\x05h\x06h\x07K\x0atq\x0fQK\x06K\x02K\x02\x86q\x10K\x01K\x02\x86q\x11\x89"
      "h\x00)Rq\x12tq\x13Rq\x14u}q\x15X\x09\x00\x00\x00_metadataq\x16h\x00)Rq\x17X\x00\x00\x00\x00"
      "q\x18}q\x19X\x07\x00\x00\x00versionq\x1aK\x01sssb.",
      294);
  const std::vector<ZipStorage> storages = {{"0", "FloatStorage", at::arange(10, at::kFloat)}};
  write_torch_zip(path("pytorch_model.bin"), python_pickle, storages);
  const CheckpointWeights weights(dir_.string());
  EXPECT_EQ(weights.names(), (std::vector<std::string>{"a.weight", "b.weight"}));
  expect_values(weights.get("a.weight"), {0, 1, 2, 3, 4, 5}, {2, 3});
  expect_values(weights.get("b.weight"), {6, 8, 7, 9}, {2, 2});  // offset 6, strides (1, 2)
}

TEST_F(CheckpointTest, PytorchBinSharedStoragesViewsAndDtypes) {
  const at::Tensor shared = at::arange(12, at::kFloat);
  const at::Tensor bf16 = at::arange(4, at::kFloat).to(at::kBFloat16);
  const std::vector<ZipStorage> storages = {{"0", "FloatStorage", shared},
                                            {"1", "BFloat16Storage", bf16},
                                            {"2", "LongStorage", at::tensor({3, -4}, at::kLong)},
                                            {"3", "ComplexFloatStorage", at::zeros({4}, at::kFloat)}};
  const std::vector<ZipView> views = {{"embed", "0", 0, {3, 4}, {4, 1}},      // tied: one storage, two names
                                      {"head", "0", 0, {3, 4}, {4, 1}},
                                      {"transposed", "0", 0, {4, 3}, {1, 4}},
                                      {"slice", "0", 5, {2, 2}, {4, 1}},
                                      {"half", "1", 1, {3}, {1}},
                                      {"buffer", "2", 0, {2}, {1}},
                                      {"complex", "3", 0, {2}, {1}}};
  write_torch_zip(path("pytorch_model.bin"), state_dict_pickle(storages, views), storages);
  const CheckpointWeights weights(dir_.string());
  EXPECT_EQ(weights.names(), (std::vector<std::string>{"embed", "head", "transposed", "slice", "half", "buffer", "complex"}));
  const at::Tensor grid = shared.reshape({3, 4});
  EXPECT_TRUE(at::equal(weights.get("embed"), grid));
  EXPECT_TRUE(at::equal(weights.get("head"), grid));
  EXPECT_TRUE(at::equal(weights.get("transposed"), grid.t()));
  EXPECT_TRUE(weights.get("transposed").is_contiguous());
  EXPECT_TRUE(at::equal(weights.get("slice"), grid.slice(0, 1, 3).slice(1, 1, 3)));
  EXPECT_TRUE(at::equal(weights.get("half"), bf16.slice(0, 1, 4)));
  EXPECT_TRUE(at::equal(weights.get("buffer"), at::tensor({3, -4}, at::kLong)));
  expect_error_names(input_error([&] { weights.get("complex"); }), path("pytorch_model.bin"),
                     "stored as ComplexFloatStorage, which is not supported");
}

TEST_F(CheckpointTest, ShardedPytorchBin) {
  write_state_dict_zip(path("pytorch_model-00001-of-00002.bin"), {{"a", at::ones({2, 2})}}, false);
  write_state_dict_zip(path("pytorch_model-00002-of-00002.bin"), {{"b", at::full({3}, 2.0f)}}, false);
  write_text(path("pytorch_model.bin.index.json"),
             R"({"weight_map": {"a": "pytorch_model-00001-of-00002.bin", "b": "pytorch_model-00002-of-00002.bin"}})");
  const CheckpointWeights weights(dir_.string());
  EXPECT_TRUE(at::equal(weights.get("a"), at::ones({2, 2})));
  EXPECT_TRUE(at::equal(weights.get("b"), at::full({3}, 2.0f)));
}

TEST_F(CheckpointTest, PytorchBinProblems) {
  const std::string bin = path("pytorch_model.bin");
  auto expect_bin_error = [&](const std::string& phrase) { expect_error_names(checkpoint_error(dir_.string()), bin, phrase); };

  write_bytes(bin, std::string("\x80\x02\x8a\x0a", 4) + "legacy");
  expect_bin_error("legacy torch.save format (PyTorch < 1.6), which is not supported; convert it to safetensors");
  write_bytes(bin, "hello");
  expect_bin_error("is not a PyTorch zip archive");

  const std::vector<ZipStorage> storages = {{"0", "FloatStorage", at::ones({4})}};
  write_torch_zip(bin, state_dict_pickle(storages, {{"w", "0", 0, {4}, {1}}}), storages);
  const std::string good = read_bytes(bin);
  write_bytes(bin, good.substr(0, good.size() - 30));
  expect_bin_error("cannot read the zip archive");

  const std::vector<ZipStorage> elsewhere = {{"7", "FloatStorage", at::ones({4})}};
  write_torch_zip(bin, state_dict_pickle(elsewhere, {{"w", "7", 0, {4}, {1}}}), storages);  // no data/7
  expect_bin_error("tensor 'w': storage record data/7 is missing");
  write_torch_zip(bin, state_dict_pickle(storages, {{"w", "0", 2, {2, 2}, {2, 1}}}), storages);
  expect_bin_error("tensor reaches element 5 of storage '0' which holds 4");
  const std::vector<ZipStorage> lying = {{"0", "FloatStorage", at::ones({1 << 20})}};  // pickled numel
  write_torch_zip(bin, state_dict_pickle(lying, {{"w", "0", 0, {4}, {1}}}), storages);  // written: 4 floats
  expect_bin_error("tensor 'w': storage data/0 runs past the end of the file");

  write_torch_zip(bin, "\x80\x02" + pickle::global("posix", "system") + ".", storages);
  expect_bin_error("refers to posix.system, which a plain torch.save state dict does not use");
  write_torch_zip(bin, state_dict_pickle(storages, {}).substr(0, 20), storages);
  expect_bin_error("data.pkl at byte");
}

}  // namespace
}  // namespace cascade::data::testing
