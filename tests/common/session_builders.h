#pragma once
// Run records (what sessions store) for the tests and the size benchmark: one from real (synthetic-clustered) activations
// through the Analyzer, and one of any size from random but self-consistent sets (no scan needed).
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/analyzer.h"
#include "core/methods.h"
#include "core/run_record.h"
#include "core/sets.h"
#include "core/synthetic.h"

namespace testsession {

// An analysed session of synthetic activations with every optional part filled: a model identity,
// ids, unicode tokens (one empty), a sweep with ADA numbers at some τ, ADA quality, timings, X̂.
inline cascade::RunRecord analysed_session(int64_t L = 5, int64_t T = 40, int64_t d = 16, bool activations = true) {
  using namespace cascade;
  SyntheticSpec spec;
  spec.layers = L, spec.tokens = T, spec.dim = d, spec.clusters = 8, spec.seed = 7;
  ActivationSet acts = make_synthetic(spec);
  validate(acts);
  const auto analyzer = std::make_shared<const Analyzer>(acts);
  RunRecord s;
  s.app_version = "0.1.0-test";
  s.created = "2026-11-22T10:00:00Z";
  s.kind = SourceKind::Model;
  s.source = "tiny (/models/tiny)";
  s.model = ModelIdentity{"tiny", "gpt2", std::string(64, 'a'), "0123abcd", L, d, 4, 1000};
  s.text = "Ünïcode text\nwith a second line \t and a tab";
  for (int64_t t = 0; t < T; ++t) {
    s.ids.push_back((t * 37) % 1000);
    s.tokens.push_back(t == 3 ? std::string() : t % 5 == 0 ? "·Ġé" + std::to_string(t) : "tok" + std::to_string(t));
  }
  s.attention = AttentionMode::AdaCascade;
  s.nearest = NearestRule::CausalNearest;
  s.device = DeviceKind::Cpu;
  s.dtype = DType::BFloat16;
  s.analysis = analyzer->analyze(0.3, Rule::PriorMax);
  s.sweep = sweep_entries(analyzer->sweep({0.1, 0.3, 0.5}, Rule::PriorMax));
  s.sweep[1].ada_error = 0.125;
  s.sweep[1].delta_ppl = -0.5;
  s.sweep[2].ada_error = 0.25;
  AdaQuality q;
  for (int64_t b = 0; b < L; ++b) q.attention_error.push_back({0.01 * b, 0.02 * b, 0.03, 0.04});
  q.ppl_exact = 12.5, q.ppl_ada = 13.25, q.mean_kl = 0.0625;
  s.quality = q;
  s.quality_mode = AttentionMode::AdaCascade;
  s.timings = Timings{12.5, 3.25, 7.0};
  if (activations) {
    s.analyzer = analyzer;
  } else {
    for (int64_t l = 0; l < L; ++l) s.prior_max.push_back(analyzer->prior_max(l));
  }
  return s;
}

// A session as an activation file gives one: no model identity, ids, text or quality.
inline cascade::RunRecord as_activation_session(cascade::RunRecord s) {
  s.kind = cascade::SourceKind::Activations;
  s.model.reset();
  s.ids.clear();
  s.text.clear();
  s.quality.reset();
  return s;
}

// A random, self-consistent analysis (what remeasure accepts): independent sets of density `p`,
// a cascade that removes and adds a few tokens per layer.
inline cascade::Analysis random_analysis(int64_t L, int64_t T, int64_t d, double tau, std::mt19937& rng, double p = 0.25) {
  using namespace cascade;
  std::bernoulli_distribution pick(p), change(0.05);
  std::vector<TokenSet> ind(L), casc(L), added(L), removed(L);
  std::vector<int64_t> layers(L);
  for (int64_t l = 0; l < L; ++l) {
    layers[l] = l;
    for (int64_t t = 0; t < T; ++t)
      if (t == 0 || pick(rng)) ind[l].push_back(t);
    if (l == 0) {
      casc[0] = ind[0];
      continue;
    }
    for (int64_t t : casc[l - 1])
      if (t != 0 && change(rng)) removed[l].push_back(t);
    const TokenSet valid = set_difference(casc[l - 1], removed[l]);
    for (int64_t t = 0; t < T; ++t)
      if (!std::binary_search(casc[l - 1].begin(), casc[l - 1].end(), t) && change(rng)) added[l].push_back(t);
    casc[l] = set_union(valid, added[l]);
  }
  return remeasure(T, d, tau, Rule::PriorMax, layers, ind, casc, added, removed, "random");
}

// A session of L layers and T tokens without activations, from random sets, γ and π: for sizes.
inline cascade::RunRecord random_session(int64_t L, int64_t T, int64_t d, int sweep_points, uint32_t seed = 1) {
  using namespace cascade;
  std::mt19937 rng(seed);
  RunRecord s;
  s.kind = SourceKind::Model;
  s.source = "random";
  s.model = ModelIdentity{"random", "llama", std::string(64, '0'), "local", L, d, 32, 32000};
  std::uniform_int_distribution<int64_t> id(0, 31999);
  std::uniform_real_distribution<float> g(0.f, 1.f);
  for (int64_t t = 0; t < T; ++t) {
    s.ids.push_back(id(rng));
    s.tokens.push_back("▁tok" + std::to_string(s.ids.back()));
  }
  s.analysis = random_analysis(L, T, d, 0.3, rng);
  for (int64_t l = 0; l < L; ++l) {
    PriorMax pm;
    pm.gamma.push_back(-std::numeric_limits<float>::infinity());
    pm.partner.push_back(-1);
    for (int64_t t = 1; t < T; ++t) {
      pm.gamma.push_back(g(rng));
      pm.partner.push_back(std::uniform_int_distribution<int64_t>(0, t - 1)(rng));
    }
    s.prior_max.push_back(std::move(pm));
  }
  for (int i = 0; i < sweep_points; ++i) {
    s.sweep.push_back(SweepEntry{random_analysis(L, T, d, 0.05 * (i + 1), rng, 0.6 - 0.04 * i), std::nullopt, std::nullopt});
  }
  return s;
}


// A SPEC §7 comparison on `s` with every kind of field filled: a token-set method with its sets and
// every axis, one without a set and with missing axes (and a `why`), an element method with
// quality, a ratio budget that needs all its digits, a seed above 2^63, notes (one with a comma).
inline cascade::Comparison sample_comparison(const cascade::RunRecord& s, double ratio = 1.0 / 3.0) {
  using namespace cascade;
  Comparison c;
  c.tau = s.analysis.tau;
  c.rule = to_string(s.analysis.rule);
  c.nearest = "causal-nearest";
  c.budget.kind = Budget::Kind::Ratio;
  c.budget.ratio = ratio;
  c.seed = 0xF00DFACE12345678ull;
  c.document = 3;
  c.T = s.analysis.T;
  c.ppl_exact = 12.5;
  c.notes = {"budget ratio:0.3 is larger, clamped", "second note"};
  const int64_t T = c.T;
  for (const Method method : {Method::Cascade, Method::Random, Method::TopTheta}) {
    MethodResult m;
    m.method = method;
    for (size_t i = 0; i < s.analysis.layers.size(); ++i) {
      const LayerMeasures& lm = s.analysis.layers[i];
      MethodLayer l;
      l.layer = lm.layer;
      if (method == Method::Cascade) {
        l.set = lm.reps_casc;
        l.r = static_cast<int64_t>(lm.reps_casc.size());
        l.coverage = 0.9 + 0.01 * static_cast<double>(i);
        l.covered = 0.75;
        l.attn_err = 1.0 / 7.0;
        l.selection_ms = 0.125 * static_cast<double>(i + 1);
        l.selection_macs = lm.gram_macs_casc;
      } else if (method == Method::Random) {
        l.r = std::min<int64_t>(T, 2 + static_cast<int64_t>(i));
        if (i % 2 == 0) {  // a set on every other layer; the others could not run
          TokenList set;
          for (int64_t t = 0; t < l.r; ++t) set.push_back(t == 0 ? 0 : T - l.r + t);
          l.set = set;
          l.coverage = 0.5;
          l.selection_macs = 0;
        } else {
          l.why = "needs the model";
        }
      } else {
        l.r = 4;
        l.attn_err = 0.03125;
        l.selection_ms = 1.5;
        l.why = "coverage: no token set";
      }
      m.layers.push_back(std::move(l));
    }
    if (method == Method::TopTheta) {
      m.ppl = 13.0, m.delta_ppl = 0.5, m.kl = 0.015625;
      m.self_calibrated = true;
    } else if (method == Method::Random) {
      m.quality_why = "quality: \"not asked\"";
    }
    c.methods.push_back(std::move(m));
  }
  return c;
}

}  // namespace testsession
