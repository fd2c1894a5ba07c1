// The Analyzer end to end against a brute-force composition of the rules, sweep reuse, cancel,
// layer ranges, τ grids and the synthetic generator.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <map>

#include "brute_force.h"
#include "core/analyzer.h"
#include "core/errors.h"
#include "core/sets.h"
#include "core/synthetic.h"

using namespace cascade;

namespace {

ActivationSet stack_layers(const std::vector<at::Tensor>& layers) {
  ActivationSet acts;
  acts.hidden = at::stack(layers);
  acts.source = "test";
  validate(acts);
  return acts;
}

// The whole run by brute force: independent sets per layer, the cascade chained from layer 0.
struct Reference {
  std::vector<TokenSet> ind;
  std::vector<TokenSet> casc;
};
Reference brute_run(const ActivationSet& acts, double theta, Rule rule) {
  Reference ref;
  for (int64_t l = 0; l < acts.num_layers(); ++l) {
    const bf::Mat x = bf::normalize(bf::to_mat(acts.hidden[l]));
    ref.ind.push_back(rule == Rule::PriorMax ? bf::prior_max_reps(x, theta) : bf::greedy_cover(x, theta));
    ref.casc.push_back(l == 0 ? ref.ind[0] : bf::cascade_step(x, ref.casc.back(), theta).result);
  }
  return ref;
}

bool any_near_tie(const ActivationSet& acts, double theta) {
  for (int64_t l = 0; l < acts.num_layers(); ++l)
    if (bf::near_tie(bf::normalize(bf::to_mat(acts.hidden[l])), theta)) return true;
  return false;
}

// 6 layers × 70 tokens × d 24 in 15 clusters: both rules give non-trivial, changing sets.
ActivationSet clustered_run() {
  SyntheticSpec spec;
  spec.layers = 6;
  spec.tokens = 70;
  spec.dim = 24;
  spec.clusters = 15;
  return make_synthetic(spec);
}

}  // namespace

TEST(Analyzer, MatchesBruteForceRunForBothRules) {
  const ActivationSet acts = clustered_run();
  const Analyzer analyzer(acts, 16);
  int compared = 0;
  for (Rule rule : {Rule::PriorMax, Rule::GreedyCover})
    for (double tau : {0.15, 0.3, 0.45}) {
      if (any_near_tie(acts, theta_of_tau(tau))) continue;
      ++compared;
      const Analysis a = analyzer.analyze(tau, rule);
      const Reference ref = brute_run(acts, theta_of_tau(tau), rule);
      for (int64_t l = 0; l < 6; ++l) {
        EXPECT_EQ(a.layers[l].reps_ind, ref.ind[l]) << "layer " << l;
        EXPECT_EQ(a.layers[l].reps_casc, ref.casc[l]) << "layer " << l;
        EXPECT_EQ(a.layers[l].missed, set_difference(ref.ind[l], ref.casc[l]));
      }
    }
  EXPECT_GE(compared, 4);
}

TEST(Analyzer, GramCacheGivesTheBruteForceSetsAndTheSameMeasures) {
  const ActivationSet acts = clustered_run();
  const Analyzer plain(acts, 16), cached(acts, 16, {}, int64_t{1} << 30);
  ASSERT_FALSE(plain.has_gram_cache());
  ASSERT_TRUE(cached.has_gram_cache());
  EXPECT_FALSE(Analyzer(acts, 16, {}, 6 * 70 * 70 * 4 - 1).has_gram_cache());  // over budget: not kept
  int compared = 0;
  for (Rule rule : {Rule::PriorMax, Rule::GreedyCover})
    for (double tau : {0.15, 0.3, 0.45}) {
      if (any_near_tie(acts, theta_of_tau(tau))) continue;
      ++compared;
      const Analysis a = cached.analyze(tau, rule), b = plain.analyze(tau, rule);
      const Reference ref = brute_run(acts, theta_of_tau(tau), rule);
      for (int64_t l = 0; l < 6; ++l) {
        EXPECT_EQ(a.layers[l].reps_ind, ref.ind[l]) << "layer " << l;
        EXPECT_EQ(a.layers[l].reps_casc, ref.casc[l]) << "layer " << l;
        EXPECT_EQ(a.layers[l].added, b.layers[l].added);
        EXPECT_EQ(a.layers[l].removed, b.layers[l].removed);
        EXPECT_EQ(a.layers[l].gram_entries_casc, b.layers[l].gram_entries_casc);
      }
      EXPECT_EQ(a.summary.gram_savings, b.summary.gram_savings);
    }
  EXPECT_GE(compared, 4);
}

TEST(Analyzer, SpecCounterexampleThroughTheWholeRun) {
  const ActivationSet acts = stack_layers({at::tensor({1.0f, 0.0f, 1.0f, 0.05f, 0.0f, 1.0f}).view({3, 2}),
                                           at::tensor({1.0f, 0.0f, 0.3f, 1.0f, 0.25f, 1.0f}).view({3, 2})});
  const Analysis a = Analyzer(acts).analyze(0.3, Rule::PriorMax);
  EXPECT_EQ(a.layers[1].reps_ind, (TokenSet{0, 1}));
  EXPECT_EQ(a.layers[1].reps_casc, (TokenSet{0, 2}));
  EXPECT_EQ(a.layers[1].missed, (TokenSet{1}));
  EXPECT_EQ(a.layers[1].extra, (TokenSet{2}));
  EXPECT_DOUBLE_EQ(a.layers[1].casc_fidelity, 1.0 / 3.0);
}

TEST(Analyzer, SweepEqualsAnalyzeAndNeverRescans) {
  SyntheticSpec spec;
  spec.layers = 4;
  spec.tokens = 50;
  const ActivationSet acts = make_synthetic(spec);
  std::map<std::string, int> events;
  JobControl counting;
  counting.on_progress = [&](const Progress& p) { ++events[p.stage]; };
  const Analyzer analyzer(acts, kDefaultTile, counting);
  const int scans_at_construction = events["prior-max scan"];
  EXPECT_EQ(scans_at_construction, 5);  // one per layer plus the final report
  const std::vector<double> taus = {0.1, 0.3, 0.5};
  for (Rule rule : {Rule::PriorMax, Rule::GreedyCover}) {
    const auto runs = analyzer.sweep(taus, rule, counting);
    ASSERT_EQ(runs.size(), 3u);
    for (size_t i = 0; i < taus.size(); ++i) {
      const Analysis single = analyzer.analyze(taus[i], rule);
      EXPECT_DOUBLE_EQ(runs[i].tau, taus[i]);
      for (int64_t l = 0; l < 4; ++l) {
        EXPECT_EQ(runs[i].layers[l].reps_ind, single.layers[l].reps_ind);
        EXPECT_EQ(runs[i].layers[l].reps_casc, single.layers[l].reps_casc);
      }
      EXPECT_DOUBLE_EQ(runs[i].summary.gram_savings, single.summary.gram_savings);
    }
  }
  EXPECT_EQ(events["prior-max scan"], scans_at_construction) << "a sweep must reuse the cached scan";
  EXPECT_EQ(events["sweep"], 8);
}

TEST(Analyzer, CancelIsHonoured) {
  const ActivationSet acts = make_synthetic(SyntheticSpec{});
  std::atomic<bool> cancel{true};
  JobControl control;
  control.cancel = &cancel;
  EXPECT_THROW(Analyzer(acts, 16, control), Cancelled);
  const Analyzer analyzer(acts);
  EXPECT_THROW(analyzer.analyze(0.3, Rule::PriorMax, control), Cancelled);
  EXPECT_THROW(analyzer.sweep({0.1, 0.2}, Rule::PriorMax, control), Cancelled);
}

TEST(Analyzer, DtypesGiveTheSameSetsAsFloat32WithinRounding) {
  const ActivationSet f32 = make_synthetic(SyntheticSpec{});
  const Analysis ref = Analyzer(f32).analyze(0.3, Rule::PriorMax);
  for (at::ScalarType st : {at::kHalf, at::kBFloat16}) {
    ActivationSet low = f32;
    low.hidden = f32.hidden.to(st);
    const Analysis a = Analyzer(low).analyze(0.3, Rule::PriorMax);
    // Rounding to 16 bits moves cosines by ~1e-3, so a few tokens near θ may flip; most agree.
    for (int64_t l = 0; l < a.L(); ++l) EXPECT_GT(jaccard(a.layers[l].reps_ind, ref.layers[l].reps_ind), 0.8);
  }
}

TEST(Analyzer, OneLayerAndOneToken) {
  const Analysis one_layer = Analyzer(stack_layers({at::randn({5, 3})})).analyze(0.3, Rule::PriorMax);
  EXPECT_EQ(one_layer.L(), 1);
  EXPECT_FALSE(one_layer.summary.mean_depth_jaccard.has_value());
  const Analysis one_token = Analyzer(stack_layers({at::randn({1, 3}), at::randn({1, 3})})).analyze(0.3, Rule::GreedyCover);
  EXPECT_EQ(one_token.layers[1].reps_casc, (TokenSet{0}));
  EXPECT_DOUBLE_EQ(*one_token.layers[0].depth_jaccard, 1.0);
}

TEST(Activations, ValidateRejectsBadInput) {
  ActivationSet acts;
  acts.source = "x.npy";
  acts.hidden = at::zeros({0, 3, 4});
  EXPECT_THROW(validate(acts), InputError);
  acts.hidden = at::zeros({2, 0, 4});
  EXPECT_THROW(validate(acts), InputError);
  acts.hidden = at::zeros({2, 3});
  EXPECT_THROW(validate(acts), InputError);
  acts.hidden = at::zeros({2, 3, 4}, at::kInt);
  EXPECT_THROW(validate(acts), InputError);
  acts.hidden = at::zeros({2, 3, 4});
  acts.hidden[1][2][3] = std::nanf("");
  try {
    validate(acts);
    FAIL() << "NaN accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("x.npy: layer 1 token 2 contains a NaN"), std::string::npos) << e.what();
  }
  acts.hidden = at::zeros({2, 3, 4});
  acts.tokens = {"a", "b"};
  EXPECT_THROW(validate(acts), InputError);
}

TEST(Activations, LayerRanges) {
  ActivationSet acts;
  acts.hidden = at::randn({6, 4, 2});
  validate(acts);
  auto ids = [&](const std::string& r) { return select_layers(acts, parse_layer_range(r)).layer_ids; };
  EXPECT_EQ(ids("2:5"), (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(ids("4:"), (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(ids(":2"), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(ids("3"), (std::vector<int64_t>{3}));
  EXPECT_EQ(ids("-2:"), (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(ids("-1"), (std::vector<int64_t>{5}));
  EXPECT_THROW(ids("5:2"), UsageError);
  EXPECT_THROW(ids("9:"), UsageError);
  EXPECT_THROW(ids("a:b"), UsageError);
  EXPECT_THROW(ids("1:2:3"), UsageError);
}

TEST(TauGrid, ParsesGridsAndLists) {
  const auto g = parse_tau_grid("0.05:0.6:0.05");
  ASSERT_EQ(g.size(), 12u);
  EXPECT_DOUBLE_EQ(g.front(), 0.05);
  EXPECT_DOUBLE_EQ(g.back(), 0.6);
  EXPECT_EQ(parse_tau_grid("0.1,0.3"), (std::vector<double>{0.1, 0.3}));
  EXPECT_THROW(parse_tau_grid("0.1:0.5"), UsageError);
  EXPECT_THROW(parse_tau_grid("0.1:0.5:0"), UsageError);
  EXPECT_THROW(parse_tau_grid("0.5:1.5:0.5"), UsageError);
  EXPECT_THROW(parse_tau_grid("x"), UsageError);
}

TEST(Synthetic, DeterministicWithDepthStructure) {
  const ActivationSet a = make_synthetic(SyntheticSpec{}), b = make_synthetic(SyntheticSpec{});
  EXPECT_TRUE(at::equal(a.hidden, b.hidden));
  EXPECT_EQ(a.tokens.size(), 96u);
  const Analysis run = Analyzer(a).analyze(0.3, Rule::PriorMax);
  int64_t r_min = run.T, r_max = 0;
  bool jaccard_below_one = false;
  for (const auto& m : run.layers) {
    r_min = std::min(r_min, m.r_ind);
    r_max = std::max(r_max, m.r_ind);
    jaccard_below_one = jaccard_below_one || (m.depth_jaccard && *m.depth_jaccard < 1.0);
  }
  EXPECT_GT(r_max, r_min + 5) << "r should vary with depth";
  EXPECT_LT(r_max, run.T) << "some tokens should be redundant";
  EXPECT_TRUE(jaccard_below_one);
}
