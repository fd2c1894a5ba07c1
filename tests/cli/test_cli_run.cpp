// cascadelens-cli run end to end on the real checkpoints in ../shared (skipped without them).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "common/shared_dir.h"
#include <ATen/ATen.h>

#include "data/formats/safetensors.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string shared() { return testshared::shared_dir(); }

#define SKIP_WITHOUT_SHARED() \
  if (shared().empty()) GTEST_SKIP() << "../shared not found (set CASCADE_SHARED): real-model CLI tests skipped"

class CliRun : public clitest::TempDirTest {
 protected:
  std::string stories() const { return shared() + "/models/stories260K-hf"; }
};

}  // namespace

TEST_F(CliRun, GreedyFromBosReproducesLlama2c) {
  SKIP_WITHOUT_SHARED();
  const auto r = run({"run", "--model", stories(), "--ids", "1", "--generate", "200", "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream in(stories() + "/expected.json");
  const json expected = json::parse(in)["cases"][0];
  EXPECT_EQ(json::parse(r.out)["generated_ids"], expected["generated_ids"]);
  const auto text = run({"run", "--model", stories(), "--text", "Once upon a time", "--generate", "12"});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_EQ(text.out.rfind("Once upon a time, there was a little girl named Lily.", 0), 0u) << text.out;
}

TEST_F(CliRun, JsonTablesAndQuality) {
  SKIP_WITHOUT_SHARED();
  const auto r = run({"run", "--model", stories(), "--text", "Once upon a time, there was a little girl named Lily.",
                      "--attention", "ada-cascade", "--nearest", "causal-nearest", "--ppl", "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["L"], 5);
  EXPECT_EQ(j["d"], 64);
  EXPECT_EQ(j["T"], j["input_ids"].size());
  EXPECT_EQ(j["input_ids"][0], 1) << "Llama prepends BOS";
  EXPECT_EQ(j["tokens"].size(), j["input_ids"].size());
  EXPECT_EQ(j["attention"], "ada-cascade");
  EXPECT_GT(j["quality"]["ppl_exact"].get<double>(), 1.0);
  EXPECT_EQ(j["quality"]["attention_error"].size(), 5u);
  EXPECT_EQ(j["layers"][3]["reps_casc"].size(), j["layers"][3]["r_casc"].get<size_t>());
  const auto table = run({"run", "--model", stories(), "--text", "The cat sat.", "--ppl"});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_NE(table.out.find("quality (ada-cascade vs exact)"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("summary:"), std::string::npos);
}

// --dump-activations writes HF's output_hidden_states: compared with the golden fixture's own.
TEST_F(CliRun, DumpActivationsMatchesHfGoldens) {
  SKIP_WITHOUT_SHARED();
  const std::string fixture = shared() + "/fixtures/gpt2-tiny";
  const cascade::data::SafetensorsFile golden(fixture + "/golden.safetensors");
  // The fixture's input ids, read from the JSON of a first run is circular; take them from the file.
  std::ifstream raw(fixture + "/golden.safetensors", std::ios::binary);
  uint64_t header = 0;
  raw.read(reinterpret_cast<char*>(&header), 8);
  const auto* ids_entry = golden.find("input_ids");
  ASSERT_NE(ids_entry, nullptr);
  std::vector<int64_t> ids((ids_entry->end - ids_entry->begin) / 8);
  raw.seekg(static_cast<std::streamoff>(8 + header + ids_entry->begin));
  raw.read(reinterpret_cast<char*>(ids.data()), static_cast<std::streamsize>(ids.size() * 8));
  std::string id_list;
  for (int64_t id : ids) id_list += (id_list.empty() ? "" : ",") + std::to_string(id);

  const fs::path dump = dir_ / "dump.safetensors";
  const auto r = run({"run", "--model", fixture, "--ids", id_list, "--dump-activations", dump.string(), "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  const cascade::data::SafetensorsFile got(dump.string());
  for (const std::string name : {"hidden_states.0", "hidden_states.2", "hidden_states.3", "logits"}) {
    const at::Tensor a = got.read(*got.find(name)), b = golden.read(*golden.find(name));
    ASSERT_EQ(a.sizes(), b.sizes()) << name;
    EXPECT_TRUE(((a - b).abs() <= 2e-5 + 2e-4 * b.abs()).all().item<bool>()) << name;
  }
  // The dump is itself an activation file: analyze leaves out the final-norm entry (SPEC §1) and
  // agrees with run's own analysis.
  const auto analyzed = run({"analyze", dump.string(), "--format", "json"});
  ASSERT_EQ(analyzed.code, 0) << analyzed.err;
  const auto direct = run({"run", "--model", fixture, "--ids", id_list, "--format", "json"});
  ASSERT_EQ(direct.code, 0) << direct.err;
  EXPECT_EQ(json::parse(analyzed.out)["L"], 3);
  EXPECT_EQ(json::parse(analyzed.out)["layers"], json::parse(direct.out)["layers"]);
}

TEST_F(CliRun, ClearErrors) {
  EXPECT_EQ(run({"run", "--text", "hi", "--model"}).code, 2);  // --model without its value
  const auto missing = run({"run", "--model", (dir_ / "nope").string(), "--text", "hi"});
  EXPECT_EQ(missing.code, 3) << missing.err;
  EXPECT_NE(missing.err.find("nope"), std::string::npos) << missing.err;
  SKIP_WITHOUT_SHARED();
  EXPECT_EQ(run({"run", "--model", stories(), "--text", "hi", "--attention", "fast"}).code, 2);
  EXPECT_EQ(run({"run", "--model", stories(), "--ids", "1,99999"}).code, 3);  // a token id outside the vocabulary: bad input
  EXPECT_EQ(run({"run", "--model", stories(), "--ids", "1,2", "--text", "x"}).code, 2);
  EXPECT_EQ(run({"run", "--model", stories(), "--ids", "1,2", "--dtype", "float16"}).code, 2);
  EXPECT_EQ(run({"run", "--model", stories(), "--ids", "1,2", "--dtype", "bfloat16", "--quiet"}).code, 0);
  EXPECT_EQ(run({"run", "--model", stories(), "--ids", "1", "--generate", "3", "--ppl"}).code, 2);
  EXPECT_EQ(run({"run", "--model", stories(), "--ids", "1,2", "--dump-activations", (dir_ / "d.npy").string()}).code, 2);
  // A tokenizer that does not belong to the model: ids beyond its vocabulary are bad input, not a crash.
  const fs::path mixed = dir_ / "mixed";
  fs::create_directories(mixed);
  for (const char* f : {"config.json", "model.safetensors"})
    fs::copy_file(shared() + "/fixtures/gpt2-tiny/" + f, mixed / f);
  for (const char* f : {"encoder.json", "vocab.bpe"}) fs::copy_file(shared() + "/fixtures/gpt2-tokenizer/" + f, mixed / f);
  const auto foreign = run({"run", "--model", mixed.string(), "--text", "hello world"});
  EXPECT_EQ(foreign.code, 3) << foreign.err;
  EXPECT_NE(foreign.err.find("outside the model's vocabulary"), std::string::npos) << foreign.err;
}

// The demo model's recipe end to end at toy size: corpus file → BPE → training → HF folder → run.
// Before loading: the weights' size and the dtype, on stderr; --dtype as asked; a wrong name lists the choices.
TEST_F(CliRun, SaysTheWeightsMemoryAndDtypeBeforeLoading) {
  SKIP_WITHOUT_SHARED();
  const std::string bf16 = shared() + "/fixtures/llama-bf16-sharded-tiny";  // two bf16 shards with an index
  const auto automatic = run({"run", "--model", bf16, "--ids", "1,2,3", "--format", "json"});
  ASSERT_EQ(automatic.code, 0) << automatic.err;
  EXPECT_NE(automatic.err.find("run: float32: the weights take 553.8 KiB (141.8 k parameters); the CPU default, it fits ("),
            std::string::npos) << automatic.err;
  EXPECT_EQ(json::parse(automatic.out)["dtype"], "float32");
  const auto asked = run({"run", "--model", bf16, "--ids", "1,2,3", "--dtype", "bfloat16", "--format", "json"});
  ASSERT_EQ(asked.code, 0) << asked.err;
  EXPECT_NE(asked.err.find("run: bfloat16: the weights take 276.9 KiB (141.8 k parameters); as asked"), std::string::npos)
      << asked.err;
  EXPECT_EQ(json::parse(asked.out)["dtype"], "bfloat16");
  const auto quiet = run({"run", "--model", bf16, "--ids", "1,2,3", "--quiet"});
  EXPECT_EQ(quiet.err.find("the weights take"), std::string::npos) << quiet.err;
  const auto wrong = run({"run", "--model", bf16, "--ids", "1,2,3", "--dtype", "bf"});
  EXPECT_EQ(wrong.code, 2);
  EXPECT_NE(wrong.err.find("--dtype must be auto, float32, bfloat16 or float16, got 'bf'"), std::string::npos) << wrong.err;
}

TEST_F(CliRun, TrainDemoTinyEndToEndAndResume) {
  const fs::path corpus = dir_ / "corpus.txt";
  {
    std::ofstream out(corpus);
    for (int i = 0; i < 40; ++i)
      out << "The cat sat on the mat number " << i << ". The dog ran to the door and back again.\n\n";
  }
  const fs::path model = dir_ / "model";
  const std::vector<std::string> args = {"train-demo", "--out", model.string(), "--corpus-file", corpus.string(),
                                         "--vocab", "300", "--layers", "1", "--dim", "32", "--heads", "2",
                                         "--ctx", "64", "--steps", "6", "--batch", "2", "--seq", "16", "--quiet"};
  const auto trained = run(args);
  ASSERT_EQ(trained.code, 0) << trained.err;
  for (const char* f : {"config.json", "model.safetensors", "vocab.json", "merges.txt", "train_record.json"})
    EXPECT_TRUE(fs::exists(model / f)) << f;
  std::ifstream record_in(model / "train_record.json");
  const json record = json::parse(record_in);
  EXPECT_TRUE(std::isfinite(record["final_validation_loss"].get<double>()));
  EXPECT_EQ(record["seed"], 1);
  // The folder is an ordinary HF checkpoint: run loads it through the GPT-2 path.
  const auto used = run({"run", "--model", model.string(), "--text", "The cat sat on the mat.", "--quiet", "--format", "json"});
  ASSERT_EQ(used.code, 0) << used.err;
  EXPECT_EQ(json::parse(used.out)["L"], 1);
  // A rerun resumes from the checkpoint at the last step and writes the same weights.
  std::ifstream first(model / "model.safetensors", std::ios::binary);
  const std::string before((std::istreambuf_iterator<char>(first)), std::istreambuf_iterator<char>());
  ASSERT_EQ(run(args).code, 0);
  std::ifstream second(model / "model.safetensors", std::ios::binary);
  const std::string after((std::istreambuf_iterator<char>(second)), std::istreambuf_iterator<char>());
  EXPECT_EQ(before, after);
}
