#include "train_demo/train.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <random>
#include <sstream>

#include "core/errors.h"

namespace cascade {

ModelConfig gpt2_config(int64_t vocab_size, int64_t hidden_size, int64_t num_layers, int64_t num_heads,
                        int64_t max_positions, const std::string& name) {
  ModelConfig c;
  c.model_type = "gpt2";
  c.name = name;
  c.vocab_size = vocab_size;
  c.hidden_size = hidden_size;
  c.num_layers = num_layers;
  c.num_heads = num_heads;
  c.num_kv_heads = num_heads;
  c.head_dim = num_heads > 0 ? hidden_size / num_heads : 0;
  c.intermediate_size = 4 * hidden_size;
  c.max_positions = max_positions;
  c.norm_eps = 1e-5;
  c.activation = "gelu_new";
  c.tie_word_embeddings = true;
  return c;
}

namespace {

struct Block {
  torch::Tensor ln1_w, ln1_b, attn_w, attn_b, proj_w, proj_b, ln2_w, ln2_b, fc_w, fc_b, out_w, out_b;
};

std::string shape_text(at::IntArrayRef shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  return out.str() + "]";
}

std::string arch_text(const ModelConfig& c) {
  std::ostringstream out;
  out << "gpt2 V=" << c.vocab_size << " D=" << c.hidden_size << " L=" << c.num_layers << " H=" << c.num_heads
      << " P=" << c.max_positions << " F=" << c.intermediate_size;
  return out.str();
}

void check_model_config(const ModelConfig& c) {
  if (c.model_type != "gpt2") throw UsageError("train: model_type must be gpt2, got '" + c.model_type + "'");
  if (c.vocab_size <= 0 || c.hidden_size <= 0 || c.num_layers <= 0 || c.num_heads <= 0 || c.max_positions <= 0 ||
      c.intermediate_size <= 0)
    throw UsageError("train: model sizes must be positive (" + arch_text(c) + ")");
  if (c.hidden_size % c.num_heads != 0 || c.head_dim != c.hidden_size / c.num_heads)
    throw UsageError("train: hidden_size must be num_heads · head_dim");
  if (!c.tie_word_embeddings) throw UsageError("train: only a tied LM head is supported");
  if (c.activation != "gelu_new" && c.activation != "gelu_pytorch_tanh" && c.activation != "gelu" &&
      c.activation != "relu")
    throw UsageError("train: unsupported activation '" + c.activation + "'");
}

}  // namespace

// The trainable GPT-2: parameters registered on a torch::nn::Module (dots replaced, since Module
// forbids them in names) and kept in HF order and names in `params`.
struct TrainableGpt2::Impl : torch::nn::Module {
  ModelConfig config;
  std::vector<std::pair<std::string, torch::Tensor>> params;  // HF name → registered parameter
  std::vector<bool> decay;                                     // weight decay applies
  torch::Tensor wte, wpe, lnf_w, lnf_b;
  std::vector<Block> blocks;

  torch::Tensor add(const std::string& name, torch::Tensor init, bool decays) {
    std::string key = name;
    for (char& ch : key)
      if (ch == '.') ch = '_';
    torch::Tensor p = register_parameter(key, std::move(init));
    params.emplace_back(name, p);
    decay.push_back(decays);
    return p;
  }

  Impl(const ModelConfig& c, uint64_t seed) : config(c) {
    check_model_config(c);
    torch::manual_seed(seed);
    torch::NoGradGuard no_grad;
    const int64_t D = c.hidden_size, F = c.intermediate_size, V = c.vocab_size, P = c.max_positions;
    const double std = 0.02, proj_std = 0.02 / std::sqrt(2.0 * static_cast<double>(c.num_layers));
    auto normal = [](std::vector<int64_t> shape, double s) { return torch::randn(shape) * s; };
    wte = add("transformer.wte.weight", normal({V, D}, std), false);
    wpe = add("transformer.wpe.weight", normal({P, D}, std), false);
    for (int64_t i = 0; i < c.num_layers; ++i) {
      const std::string p = "transformer.h." + std::to_string(i) + ".";
      Block b;
      b.ln1_w = add(p + "ln_1.weight", torch::ones({D}), false);
      b.ln1_b = add(p + "ln_1.bias", torch::zeros({D}), false);
      b.attn_w = add(p + "attn.c_attn.weight", normal({D, 3 * D}, std), true);
      b.attn_b = add(p + "attn.c_attn.bias", torch::zeros({3 * D}), false);
      b.proj_w = add(p + "attn.c_proj.weight", normal({D, D}, proj_std), true);
      b.proj_b = add(p + "attn.c_proj.bias", torch::zeros({D}), false);
      b.ln2_w = add(p + "ln_2.weight", torch::ones({D}), false);
      b.ln2_b = add(p + "ln_2.bias", torch::zeros({D}), false);
      b.fc_w = add(p + "mlp.c_fc.weight", normal({D, F}, std), true);
      b.fc_b = add(p + "mlp.c_fc.bias", torch::zeros({F}), false);
      b.out_w = add(p + "mlp.c_proj.weight", normal({F, D}, proj_std), true);
      b.out_b = add(p + "mlp.c_proj.bias", torch::zeros({D}), false);
      blocks.push_back(b);
    }
    lnf_w = add("transformer.ln_f.weight", torch::ones({D}), false);
    lnf_b = add("transformer.ln_f.bias", torch::zeros({D}), false);
  }

  torch::Tensor activate(const torch::Tensor& x) const {
    if (config.activation == "gelu") return torch::gelu(x);
    if (config.activation == "relu") return torch::relu(x);
    return torch::gelu(x, "tanh");
  }

  torch::Tensor forward(const torch::Tensor& ids) {
    TORCH_CHECK(ids.dim() == 2, "TrainableGpt2: ids must be [B, T]");
    const int64_t B = ids.size(0), T = ids.size(1);
    const int64_t D = config.hidden_size, H = config.num_heads, hd = config.head_dim;
    if (T > config.max_positions) throw UsageError("train: sequence longer than max_positions");
    const double eps = config.norm_eps;
    const torch::Tensor future = torch::ones({T, T}, torch::kBool).triu(1);
    torch::Tensor x = torch::embedding(wte, ids) + wpe.narrow(0, 0, T);
    for (size_t i = 0; i < blocks.size(); ++i) {
      const Block& b = blocks[i];
      double scale = 1.0 / std::sqrt(static_cast<double>(hd));
      if (config.scale_attn_by_inverse_layer_idx) scale /= static_cast<double>(i + 1);
      const torch::Tensor qkv = torch::matmul(torch::layer_norm(x, {D}, b.ln1_w, b.ln1_b, eps), b.attn_w) + b.attn_b;
      auto heads = [&](int64_t k) { return qkv.narrow(2, k * D, D).view({B, T, H, hd}).transpose(1, 2); };
      const torch::Tensor q = heads(0), k = heads(1), v = heads(2);
      torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1)) * scale;
      scores = scores.masked_fill(future, -std::numeric_limits<float>::infinity());
      const torch::Tensor a = torch::matmul(torch::softmax(scores, -1), v).transpose(1, 2).reshape({B, T, D});
      x = x + (torch::matmul(a, b.proj_w) + b.proj_b);
      const torch::Tensor m = torch::matmul(torch::layer_norm(x, {D}, b.ln2_w, b.ln2_b, eps), b.fc_w) + b.fc_b;
      x = x + (torch::matmul(activate(m), b.out_w) + b.out_b);
    }
    const torch::Tensor h = torch::layer_norm(x, {D}, lnf_w, lnf_b, eps);
    return torch::matmul(h, wte.t());
  }

  torch::Tensor loss(const torch::Tensor& windows) {
    const int64_t T = windows.size(1) - 1;
    const torch::Tensor logits = forward(windows.narrow(1, 0, T));
    return torch::nn::functional::cross_entropy(logits.reshape({-1, config.vocab_size}),
                                                windows.narrow(1, 1, T).reshape({-1}));
  }

  NamedTensors export_weights() const {
    NamedTensors out;
    out.reserve(params.size());
    for (const auto& [name, p] : params) out.emplace_back(name, p.detach().clone().contiguous());
    return out;
  }

  void load_weights(const NamedTensors& weights, const std::string& where) {
    std::map<std::string, const at::Tensor*> by_name;
    for (const auto& [name, t] : weights) by_name[name] = &t;
    torch::NoGradGuard no_grad;
    for (auto& [name, p] : params) {
      auto it = by_name.find(name);
      if (it == by_name.end()) throw InputError(where, "missing tensor '" + name + "'");
      if (it->second->sizes() != p.sizes())
        throw InputError(where, "tensor '" + name + "' has shape " + shape_text(it->second->sizes()) +
                                    " but the config implies " + shape_text(p.sizes()));
      p.copy_(*it->second);
    }
  }
};

TrainableGpt2::TrainableGpt2(const ModelConfig& config, uint64_t seed)
    : impl_(std::make_unique<Impl>(config, seed)) {}
TrainableGpt2::~TrainableGpt2() = default;
TrainableGpt2::TrainableGpt2(TrainableGpt2&&) noexcept = default;
TrainableGpt2& TrainableGpt2::operator=(TrainableGpt2&&) noexcept = default;
at::Tensor TrainableGpt2::forward(const at::Tensor& ids) const { return impl_->forward(ids); }
at::Tensor TrainableGpt2::loss(const at::Tensor& windows) const { return impl_->loss(windows); }
NamedTensors TrainableGpt2::export_weights() const { return impl_->export_weights(); }
void TrainableGpt2::load_weights(const NamedTensors& weights) { impl_->load_weights(weights, "weights"); }
const ModelConfig& TrainableGpt2::config() const { return impl_->config; }

// ---------------------------------------------------------------------------------------------
// Checkpoints: one torch archive with "arch", "step", "rng" (mt19937_64 text state), "names"
// (HF names, '\n'-separated), "p<i>" (parameters in that order) and "optim" (AdamW state).

namespace {

using Clock = std::chrono::steady_clock;

torch::serialize::InputArchive open_checkpoint(const std::string& path) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const std::exception& e) {
    throw InputError(path, std::string("cannot read checkpoint: ") + e.what());
  }
  return archive;
}

c10::IValue read_value(torch::serialize::InputArchive& archive, const std::string& key, const std::string& path) {
  c10::IValue v;
  if (!archive.try_read(key, v)) throw InputError(path, "checkpoint has no '" + key + "'");
  return v;
}

NamedTensors read_weights(torch::serialize::InputArchive& archive, const std::string& path) {
  const std::string names = read_value(archive, "names", path).toStringRef();
  NamedTensors out;
  std::istringstream in(names);
  std::string name;
  for (size_t i = 0; std::getline(in, name); ++i) {
    torch::Tensor t;
    if (!archive.try_read("p" + std::to_string(i), t)) throw InputError(path, "checkpoint has no tensor " + name);
    out.emplace_back(name, t.detach().contiguous());
  }
  return out;
}

void write_checkpoint(const std::string& path, const TrainableGpt2::Impl& model, torch::optim::AdamW& optimizer,
                      int64_t step, const std::mt19937_64& rng) {
  torch::serialize::OutputArchive archive;
  archive.write("arch", c10::IValue(arch_text(model.config)));
  archive.write("step", c10::IValue(step));
  std::ostringstream rng_state;
  rng_state << rng;
  archive.write("rng", c10::IValue(rng_state.str()));
  std::string names;
  for (size_t i = 0; i < model.params.size(); ++i) {
    names += model.params[i].first + "\n";
    archive.write("p" + std::to_string(i), model.params[i].second.detach());
  }
  archive.write("names", c10::IValue(names));
  torch::serialize::OutputArchive optim_archive;
  optimizer.save(optim_archive);
  archive.write("optim", optim_archive);
  // Write aside and rename, so a crash or cancel never leaves a half-written checkpoint.
  const std::string tmp = path + ".tmp";
  archive.save_to(tmp);
  std::filesystem::rename(tmp, path);
}

double learning_rate(const TrainConfig& c, int64_t step) {
  if (c.warmup_steps > 0 && step < c.warmup_steps)
    return c.lr * static_cast<double>(step + 1) / static_cast<double>(c.warmup_steps);
  const double span = static_cast<double>(std::max<int64_t>(1, c.steps - c.warmup_steps - 1));
  const double progress = std::min(1.0, static_cast<double>(step - std::max<int64_t>(0, c.warmup_steps)) / span);
  const double min_lr = c.min_lr_ratio * c.lr;
  return min_lr + 0.5 * (c.lr - min_lr) * (1.0 + std::cos(M_PI * progress));
}

// B windows of T + 1 tokens starting at uniformly random offsets of `ids`.
torch::Tensor sample_windows(const std::vector<int64_t>& ids, int64_t B, int64_t T, std::mt19937_64& rng) {
  std::uniform_int_distribution<int64_t> start(0, static_cast<int64_t>(ids.size()) - (T + 1));
  torch::Tensor out = torch::empty({B, T + 1}, torch::kLong);
  int64_t* data = out.data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    const int64_t s = start(rng);
    std::copy(ids.begin() + s, ids.begin() + s + T + 1, data + b * (T + 1));
  }
  return out;
}

void check_ids(const std::vector<int64_t>& ids, int64_t vocab, const char* what) {
  for (int64_t id : ids)
    if (id < 0 || id >= vocab)
      throw UsageError(std::string("train: ") + what + " token id " + std::to_string(id) + " outside the vocabulary");
}

}  // namespace

int64_t checkpoint_step(const std::string& path) {
  auto archive = open_checkpoint(path);
  return read_value(archive, "step", path).toInt();
}

NamedTensors checkpoint_weights(const std::string& path) {
  auto archive = open_checkpoint(path);
  return read_weights(archive, path);
}

TrainResult train_gpt2(const TrainConfig& config, const std::vector<int64_t>& train_ids,
                       const std::vector<int64_t>& val_ids, const JobControl& control,
                       const std::function<void(const TrainProgress&)>& on_progress) {
  const auto t0 = Clock::now();
  check_model_config(config.model);
  const int64_t B = config.batch_size, T = config.seq_len;
  if (B <= 0 || T <= 0 || config.steps < 0 || config.lr <= 0)
    throw UsageError("train: batch_size, seq_len and lr must be positive, steps non-negative");
  if (T > config.model.max_positions)
    throw UsageError("train: seq_len " + std::to_string(T) + " exceeds max_positions " +
                     std::to_string(config.model.max_positions));
  if (static_cast<int64_t>(train_ids.size()) < T + 1)
    throw UsageError("train: the training stream has " + std::to_string(train_ids.size()) +
                     " tokens, fewer than seq_len + 1");
  check_ids(train_ids, config.model.vocab_size, "training");
  check_ids(val_ids, config.model.vocab_size, "validation");

  TrainableGpt2 trainable(config.model, config.seed);
  TrainableGpt2::Impl& model = trainable.impl();

  std::vector<torch::Tensor> decayed, plain;
  for (size_t i = 0; i < model.params.size(); ++i)
    (model.decay[i] ? decayed : plain).push_back(model.params[i].second);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decayed, std::make_unique<torch::optim::AdamWOptions>(
                                   torch::optim::AdamWOptions(config.lr).betas({0.9, 0.95}).weight_decay(
                                       config.weight_decay)));
  groups.emplace_back(plain, std::make_unique<torch::optim::AdamWOptions>(
                                 torch::optim::AdamWOptions(config.lr).betas({0.9, 0.95}).weight_decay(0.0)));
  torch::optim::AdamW optimizer(std::move(groups), torch::optim::AdamWOptions(config.lr).betas({0.9, 0.95}));

  std::mt19937_64 rng(config.seed);
  TrainResult result;
  const std::string& ckpt = config.checkpoint_path;
  if (!ckpt.empty() && std::filesystem::exists(ckpt)) {
    auto archive = open_checkpoint(ckpt);
    const std::string arch = read_value(archive, "arch", ckpt).toStringRef();
    if (arch != arch_text(config.model))
      throw InputError(ckpt, "checkpoint is for " + arch + ", not " + arch_text(config.model));
    result.start_step = read_value(archive, "step", ckpt).toInt();
    std::istringstream rng_state(read_value(archive, "rng", ckpt).toStringRef());
    rng_state >> rng;
    if (!rng_state) throw InputError(ckpt, "checkpoint has an unreadable RNG state");
    model.load_weights(read_weights(archive, ckpt), ckpt);
    torch::serialize::InputArchive optim_archive;
    if (!archive.try_read("optim", optim_archive)) throw InputError(ckpt, "checkpoint has no optimizer state");
    try {
      optimizer.load(optim_archive);
    } catch (const c10::Error& e) {
      throw InputError(ckpt, std::string("cannot restore the optimizer state: ") + e.what_without_backtrace());
    }
  }

  const int64_t Tv = std::min<int64_t>(T, static_cast<int64_t>(val_ids.size()) - 1);
  auto evaluate = [&]() -> double {
    if (Tv < 1 || config.eval_batches <= 0) return std::nan("");
    torch::NoGradGuard no_grad;
    std::mt19937_64 eval_rng(config.seed ^ 0x9E3779B97F4A7C15ULL);  // the same windows at every evaluation
    double total = 0;
    for (int64_t i = 0; i < config.eval_batches; ++i)
      total += model.loss(sample_windows(val_ids, B, Tv, eval_rng)).item<double>();
    return total / static_cast<double>(config.eval_batches);
  };

  double train_seconds = 0;
  int64_t tokens = 0;
  double last_val = std::nan("");
  bool val_at_end = false;
  result.train_loss = std::nan("");
  model.train();
  for (int64_t step = result.start_step; step < config.steps; ++step) {
    control.check();
    const auto s0 = Clock::now();
    const torch::Tensor batch = sample_windows(train_ids, B, T, rng);
    const double lr = learning_rate(config, step);
    for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    optimizer.zero_grad();
    const torch::Tensor loss = model.loss(batch);
    loss.backward();
    if (config.grad_clip > 0) torch::nn::utils::clip_grad_norm_(model.parameters(), config.grad_clip);
    optimizer.step();
    result.train_loss = loss.item<double>();
    train_seconds += std::chrono::duration<double>(Clock::now() - s0).count();
    tokens += B * T;

    const int64_t done = step + 1;
    const bool last = done == config.steps;
    double val = std::nan("");
    if ((config.eval_every > 0 && done % config.eval_every == 0) || last) {
      val = last_val = evaluate();
      val_at_end = last;
    }
    if (!ckpt.empty() && ((config.checkpoint_every > 0 && done % config.checkpoint_every == 0) || last))
      write_checkpoint(ckpt, model, optimizer, done, rng);
    if (on_progress)
      on_progress(TrainProgress{done, config.steps, result.train_loss, val, lr,
                                train_seconds > 0 ? static_cast<double>(tokens) / train_seconds : 0.0});
  }
  result.steps = std::max(result.start_step, config.steps);
  result.val_loss = val_at_end ? last_val : evaluate();
  result.tokens_per_second = train_seconds > 0 ? static_cast<double>(tokens) / train_seconds : 0.0;
  result.weights = model.export_weights();
  result.wall_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return result;
}

// ---------------------------------------------------------------------------------------------

TensorMapWeights::TensorMapWeights(NamedTensors tensors, std::string description)
    : tensors_(std::move(tensors)), description_(std::move(description)) {
  for (size_t i = 0; i < tensors_.size(); ++i) index_[tensors_[i].first] = i;
}

bool TensorMapWeights::has(const std::string& name) const { return index_.count(name) > 0; }

at::Tensor TensorMapWeights::get(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) throw InputError(description_, "missing tensor '" + name + "'");
  return tensors_[it->second].second;
}

std::vector<std::string> TensorMapWeights::names() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const auto& [name, t] : tensors_) out.push_back(name);
  return out;
}

}  // namespace cascade
