// read_hf_config on every fixture (exact numbers), HF's per-model_type defaults, bad config.json
// files, and model lookup in a fake HF cache.
#include <ATen/ATen.h>

#include <chrono>

#include "checkpoint_builders.h"
#include "data/formats/activation_io.h"
#include "data/hf/hf_model.h"

namespace cascade::data::testing {
namespace {

using HfConfigTest = TempDirTest;

// The fields every fixture check spells out, in one comparable value.
struct Expected {
  std::string type;
  int64_t vocab, hidden, layers, heads, kv_heads, head_dim, inter, positions;
  double eps;
  std::string act;
  int64_t rotary;
  double theta;
  bool interleaved, parallel, tie;
  std::optional<int64_t> bos, eos, pad;
};

void expect_config(const ModelConfig& m, const Expected& e) {
  EXPECT_EQ(m.model_type, e.type);
  EXPECT_EQ(m.vocab_size, e.vocab);
  EXPECT_EQ(m.hidden_size, e.hidden);
  EXPECT_EQ(m.num_layers, e.layers);
  EXPECT_EQ(m.num_heads, e.heads);
  EXPECT_EQ(m.num_kv_heads, e.kv_heads);
  EXPECT_EQ(m.head_dim, e.head_dim);
  EXPECT_EQ(m.intermediate_size, e.inter);
  EXPECT_EQ(m.max_positions, e.positions);
  EXPECT_EQ(m.norm_eps, e.eps);
  EXPECT_EQ(m.activation, e.act);
  EXPECT_EQ(m.rotary_dim, e.rotary);
  if (e.rotary) {
    EXPECT_EQ(m.rope_theta, e.theta);
  }
  EXPECT_EQ(m.rotary_interleaved, e.interleaved);
  EXPECT_EQ(m.parallel_residual, e.parallel);
  EXPECT_EQ(m.tie_word_embeddings, e.tie);
  EXPECT_EQ(m.bos_token_id, e.bos);
  EXPECT_EQ(m.eos_token_id, e.eos);
  EXPECT_EQ(m.pad_token_id, e.pad);
}

TEST(HfConfigFixtures, ExactNumbersForEveryFixture) {
  REQUIRE_SHARED(root, "");
  const Expected gpt2{"gpt2", 96, 64, 3, 4, 4, 16, 256, 64, 1e-5, "gelu_new", 0, 0, false, false, true, 95, 95, {}};
  const std::vector<std::pair<std::string, Expected>> cases = {
      {"fixtures/gpt2-tiny", gpt2},  // tie_word_embeddings absent: GPT-2 ties
      {"fixtures/gpt2-tiny-hubnames", gpt2},
      {"fixtures/opt-tiny", {"opt", 96, 64, 3, 4, 4, 16, 192, 64, 1e-5, "relu", 0, 0, false, false, true, 2, 2, 1}},
      {"fixtures/gptj-tiny",
       {"gptj", 96, 64, 3, 4, 4, 16, 256, 64, 1e-5, "gelu_new", 8, 10000, true, true, false, 95, 95, {}}},
      {"fixtures/gpt_neox-tiny",  // rotary_pct 0.25 of head 16
       {"gpt_neox", 96, 64, 3, 4, 4, 16, 192, 64, 1e-5, "gelu", 4, 10000, false, true, false, 0, 0, {}}},
      {"fixtures/gpt_neox-serial-tiny",
       {"gpt_neox", 96, 64, 3, 4, 4, 16, 192, 64, 1e-5, "gelu", 8, 1000, false, false, false, 0, 0, {}}},
      {"fixtures/llama-tiny",
       {"llama", 96, 64, 3, 4, 2, 16, 160, 64, 1e-5, "silu", 16, 1000, false, false, false, 1, 2, {}}},
      {"models/stories260K-hf",
       {"llama", 512, 64, 5, 8, 4, 8, 172, 512, 1e-5, "silu", 8, 10000, false, false, true, 1, 2, {}}},
  };
  for (const auto& [folder, want] : cases) {
    SCOPED_TRACE(folder);
    const ModelConfig m = read_hf_config(shared_path(folder));
    expect_config(m, want);
    EXPECT_EQ(m.name, fs::path(folder).filename().string());
  }
  const ModelConfig neox = read_hf_config(shared_path("fixtures/gpt_neox-tiny"));
  EXPECT_TRUE(neox.attention_bias);
  const ModelConfig llama = read_hf_config(shared_path("fixtures/llama-tiny") + "/");
  EXPECT_FALSE(llama.attention_bias);
  EXPECT_FALSE(llama.mlp_bias);
  EXPECT_EQ(llama.name, "llama-tiny");
}

// ---- defaults and variants, on configs written here ----

class ConfigFileTest : public HfConfigTest {
 protected:
  ModelConfig read(const std::string& json) {
    write_bytes(path("config.json"), json);
    return read_hf_config(dir_.string());
  }
  void expect_error(const std::string& json, const std::string& phrase) {
    write_bytes(path("config.json"), json);
    const std::string message = input_error([&] { read_hf_config(dir_.string()); });
    EXPECT_TRUE(contains(message, path("config.json"))) << message;
    EXPECT_TRUE(contains(message, phrase)) << "expected '" << phrase << "' in: " << message;
  }
};

TEST_F(ConfigFileTest, ClassDefaultsForAbsentKeys) {
  expect_config(read(R"({"model_type": "gpt2", "vocab_size": 50, "n_embd": 32, "n_layer": 2, "n_head": 2})"),
                {"gpt2", 50, 32, 2, 2, 2, 16, 128, 1024, 1e-5, "gelu_new", 0, 0, false, false, true, {}, {}, {}});
  expect_config(read(R"({"model_type": "opt", "vocab_size": 50, "hidden_size": 32, "num_hidden_layers": 2,
                         "num_attention_heads": 2, "ffn_dim": 64, "layer_norm_eps": 0.1})"),
                {"opt", 50, 32, 2, 2, 2, 16, 64, 2048, 1e-5, "relu", 0, 0, false, false, true, {}, {}, {}});
  // GPTJConfig's rotary_dim default is 64; null rotates the whole head.
  expect_config(read(R"({"model_type": "gptj", "vocab_size": 50, "n_embd": 256, "n_layer": 1, "n_head": 2})"),
                {"gptj", 50, 256, 1, 2, 2, 128, 1024, 2048, 1e-5, "gelu_new", 64, 10000, true, true, false, {}, {}, {}});
  EXPECT_EQ(read(R"({"model_type": "gptj", "vocab_size": 5, "n_embd": 64, "n_layer": 1, "n_head": 2, "rotary_dim": null})")
                .rotary_dim,
            32);
  expect_config(read(R"({"model_type": "gpt_neox", "vocab_size": 50, "hidden_size": 64, "num_hidden_layers": 2,
                         "num_attention_heads": 4, "intermediate_size": 96})"),
                {"gpt_neox", 50, 64, 2, 4, 4, 16, 96, 2048, 1e-5, "gelu", 4, 10000, false, true, false, {}, {}, {}});
  expect_config(read(R"({"model_type": "llama", "vocab_size": 50, "hidden_size": 64, "num_hidden_layers": 2,
                         "num_attention_heads": 4, "num_key_value_heads": null, "intermediate_size": 96})"),
                {"llama", 50, 64, 2, 4, 4, 16, 96, 2048, 1e-6, "silu", 16, 10000, false, false, false, {}, {}, {}});
}

TEST_F(ConfigFileTest, ExplicitValuesWin) {
  const ModelConfig gpt2 = read(R"({"model_type": "gpt2", "vocab_size": 50, "n_embd": 32, "n_layer": 2, "n_head": 2,
      "n_inner": 48, "tie_word_embeddings": false, "activation_function": "gelu_pytorch_tanh",
      "scale_attn_by_inverse_layer_idx": true, "eos_token_id": [7, 8], "bos_token_id": null, "pad_token_id": 3})");
  EXPECT_EQ(gpt2.intermediate_size, 48);
  EXPECT_FALSE(gpt2.tie_word_embeddings);
  EXPECT_EQ(gpt2.activation, "gelu_new");
  EXPECT_TRUE(gpt2.scale_attn_by_inverse_layer_idx);
  EXPECT_EQ(gpt2.eos_token_id, 7);  // a list: the first
  EXPECT_EQ(gpt2.bos_token_id, std::nullopt);
  EXPECT_EQ(gpt2.pad_token_id, 3);
  const ModelConfig llama = read(R"({"model_type": "llama", "vocab_size": 50, "hidden_size": 64,
      "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 1, "head_dim": 32,
      "intermediate_size": 96.0, "tie_word_embeddings": true, "attention_bias": true, "mlp_bias": true})");
  EXPECT_EQ(llama.head_dim, 32);
  EXPECT_EQ(llama.rotary_dim, 32);
  EXPECT_EQ(llama.num_kv_heads, 1);
  EXPECT_EQ(llama.intermediate_size, 96);
  EXPECT_TRUE(llama.tie_word_embeddings && llama.attention_bias && llama.mlp_bias);
}

TEST_F(ConfigFileTest, TransformersV5RopeParameters) {
  const ModelConfig neox = read(R"({"model_type": "gpt_neox", "vocab_size": 50, "hidden_size": 64,
      "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 96,
      "rope_parameters": {"rope_type": "default", "rope_theta": 500.0, "partial_rotary_factor": 0.5}})");
  EXPECT_EQ(neox.rope_theta, 500.0);
  EXPECT_EQ(neox.rotary_dim, 8);
  const ModelConfig llama = read(R"({"model_type": "llama", "vocab_size": 50, "hidden_size": 64,
      "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 96,
      "rope_parameters": {"rope_type": "default", "rope_theta": 250000}})");
  EXPECT_EQ(llama.rope_theta, 250000.0);
}

// The rotary decoders' own keys, on the fixtures (exact numbers from their README files).
TEST(HfConfigFixtures, RotaryDecoderFamilies) {
  REQUIRE_SHARED(root, "");
  auto read = [](const std::string& folder) { return read_hf_config(shared_path("fixtures/" + folder)); };
  const ModelConfig llama3 = read("llama-llama3rope-tiny");
  EXPECT_EQ(llama3.rope_scaling.type, "llama3");
  EXPECT_EQ(llama3.rope_scaling.factor, 8.0);
  EXPECT_EQ(llama3.rope_scaling.original_max_positions, 64);  // not max_position_embeddings (256)
  EXPECT_EQ(llama3.rope_theta, 500000.0);
  EXPECT_EQ(read("llama-linearrope-tiny").rope_scaling.type, "linear");
  const ModelConfig mistral = read("mistral-tiny");
  EXPECT_EQ(mistral.window_of(0), 8);
  EXPECT_EQ(mistral.window_of(2), 8);
  const ModelConfig qwen2 = read("qwen2-tiny");  // sliding_window 8 present, use_sliding_window false
  EXPECT_EQ(qwen2.window_of(1), 0);
  EXPECT_TRUE(qwen2.tie_word_embeddings);
  const ModelConfig qwen3 = read("qwen3-tiny");
  EXPECT_EQ(qwen3.head_dim, 24);
  const ModelConfig gemma = read("gemma-tiny");
  EXPECT_EQ(gemma.head_dim, 32);
  EXPECT_EQ(gemma.num_kv_heads, 1);
  EXPECT_EQ(gemma.activation, "gelu_new");
  EXPECT_TRUE(gemma.tie_word_embeddings);  // absent: Gemma ties
  const ModelConfig gemma2 = read("gemma2-tiny");
  EXPECT_EQ(gemma2.attention_scale, 0.25);  // 16^-1/2
  EXPECT_EQ(gemma2.attn_logit_softcap, 5.0);
  EXPECT_EQ(gemma2.final_logit_softcap, 3.0);
  EXPECT_EQ(gemma2.sliding_layers, (std::vector<bool>{true, false, true}));
  for (const char* folder : {"gemma3_text-tiny", "gemma3-multimodal-tiny"}) {
    SCOPED_TRACE(folder);
    const ModelConfig gemma3 = read(folder);
    EXPECT_EQ(gemma3.vocab_size, 128);
    EXPECT_EQ(gemma3.sliding_layers, (std::vector<bool>{true, true, false}));
    EXPECT_EQ(gemma3.sliding_window, 5);
    EXPECT_EQ(gemma3.local_rope_theta, 10000.0);
    EXPECT_EQ(gemma3.rope_theta, 1000000.0);
    EXPECT_EQ(gemma3.rope_scaling.type, "linear");
    EXPECT_EQ(gemma3.attn_logit_softcap, 0.0);
    EXPECT_EQ(gemma3.bos_token_id, 2);
  }
  const ModelConfig phi3 = read("phi3-tiny");
  EXPECT_EQ(phi3.rotary_dim, 12);  // int(16 * 0.75)
  EXPECT_EQ(phi3.window_of(0), 0);  // sliding_window null
}

TEST_F(ConfigFileTest, RotaryDecoderVariants) {
  const std::string sizes = R"("vocab_size": 50, "hidden_size": 64, "num_hidden_layers": 4,
      "num_attention_heads": 4, "intermediate_size": 96)";
  auto with = [&](const std::string& type, const std::string& extra) {
    return read("{\"model_type\": \"" + type + "\", " + sizes + (extra.empty() ? "" : ", " + extra) + "}");
  };
  // Pre-3.1 files spell the rope type "type"; v5 writes rope_parameters.
  const ModelConfig old_linear = with("llama", R"("rope_scaling": {"type": "linear", "factor": 2.0})");
  EXPECT_EQ(old_linear.rope_scaling.type, "linear");
  EXPECT_EQ(old_linear.rope_scaling.factor, 2.0);
  const ModelConfig v5 = with("llama", R"("rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0,
      "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192})");
  EXPECT_EQ(v5.rope_scaling.type, "llama3");
  EXPECT_EQ(v5.rope_scaling.factor, 32.0);
  EXPECT_EQ(v5.rope_scaling.original_max_positions, 8192);
  EXPECT_EQ(v5.rope_theta, 500000.0);
  // Windows: absent = class default, null = none; Qwen slides only with use_sliding_window.
  EXPECT_EQ(with("mistral", "").window_of(3), 4096);
  EXPECT_EQ(with("mistral", R"("sliding_window": null)").window_of(3), 0);
  EXPECT_EQ(with("qwen2", R"("sliding_window": 16, "max_window_layers": 28)").window_of(3), 0);
  const ModelConfig qwen = with("qwen2", R"("use_sliding_window": true, "sliding_window": 16, "max_window_layers": 2)");
  EXPECT_EQ(qwen.sliding_layers, (std::vector<bool>{false, false, true, true}));
  EXPECT_EQ(qwen.sliding_window, 16);
  EXPECT_EQ(with("qwen3", "").head_dim, 128);  // Qwen3Config default, not 64 / 4
  // Gemma 2: absent caps are 50 / 30, null switches them off; layers 0, 2 slide unless layer_types says.
  const ModelConfig gemma2 = with("gemma2", "");
  EXPECT_EQ(gemma2.attn_logit_softcap, 50.0);
  EXPECT_EQ(gemma2.final_logit_softcap, 30.0);
  EXPECT_EQ(gemma2.attention_scale, 1.0 / 16);  // query_pre_attn_scalar 256
  EXPECT_EQ(gemma2.sliding_layers, (std::vector<bool>{true, false, true, false}));
  const ModelConfig uncapped = with("gemma2", R"("attn_logit_softcapping": null, "final_logit_softcapping": null,
      "layer_types": ["full_attention", "sliding_attention", "full_attention", "full_attention"])");
  EXPECT_EQ(uncapped.attn_logit_softcap, 0.0);
  EXPECT_EQ(uncapped.final_logit_softcap, 0.0);
  EXPECT_EQ(uncapped.sliding_layers, (std::vector<bool>{false, true, false, false}));
  // Gemma 3 v5: one rope dict per layer type; the global one may scale, the local one is plain.
  const ModelConfig gemma3 = with("gemma3_text", R"("sliding_window_pattern": 2, "rope_parameters": {
      "full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1000000.0},
      "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}})");
  EXPECT_EQ(gemma3.rope_scaling.type, "linear");
  EXPECT_EQ(gemma3.rope_theta, 1000000.0);
  EXPECT_EQ(gemma3.local_rope_theta, 10000.0);
  EXPECT_EQ(gemma3.sliding_layers, (std::vector<bool>{true, false, true, false}));
  // A multimodal Gemma 3 file writes only a few text keys; the rest are Gemma3TextConfig's defaults.
  const ModelConfig sparse = read(R"({"model_type": "gemma3", "eos_token_id": [1, 106], "text_config": {
      "hidden_size": 2560, "intermediate_size": 10240, "model_type": "gemma3_text", "num_hidden_layers": 34,
      "rope_scaling": {"factor": 8.0, "rope_type": "linear"}, "sliding_window": 1024}})");
  EXPECT_EQ(sparse.num_heads, 8);
  EXPECT_EQ(sparse.num_kv_heads, 4);
  EXPECT_EQ(sparse.head_dim, 256);
  EXPECT_EQ(sparse.vocab_size, 262208);
  EXPECT_EQ(sparse.eos_token_id, 1);  // from the top level
  EXPECT_EQ(sparse.window_of(4), 1024);
  EXPECT_EQ(sparse.window_of(5), 0);  // every 6th layer is global
}

TEST_F(ConfigFileTest, BadConfigsNameTheFileAndTheKey) {
  const std::string llama = R"({"model_type": "llama", "vocab_size": 50, "hidden_size": 64, "num_hidden_layers": 2,
      "num_attention_heads": 4, "intermediate_size": 96)";
  expect_error("{\"model_type\": \"gpt2\",", "is not valid JSON");
  expect_error("[1, 2]", "is not a JSON object");
  expect_error(R"({"vocab_size": 5})", "required key 'model_type' is missing");
  expect_error(R"({"model_type": "bert"})", "unsupported model_type 'bert' (supported: gpt2, opt, gptj, gpt_neox, llama, "
                                            "mistral, qwen2, qwen3, gemma, gemma2, gemma3_text, gemma3, phi3)");
  expect_error(R"({"model_type": "gpt2", "vocab_size": 50, "n_layer": 2, "n_head": 2})", "required key 'n_embd' is missing");
  expect_error(R"({"model_type": "gpt2", "vocab_size": 50, "n_embd": 32, "n_layer": 2, "n_head": "2"})",
               "key 'n_head' must be a positive integer, not \"2\"");
  expect_error(R"({"model_type": "gpt2", "vocab_size": 50, "n_embd": 30, "n_layer": 2, "n_head": 4})",
               "hidden size 30 is not divisible by 4 heads");
  expect_error(R"({"model_type": "gpt2", "n_embd": 32, "n_layer": 2, "n_head": 2})", "required key 'vocab_size'");
  expect_error(R"({"model_type": "opt", "vocab_size": 50, "hidden_size": 32, "num_hidden_layers": 2,
                   "num_attention_heads": 2, "ffn_dim": 64, "do_layer_norm_before": false})",
               "post-LN OPT (opt-350m) is not supported");
  expect_error(R"({"model_type": "opt", "vocab_size": 50, "hidden_size": 32, "num_hidden_layers": 2,
                   "num_attention_heads": 2, "ffn_dim": 64, "word_embed_proj_dim": 16})",
               "post-LN OPT (opt-350m) is not supported");
  expect_error(llama + R"(, "rope_scaling": {"rope_type": "llama3", "factor": 8.0}})",
               "rope_scaling of type llama3 needs a number 'low_freq_factor'");
  expect_error(llama + R"(, "rope_scaling": {"type": "dynamic", "factor": 2.0}})",
               "rope_scaling has type \"dynamic\": this scaled RoPE is not supported (supported: default, linear, llama3)");
  expect_error(llama + R"(, "rope_scaling": {"factor": 2.0}})", "names no rope_type");
  expect_error(llama + R"(, "rope_parameters": {"rope_type": "yarn", "rope_theta": 1}})", "rope_type \"yarn\"");
  expect_error(R"({"model_type": "phi3", "vocab_size": 50, "hidden_size": 64, "num_hidden_layers": 2,
                   "num_attention_heads": 4, "intermediate_size": 96,
                   "rope_scaling": {"type": "longrope", "short_factor": [1], "long_factor": [2]}})",
               "rope_scaling has type \"longrope\": this scaled RoPE is not supported");
  expect_error(R"({"model_type": "gemma2", "vocab_size": 50, "hidden_size": 64, "num_hidden_layers": 2,
                   "num_attention_heads": 4, "intermediate_size": 96,
                   "layer_types": ["sliding_attention", "chunked_attention"]})",
               "layer_types[1] 'chunked_attention' is not supported");
  expect_error(R"({"model_type": "gemma3", "architectures": ["Gemma3ForConditionalGeneration"]})",
               "required key 'text_config' is missing");
  expect_error(llama + R"(, "num_key_value_heads": 3})", "4 attention heads cannot share 3 key/value heads");
  expect_error(llama + R"(, "hidden_act": "quick_gelu"})", "unsupported hidden_act 'quick_gelu'");
  expect_error(llama + R"(, "tie_word_embeddings": "yes"})", "key 'tie_word_embeddings' must be true or false");
  expect_error(llama + R"(, "eos_token_id": "</s>"})", "key 'eos_token_id' must be an integer or a list of integers");
  expect_error(R"({"model_type": "gptj", "vocab_size": 5, "n_embd": 64, "n_layer": 1, "n_head": 4, "rotary_dim": 20})",
               "rotary dimension 20 must be even and at most head_dim 16");
  fs::remove(path("config.json"));
  const std::string message = input_error([&] { read_hf_config(dir_.string()); });
  EXPECT_TRUE(contains(message, path("config.json") + ": cannot open")) << message;
}

// ---- the HF cache ----

class HfCacheTest : public HfConfigTest {
 protected:
  // ROOT/models--ORG--NAME/snapshots/REV/ with config.json and weights as symlinks into blobs/,
  // like huggingface_hub lays them out; refs/main written when `main`.
  fs::path add_snapshot(const fs::path& root, const std::string& folder, const std::string& revision, bool main) {
    const fs::path repo = root / folder;
    const fs::path snapshot = repo / "snapshots" / revision;
    fs::create_directories(snapshot);
    fs::create_directories(repo / "blobs");
    const std::string config = R"({"model_type": "gpt2", "vocab_size": 8, "n_embd": 4, "n_layer": 1, "n_head": 1})";
    write_bytes((repo / "blobs" / ("cfg-" + revision)).string(), config);
    fs::create_symlink(fs::path("../../blobs") / ("cfg-" + revision), snapshot / "config.json");
    write_safetensors((repo / "blobs" / ("w-" + revision)).string(), {{"wte", at::full({2}, 3.0f)}});
    fs::create_symlink(fs::path("../../blobs") / ("w-" + revision), snapshot / "model.safetensors");
    if (main) {
      fs::create_directories(repo / "refs");
      write_bytes((repo / "refs" / "main").string(), revision + "\n");
    }
    return snapshot;
  }
};

TEST_F(HfCacheTest, ResolvesHubIdsThroughRefsMainOrTheNewestSnapshot) {
  const ScopedEnv hub("HF_HUB_CACHE", path("hub"));
  const fs::path main = add_snapshot(path("hub"), "models--org--tiny", "abc123", true);
  add_snapshot(path("hub"), "models--org--tiny", "zzz999", false);  // newer, but refs/main decides
  const fs::path old = add_snapshot(path("hub"), "models--solo", "old", false);
  const fs::path fresh = add_snapshot(path("hub"), "models--solo", "new", false);
  fs::last_write_time(old / "config.json", fs::file_time_type::clock::now() - std::chrono::hours(1));
  fs::create_directories(path("hub/datasets--org--data/snapshots/x"));

  const ResolvedModel tiny = resolve_model("org/tiny");
  EXPECT_EQ(tiny.dir, main.string());
  EXPECT_EQ(tiny.name, "org/tiny");
  EXPECT_TRUE(tiny.from_cache);
  EXPECT_EQ(resolve_model_path("solo"), fresh.string());
  EXPECT_EQ(list_cached_models(), (std::vector<std::string>{"org/tiny", "solo"}));

  const HfModel model = open_hf_model("org/tiny");  // through the blob symlinks
  EXPECT_EQ(model.config.name, "org/tiny");
  EXPECT_EQ(model.config.hidden_size, 4);
  EXPECT_TRUE(at::equal(model.weights->get("wte"), at::full({2}, 3.0f)));
}

TEST_F(HfCacheTest, MissingModelsListWhatIsCached) {
  const ScopedEnv hub("HF_HUB_CACHE", path("hub"));
  add_snapshot(path("hub"), "models--org--tiny", "abc", true);
  add_snapshot(path("hub"), "models--solo", "only", false);
  std::string message = input_error([] { resolve_model_path("org/missing"); });
  EXPECT_EQ(message, "org/missing: no such folder, and no 'org/missing' in the HF cache at " + path("hub") +
                         " (cached models: org/tiny, solo)");
  message = input_error([] { resolve_model_path("/no/such/dir"); });
  EXPECT_TRUE(contains(message, "/no/such/dir: no such folder (and not a hub id ORG/NAME")) << message;
  fs::create_directories(path("hub/models--org--partial/snapshots/abc"));  // config.json never downloaded
  message = input_error([] { resolve_model_path("org/partial"); });
  EXPECT_TRUE(contains(message, path("hub/models--org--partial") + " has no snapshot with a config.json")) << message;
  fs::create_directories(path("empty"));
  message = input_error([&] { resolve_model_path(path("empty")); });
  EXPECT_TRUE(contains(message, "folder has no config.json")) << message;

  // refs/main naming a snapshot that is not there: an error, and the entry is not offered.
  fs::create_directories(path("hub/models--solo/refs"));
  write_bytes(path("hub/models--solo/refs/main"), "gone\n");
  message = input_error([] { resolve_model_path("solo"); });
  EXPECT_TRUE(contains(message, path("hub/models--solo/refs/main") + ": names revision 'gone'")) << message;
  EXPECT_EQ(list_cached_models(), std::vector<std::string>{"org/tiny"});
}

TEST_F(HfCacheTest, CacheRootFromTheEnvironment) {
  const ScopedEnv no_hub("HF_HUB_CACHE", std::nullopt);
  {
    const ScopedEnv home("HF_HOME", path("hf"));
    EXPECT_EQ(hf_cache_root(), path("hf") + "/hub");
    add_snapshot(path("hf/hub"), "models--gpt2", "r1", true);
    EXPECT_EQ(resolve_model("gpt2").name, "gpt2");
  }
  const ScopedEnv no_home("HF_HOME", std::nullopt);
  {
    const ScopedEnv xdg("XDG_CACHE_HOME", path("xdg"));
    EXPECT_EQ(hf_cache_root(), path("xdg") + "/huggingface/hub");
  }
  const ScopedEnv no_xdg("XDG_CACHE_HOME", std::nullopt);
  const ScopedEnv home("HOME", path("user"));
  EXPECT_EQ(hf_cache_root(), path("user") + "/.cache/huggingface/hub");
  const std::string message = input_error([] { resolve_model_path("org/x"); });
  EXPECT_TRUE(contains(message, "(the cache folder does not exist)")) << message;
}

TEST(HfCacheFixtures, LocalFolderIsTakenAsIs) {
  REQUIRE_SHARED(dir, "fixtures/opt-tiny");
  const ResolvedModel local = resolve_model(dir);
  EXPECT_EQ(local.dir, dir);
  EXPECT_EQ(local.name, "opt-tiny");
  EXPECT_FALSE(local.from_cache);
  const HfModel model = open_hf_model(dir);
  EXPECT_EQ(model.config.name, "opt-tiny");
  EXPECT_EQ(model.weights->names().size(), 52u);
}

}  // namespace
}  // namespace cascade::data::testing
