#include "core/models/common.h"

#include <cmath>
#include <sstream>

#include "core/baselines.h"
#include "core/errors.h"
#include <ATen/CPUGeneratorImpl.h>

namespace cascade {

at::Tensor RandomWeights::get(const std::string& name) const {
  throw InputError(describe(), "tensor '" + name + "' needs a shape");
}

at::Tensor RandomWeights::get(const std::string& name, at::IntArrayRef shape) const {
  const bool is_norm = name.find("norm") != std::string::npos || name.find("ln_") != std::string::npos;
  if (name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0) return at::zeros(shape);
  if (is_norm && shape.size() == 1) return at::ones(shape);
  at::Generator gen = at::detail::createCPUGenerator(seed_ + std::hash<std::string>{}(name));
  return at::normal(0.0, 0.02, shape, gen);
}

}  // namespace cascade

namespace cascade::models {

namespace {
std::string shape_text(at::IntArrayRef shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  return out.str() + "]";
}
}  // namespace

WeightLoader::WeightLoader(const WeightSource& source, std::vector<std::string> prefixes, at::Device device,
                           at::ScalarType dtype)
    : source_(source), prefixes_(std::move(prefixes)), device_(device), dtype_(dtype) {}

std::optional<std::string> WeightLoader::resolve(const std::string& name) const {
  for (const auto& prefix : prefixes_)
    if (source_.has(prefix + name)) return prefix + name;
  return std::nullopt;
}

at::Tensor WeightLoader::convert(const std::string& full_name, at::IntArrayRef shape) const {
  at::Tensor t = source_.get(full_name, shape);
  if (t.sizes() != shape)
    throw InputError(source_.describe(), "tensor '" + full_name + "' has shape " + shape_text(t.sizes()) +
                                             " but the config implies " + shape_text(shape));
  // A model's weights are floating point: an integer or boolean dtype is a damaged or relabelled
  // file (F32 relabelled I32 was accepted and cast into nonsense weights).
  if (!at::isFloatingType(t.scalar_type()))
    throw InputError(source_.describe(), "tensor '" + full_name + "' has dtype " + std::string(c10::toString(t.scalar_type())) +
                                             "; model weights are floating point (F32, F16, BF16)");
  return t.to(device_, dtype_).contiguous();
}

at::Tensor WeightLoader::get(const std::string& name, at::IntArrayRef shape) const {
  if (auto full = resolve(name)) return convert(*full, shape);
  throw InputError(source_.describe(), "missing tensor '" + prefixes_.front() + name + "'");
}

at::Tensor WeightLoader::get_unprefixed(const std::string& name, at::IntArrayRef shape) const {
  if (!source_.has(name)) throw InputError(source_.describe(), "missing tensor '" + name + "'");
  return convert(name, shape);
}

at::Tensor layer_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps) {
  return at::layer_norm(x, {x.size(-1)}, weight, bias, eps);
}

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  // HF computes the statistic in float32 and casts back before the weight.
  const at::Tensor xf = x.to(at::kFloat);
  const at::Tensor normed = xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * normed.to(x.scalar_type());
}

at::Tensor rms_norm_offset(const at::Tensor& x, const at::Tensor& weight, double eps) {
  const at::Tensor xf = x.to(at::kFloat);
  const at::Tensor normed = xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return (normed * (1.0 + weight.to(at::kFloat))).to(x.scalar_type());
}

at::Tensor soft_cap(const at::Tensor& x, double cap) { return cap > 0 ? at::tanh(x / cap) * cap : x; }

at::Tensor dense(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  return at::linear(x, weight, bias.defined() ? c10::optional<at::Tensor>(bias) : c10::nullopt);
}

at::Tensor activate(const std::string& name, const at::Tensor& x) {
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return at::gelu(x, "tanh");
  if (name == "gelu") return at::gelu(x);
  if (name == "relu") return at::relu(x);
  if (name == "silu" || name == "swish") return at::silu(x);
  throw InputError("config.json", "unsupported activation '" + name + "'");
}

namespace {

// modeling_rope_utils: linear divides every inv_freq by factor; llama3 keeps the short wavelengths,
// divides the long ones by factor and interpolates in between.
at::Tensor scale_inv_freq(const at::Tensor& inv_freq, const RopeScaling& s) {
  if (s.type.empty()) return inv_freq;
  if (s.type == "linear") return inv_freq / s.factor;
  TORCH_CHECK(s.type == "llama3", "unknown rope scaling type ", s.type);  // the config readers refuse others
  const double orig = static_cast<double>(s.original_max_positions);
  const double low_wavelen = orig / s.low_freq_factor, high_wavelen = orig / s.high_freq_factor;
  const at::Tensor wavelen = 2 * M_PI / inv_freq;
  const at::Tensor smooth = (orig / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
  const at::Tensor blended = (1 - smooth) * inv_freq / s.factor + smooth * inv_freq;
  at::Tensor out = at::where(wavelen > low_wavelen, inv_freq / s.factor, inv_freq);
  const at::Tensor medium = (wavelen >= high_wavelen) & (wavelen <= low_wavelen);
  return at::where(medium, blended, out);
}

}  // namespace

Rotary make_rotary(int64_t T, int64_t dims, double theta, bool interleaved, at::Device device,
                   const RopeScaling& scaling) {
  Rotary rot;
  rot.dims = dims;
  rot.interleaved = interleaved;
  if (dims == 0) return rot;
  const auto f64 = at::TensorOptions().dtype(at::kDouble);
  // inv_freq_i = 1 / theta^(2i / dims), i < dims/2 (HF computes it in float32 from an int arange).
  const at::Tensor exponent = at::arange(0, dims, 2, f64.dtype(at::kLong)).to(at::kFloat) / static_cast<double>(dims);
  const at::Tensor inv_freq = scale_inv_freq(1.0 / at::pow(theta, exponent), scaling);
  const at::Tensor angles = at::outer(at::arange(T, f64).to(at::kFloat), inv_freq);  // [T, dims/2]
  rot.cos = angles.cos().to(device);
  rot.sin = angles.sin().to(device);
  return rot;
}

at::Tensor apply_rotary(const at::Tensor& x, const Rotary& rot) {
  if (rot.dims == 0) return x;
  const int64_t n = rot.dims, half = n / 2;
  const at::Tensor xr = x.narrow(-1, 0, n).to(at::kFloat), pass = x.narrow(-1, n, x.size(-1) - n);
  at::Tensor out;
  if (rot.interleaved) {  // pairs (2i, 2i+1)
    const at::Tensor pairs = xr.reshape({x.size(0), x.size(1), half, 2});
    const at::Tensor a = pairs.select(-1, 0), b = pairs.select(-1, 1);
    out = at::stack({a * rot.cos - b * rot.sin, b * rot.cos + a * rot.sin}, -1).reshape(xr.sizes());
  } else {  // rotate_half: pairs (i, i + n/2)
    const at::Tensor a = xr.narrow(-1, 0, half), b = xr.narrow(-1, half, half);
    out = at::cat({a * rot.cos - b * rot.sin, b * rot.cos + a * rot.sin}, -1);
  }
  return at::cat({out.to(x.scalar_type()), pass}, -1);
}

at::Tensor split_heads(const at::Tensor& x, int64_t heads) {
  return x.view({x.size(0), heads, x.size(1) / heads}).transpose(0, 1).contiguous();
}

at::Tensor merge_heads(const at::Tensor& x) {
  return x.transpose(0, 1).reshape({x.size(1), x.size(0) * x.size(2)});
}

namespace {

// cap(q kᵀ · scale) with the mask as −∞ on [H, n, hd], the n tokens at `positions` (ascending).
at::Tensor scores_at(const at::Tensor& q, const at::Tensor& k, const AttentionShape& shape, const at::Tensor& positions) {
  at::Tensor scores = soft_cap(at::matmul(q.to(at::kFloat), k.to(at::kFloat).transpose(1, 2)) * shape.scale,
                               shape.softcap);
  const at::Tensor query_pos = positions.unsqueeze(1), key_pos = positions.unsqueeze(0);
  at::Tensor hidden = key_pos > query_pos;
  if (shape.window > 0) hidden = hidden | (key_pos <= query_pos - shape.window);
  return scores.masked_fill_(hidden, -std::numeric_limits<float>::infinity());
}

// softmax(cap(q kᵀ · scale) + mask) v on [H, n, hd], the n tokens at `positions` (ascending);
// probabilities in float32 like HF's upcast.
std::pair<at::Tensor, at::Tensor> causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                                   const AttentionShape& shape, const at::Tensor& positions) {
  const at::Tensor probs = at::softmax(scores_at(q, k, shape, positions), -1);
  return {at::matmul(probs, v.to(at::kFloat)).to(v.scalar_type()), probs};
}

at::Tensor all_positions(const at::Tensor& q) { return at::arange(q.size(1), q.options().dtype(at::kLong)); }

// Element-level attention (top-k / top-theta, core/baselines.h): softmax over the kept scores of each query.
at::Tensor element_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const AttentionShape& shape,
                             const ElementPlan& plan) {
  at::Tensor scores = scores_at(q, k, shape, all_positions(q));
  const at::Tensor keep =
      plan.kind == ElementPlan::Kind::TopK ? top_k_mask(scores, plan.k) : top_theta_mask(scores, plan.theta);
  scores.masked_fill_(~keep, -std::numeric_limits<float>::infinity());
  return at::matmul(at::softmax(scores, -1), v.to(at::kFloat)).to(v.scalar_type());
}

}  // namespace

at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const AttentionShape& shape,
                     int64_t block, ForwardObserver* observer, const std::optional<AdaPlan>& given) {
  const bool capture = observer && observer->wants_attention(block);
  const bool measure = given && observer && observer->wants_ada_error(block);
  const bool choose = given && given->choose;
  at::Tensor exact, probs;
  if (!given || capture || measure || choose) {
    std::tie(exact, probs) = causal_attention(q, k, v, shape, all_positions(q));
    if (capture) observer->on_attention(block, q, k, v, probs.to(q.scalar_type()), shape);
    if (!given) return merge_heads(exact);
  }
  std::optional<AdaPlan> chosen;
  if (choose) {
    chosen.emplace();
    given->choose(k, probs, *chosen);
  }
  const AdaPlan& plan = chosen ? *chosen : *given;
  at::Tensor ada;
  if (plan.element) {
    ada = element_attention(q, k, v, shape, *plan.element);
  } else {
    // ADA: attention among representatives only (rep s attends reps s' <= s), then every token takes
    // the output of its nearest representative.
    const auto index = at::TensorOptions().dtype(at::kLong);
    const at::Tensor reps = at::tensor(plan.reps, index).to(q.device());
    const at::Tensor out_reps =
        causal_attention(q.index_select(1, reps), k.index_select(1, reps), v.index_select(1, reps), shape, reps).first;
    std::vector<int64_t> slot(plan.nearest.size());
    for (size_t t = 0; t < slot.size(); ++t)
      slot[t] = std::lower_bound(plan.reps.begin(), plan.reps.end(), plan.nearest[t]) - plan.reps.begin();
    ada = out_reps.index_select(1, at::tensor(slot, index).to(q.device()));  // [H, T, hd]
  }
  if (measure) {
    observer->on_ada_error(block, per_head_relative_error(ada, exact));
  }
  return merge_heads(ada);
}

DecoderModel::DecoderModel(ModelConfig config, at::Device device, at::ScalarType dtype)
    : config_(std::move(config)), device_(device), dtype_(dtype) {}

at::Tensor DecoderModel::forward(const at::Tensor& ids, ForwardObserver* observer, AttentionPlanner* planner) const {
  TORCH_CHECK(ids.dim() == 1, "forward expects ids of shape [T]");
  const int64_t T = ids.size(0);
  if (T > config_.max_positions && config_.max_positions > 0)
    throw UsageError(std::to_string(T) + " tokens exceed the model's context of " +
                     std::to_string(config_.max_positions));
  if (T > 0) {
    const auto [lo, hi] = at::aminmax(ids);
    if (lo.item<int64_t>() < 0 || hi.item<int64_t>() >= config_.vocab_size)
      throw InputError(config_.name, "token id " + std::to_string(hi.item<int64_t>() >= config_.vocab_size ? hi.item<int64_t>() : lo.item<int64_t>()) +
                                         " is outside the model's vocabulary (0.." + std::to_string(config_.vocab_size - 1) +
                                         "): does the tokenizer belong to this model?");
  }
  const Rotary rotary = make_rotary(T, config_.rotary_dim, config_.rope_theta, config_.rotary_interleaved, device_,
                                    config_.rope_scaling);
  const bool two_tables = config_.local_rope_theta > 0;
  const Rotary local = two_tables ? make_rotary(T, config_.rotary_dim, config_.local_rope_theta,
                                                config_.rotary_interleaved, device_)
                                  : Rotary{};
  at::Tensor x = embed(ids.to(device_, at::kLong));
  for (int64_t l = 0; l < config_.num_layers; ++l) {
    if (observer) observer->on_residual(l, x);
    const std::optional<AdaPlan> plan = planner ? planner->plan(l, x) : std::nullopt;
    const bool local_layer = two_tables && config_.window_of(l) > 0;
    x = run_block(x, BlockContext{l, observer, plan, local_layer ? local : rotary});
  }
  if (observer) observer->on_residual(config_.num_layers, x);
  const at::Tensor h = final_norm(x);
  if (observer) observer->on_final_norm(h);
  return lm_head(h).to(at::kCPU, at::kFloat);
}

}  // namespace cascade::models

namespace cascade {
at::Tensor masked_scores(const at::Tensor& q, const at::Tensor& k, const AttentionShape& shape) {
  return models::scores_at(q, k, shape, models::all_positions(q));
}
}  // namespace cascade
