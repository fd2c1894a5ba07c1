#include "core/analyzer.h"

#include <ATen/ATen.h>

#include <cmath>
#include <sstream>

#include "core/errors.h"
#include "core/gram_cache.h"

namespace cascade {

Analyzer::Analyzer(const ActivationSet& acts, int64_t tile, const JobControl& control, int64_t gram_cache_bytes)
    : layer_ids_(acts.layer_ids), T_(acts.num_tokens()), d_(acts.dim()), tile_(tile) {
  const int64_t L = acts.num_layers();
  xhat_.reserve(L);
  prior_max_.reserve(L);
  for (int64_t l = 0; l < L; ++l) {
    control.check();
    control.report("prior-max scan", l, L);
    xhat_.push_back(normalize_rows(acts.hidden[l]));
    prior_max_.push_back(prior_max_scan(xhat_.back(), tile_, control));
  }
  control.report("prior-max scan", L, L);
  build_gram_cache(gram_cache_bytes, control);
}

Analyzer::Analyzer(std::vector<at::Tensor> xhat, std::vector<PriorMax> prior_max, std::vector<int64_t> layer_ids,
                   int64_t tile, const JobControl& control, int64_t gram_cache_bytes)
    : prior_max_(std::move(prior_max)), layer_ids_(std::move(layer_ids)), tile_(tile) {
  const auto L = static_cast<int64_t>(xhat.size());
  if (L == 0) throw InputError("cache", "no layers");
  if (static_cast<int64_t>(prior_max_.size()) != L || static_cast<int64_t>(layer_ids_.size()) != L)
    throw InputError("cache", std::to_string(L) + " layers of activations but " + std::to_string(prior_max_.size()) +
                                  " of gamma/pi and " + std::to_string(layer_ids_.size()) + " layer ids");
  T_ = xhat[0].dim() == 2 ? xhat[0].size(0) : -1;
  d_ = xhat[0].dim() == 2 ? xhat[0].size(1) : -1;
  xhat_.reserve(L);
  for (int64_t l = 0; l < L; ++l) {
    control.check();
    if (xhat[l].dim() != 2 || xhat[l].size(0) != T_ || xhat[l].size(1) != d_ || T_ < 1 || d_ < 1)
      throw InputError("cache", "layer " + std::to_string(l) + " activations are not [T, d] like layer 0");
    const PriorMax& pm = prior_max_[l];
    if (static_cast<int64_t>(pm.gamma.size()) != T_ || static_cast<int64_t>(pm.partner.size()) != T_)
      throw InputError("cache", "layer " + std::to_string(l) + " gamma/pi do not have T = " + std::to_string(T_) + " entries");
    xhat_.push_back(normalize_rows(xhat[l]));
    xhat[l] = at::Tensor();  // release the input as we go
  }
  build_gram_cache(gram_cache_bytes, control);
}

void Analyzer::build_gram_cache(int64_t gram_cache_bytes, const JobControl& control) {
  const int64_t L = num_layers();
  if (gram_cache_bytes > 0 && L * T_ * T_ * static_cast<int64_t>(sizeof(float)) <= gram_cache_bytes) {
    for (int64_t l = 0; l < L; ++l) {
      control.check();
      abs_gram_.push_back(at::mm(xhat_[l], xhat_[l].t()).abs_().to(at::kCPU).contiguous());
    }
  }
}

Analysis Analyzer::analyze(double tau, Rule rule, const JobControl& control) const {
  const double theta = theta_of_tau(tau);
  const int64_t L = num_layers();
  std::vector<TokenSet> independent(L);
  std::vector<CascadeTrace> steps(L);
  for (int64_t l = 0; l < L; ++l) {
    control.check();
    control.report("select + cascade", l, L);
    const AbsGram cached{abs_gram_.empty() ? nullptr : abs_gram_[l].data_ptr<float>(), T_};
    independent[l] = cached.data && rule == Rule::GreedyCover ? greedy_cover_gram(cached, theta)
                                                               : independent_reps(rule, xhat_[l], prior_max_[l].gamma, theta, tile_);
    if (l > 0) {
      const TokenSet& previous = l == 1 ? independent[0] : steps[l - 1].result;
      steps[l] = cached.data ? cascade_step_gram(cached, previous, theta) : cascade_step(xhat_[l], previous, theta, tile_, control);
    }
  }
  control.report("select + cascade", L, L);
  return measure(T_, d_, tau, rule, layer_ids_, independent, steps);
}

std::vector<Analysis> Analyzer::sweep(const std::vector<double>& taus, Rule rule, const JobControl& control) const {
  std::vector<Analysis> out;
  out.reserve(taus.size());
  for (size_t i = 0; i < taus.size(); ++i) {
    control.check();
    control.report("sweep", static_cast<int64_t>(i), static_cast<int64_t>(taus.size()));
    out.push_back(analyze(taus[i], rule, JobControl{nullptr, control.cancel}));
  }
  control.report("sweep", static_cast<int64_t>(taus.size()), static_cast<int64_t>(taus.size()));
  return out;
}

namespace {

double parse_tau(const std::string& text, const std::string& whole) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
    return v;
  } catch (const std::exception&) {
    throw UsageError("'" + whole + "' is not a grid like 0.05:0.6:0.05 or a list like 0.1,0.3");
  }
}

}  // namespace

std::vector<double> parse_tau_grid(const std::string& text) {
  std::vector<double> taus;
  if (text.find(':') != std::string::npos) {
    std::vector<std::string> parts;
    std::stringstream ss(text);
    for (std::string p; std::getline(ss, p, ':');) parts.push_back(p);
    if (parts.size() != 3) throw UsageError("a grid is START:STOP:STEP, got '" + text + "'");
    const double a = parse_tau(parts[0], text), b = parse_tau(parts[1], text), step = parse_tau(parts[2], text);
    if (!(step > 0)) throw UsageError("STEP must be > 0");
    if (b < a) throw UsageError("STOP must be >= START");
    const auto n = static_cast<int64_t>(std::floor((b - a) / step + 1e-9)) + 1;
    if (n > 10000) throw UsageError("more than 10000 values");
    for (int64_t i = 0; i < n; ++i) taus.push_back(std::round((a + static_cast<double>(i) * step) * 1e12) / 1e12);
  } else {
    std::stringstream ss(text);
    for (std::string p; std::getline(ss, p, ',');) taus.push_back(parse_tau(p, text));
  }
  if (taus.empty()) throw UsageError("no values");
  for (double t : taus) theta_of_tau(t);  // range check (the CLI adds "--taus: ")
  return taus;
}

}  // namespace cascade
