// SPEC §4 measures on hand-built sets, where every number can be checked by hand.
#include <gtest/gtest.h>

#include "core/measures.h"
#include "core/sets.h"

using namespace cascade;

TEST(Jaccard, Definition) {
  EXPECT_DOUBLE_EQ(jaccard({}, {}), 1.0);
  EXPECT_DOUBLE_EQ(jaccard({1, 2}, {}), 0.0);
  EXPECT_DOUBLE_EQ(jaccard({1, 2, 3}, {2, 3, 4}), 0.5);
  EXPECT_DOUBLE_EQ(jaccard({0, 5}, {0, 5}), 1.0);
}

TEST(Measures, HandBuiltThreeLayerRun) {
  // T = 10, d = 4. Independent sets per layer; cascade steps into layers 1 and 2.
  const std::vector<TokenSet> ind = {{0, 1, 2, 5}, {0, 1, 5, 7}, {0, 5, 7}};
  std::vector<CascadeTrace> steps(3);
  steps[1].inherited = {0, 1, 2, 5};
  steps[1].valid = {0, 1, 5};
  steps[1].removed = {2};
  steps[1].added = {7, 8};
  steps[1].result = {0, 1, 5, 7, 8};
  steps[1].gram_entries = 4 * 4 + 6 * 3;
  steps[2].inherited = {0, 1, 5, 7, 8};
  steps[2].valid = {0, 5, 7, 8};
  steps[2].removed = {1};
  steps[2].added = {};
  steps[2].result = {0, 5, 7, 8};
  steps[2].gram_entries = 5 * 5 + 5 * 4;
  const Analysis a = measure(10, 4, 0.3, Rule::PriorMax, {3, 4, 5}, ind, steps);

  ASSERT_EQ(a.L(), 3);
  EXPECT_DOUBLE_EQ(a.theta, 0.91);
  EXPECT_EQ(a.layers[0].layer, 3);
  EXPECT_EQ(a.layers[2].layer, 5);
  // Layer 0 of the range: the cascade starts from the independent set.
  EXPECT_EQ(a.layers[0].reps_casc, ind[0]);
  EXPECT_FALSE(a.layers[0].turnover.has_value());
  EXPECT_EQ(a.layers[0].adds, 0);
  EXPECT_EQ(a.layers[0].gram_entries_casc, 100);
  // Depth Jaccard: {0,1,2,5} vs {0,1,5,7} → 3/5; {0,1,5,7} vs {0,5,7} → 3/4; none at the last layer.
  EXPECT_DOUBLE_EQ(*a.layers[0].depth_jaccard, 0.6);
  EXPECT_DOUBLE_EQ(*a.layers[1].depth_jaccard, 0.75);
  EXPECT_FALSE(a.layers[2].depth_jaccard.has_value());
  // Layer 1: casc {0,1,5,7,8} vs ind {0,1,5,7}: fidelity 4/5, extra {8}, nothing missed.
  EXPECT_DOUBLE_EQ(a.layers[1].casc_fidelity, 0.8);
  EXPECT_EQ(a.layers[1].extra, (TokenSet{8}));
  EXPECT_TRUE(a.layers[1].missed.empty());
  EXPECT_EQ(a.layers[1].adds, 2);
  EXPECT_EQ(a.layers[1].removes, 1);
  EXPECT_DOUBLE_EQ(*a.layers[1].turnover, 3.0 / 4.0);  // (adds + removes) / |R^(l−1)|
  EXPECT_EQ(a.layers[1].gram_entries_casc, 34);
  EXPECT_EQ(a.layers[1].gram_macs_casc, 34 * 4);
  EXPECT_EQ(a.layers[1].gram_macs_ind, 400);
  EXPECT_DOUBLE_EQ(a.layers[1].compression_ind, 10.0 / 4);
  EXPECT_DOUBLE_EQ(a.layers[1].compression_casc, 10.0 / 5);
  // Layer 2: casc {0,5,7,8} vs ind {0,5,7}.
  EXPECT_DOUBLE_EQ(*a.layers[2].turnover, 1.0 / 5.0);
  EXPECT_EQ(a.layers[2].extra, (TokenSet{8}));
  // Jaccard matrix: symmetric, 1 on the diagonal, (0,2): {0,1,2,5} vs {0,5,7} → 2/5.
  EXPECT_DOUBLE_EQ(a.jaccard_matrix[0][2], 0.4);
  EXPECT_DOUBLE_EQ(a.jaccard_matrix[2][0], 0.4);
  for (int i = 0; i < 3; ++i) EXPECT_DOUBLE_EQ(a.jaccard_matrix[i][i], 1.0);
  // Summary.
  EXPECT_DOUBLE_EQ(*a.summary.mean_depth_jaccard, (0.6 + 0.75) / 2);
  EXPECT_EQ(a.summary.gram_entries_ind, 300);
  EXPECT_EQ(a.summary.gram_entries_casc, 100 + 34 + 45);
  EXPECT_DOUBLE_EQ(a.summary.gram_savings, 1.0 - 179.0 / 300.0);
  EXPECT_DOUBLE_EQ(a.summary.mean_r_ind, 11.0 / 3);
  EXPECT_DOUBLE_EQ(a.summary.mean_r_casc, 13.0 / 3);
  EXPECT_DOUBLE_EQ(*a.summary.mean_turnover, (0.75 + 0.2) / 2);
  EXPECT_EQ(a.summary.total_extra, 2);
  EXPECT_EQ(a.summary.total_missed, 0);
  EXPECT_EQ(a.summary.total_adds, 2);
  EXPECT_EQ(a.summary.total_removes, 2);
}

TEST(Measures, SingleLayerHasNoDepthMeasures) {
  const Analysis a = measure(4, 2, 0.5, Rule::GreedyCover, {7}, {{0, 3}}, {CascadeTrace{}});
  EXPECT_FALSE(a.summary.mean_depth_jaccard.has_value());
  EXPECT_FALSE(a.summary.mean_turnover.has_value());
  EXPECT_DOUBLE_EQ(a.summary.gram_savings, 0.0);
  EXPECT_DOUBLE_EQ(a.layers[0].casc_fidelity, 1.0);
  EXPECT_EQ(a.jaccard_matrix, (std::vector<std::vector<double>>{{1.0}}));
}
