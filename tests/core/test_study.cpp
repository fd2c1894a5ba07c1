// core/study: the study table (append, canonical order, repeats), the parameters' difference, the
// aggregates (each cell the Describe of that column; over layers the per-document mean; the paired
// rows) against direct computations here, and sharding.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "core/errors.h"
#include "core/stats.h"
#include "core/study.h"

using namespace cascade;
using namespace cascade::study;

namespace {

const double kNaN = std::nan("");

// Document d (index `index`) with layers/x [2 layers, 2 taus] = d·(l+1)·(t+1) (NaN at layer 1, τ 1 of
// document 0), summary/s [2] and quality/delta_ppl [2 modes, 2 taus].
DocumentResult doc(int64_t d, int64_t index) {
  DocumentResult r;
  r.document.id = std::string(15, '0') + "0123456789abcdef"[d % 16];
  r.document.source = "t" + std::to_string(d) + ".txt";
  r.document.index = index;
  r.document.T = 10 + d;
  r.document.ids = {1, 2, d};
  std::vector<double> x;
  for (int l = 0; l < 2; ++l)
    for (int t = 0; t < 2; ++t) x.push_back(d == 0 && l == 1 && t == 1 ? kNaN : static_cast<double>(d * (l + 1) * (t + 1)));
  r.arrays.push_back({"layers/x", {2, 2}, x});
  r.arrays.push_back({"summary/s", {2}, {0.5 * static_cast<double>(d), 1.0}});
  r.arrays.push_back({"quality/delta_ppl", {2, 2}, {1.0 * static_cast<double>(d), 2, static_cast<double>(d % 3), 4}});
  r.elapsed_ms = 1;
  return r;
}

Study study_of(int64_t n) {
  Study s;
  s.taus = {0.3, 0.5};
  s.layers = {0, 1};
  s.quality_modes = {"ada-cascade", "ada-independent"};
  s.seed = 3;
  s.resamples = 500;
  for (int64_t d = n - 1; d >= 0; --d) append(s, doc(d, d));  // out of order, as MPI delivers
  return s;
}

}  // namespace

TEST(Study, CanonicalOrderAndRepeatsDropped) {
  Study s = study_of(5);
  append(s, doc(2, 2));  // a document committed twice (a resumed run)
  EXPECT_EQ(canonicalize(s), 1);
  ASSERT_EQ(s.documents.size(), 5u);
  for (int64_t d = 0; d < 5; ++d) {
    EXPECT_EQ(s.documents[static_cast<size_t>(d)].index, d);
    EXPECT_EQ(s.find("summary/s")->at(d, 0), 0.5 * static_cast<double>(d));
    const DocumentResult r = row(s, d);
    EXPECT_EQ(r.arrays[0].values.size(), 4u);
    EXPECT_EQ(r.document.id, doc(d, d).document.id);
  }
  DocumentResult wrong = doc(6, 6);
  wrong.arrays[0].shape = {4};
  EXPECT_THROW(append(s, wrong), InputError);
}

TEST(Study, ParamsDifferenceNamesTheFirstOne) {
  Params a, b;
  a.set("taus", "0.3");
  a.set("seed", "0");
  b.set("taus", "0.3");
  b.set("seed", "1");
  EXPECT_EQ(a.difference(a), "");
  EXPECT_EQ(a.difference(b), "seed: the file has 0, this run 1");
  b.set("seed", "0");
  b.set("shard", "1/2");
  EXPECT_NE(a.difference(b).find("shard"), std::string::npos);
  EXPECT_EQ(a.difference(b, {"shard"}), "");
}

// Each cell is the Describe of its column; over layers is the per-document mean of the non-NaN
// layers; paired rows are stats::paired of the two modes' columns.
TEST(Study, AggregatesAreTheColumnsStatistics) {
  const Study s = [] {
    Study x = study_of(9);
    canonicalize(x);
    return x;
  }();
  const Aggregates a = aggregate(s);
  const ArrayAggregate* x = a.find("layers/x");
  ASSERT_NE(x, nullptr);
  ASSERT_EQ(x->cells.size(), 4u);
  for (int64_t c = 0; c < 4; ++c) {
    std::vector<double> col;
    for (int64_t d = 0; d < 9; ++d) col.push_back(s.find("layers/x")->at(d, c));
    const stats::Describe want = stats::describe(col, 3, 500);
    EXPECT_EQ(x->cells[static_cast<size_t>(c)].n, want.n);
    EXPECT_EQ(x->cells[static_cast<size_t>(c)].mean, want.mean);
    EXPECT_EQ(x->cells[static_cast<size_t>(c)].ci95, want.ci95);
  }
  EXPECT_EQ(x->cells[3].n, 8);  // document 0's NaN left out
  ASSERT_EQ(x->over_layers.size(), 2u);
  // τ index 1: document d's layers are 2d and 4d (document 0: only layer 0, 0).
  double mean = 0;
  for (int d = 0; d < 9; ++d) mean += d == 0 ? 0.0 : (2.0 * d + 4.0 * d) / 2;
  EXPECT_DOUBLE_EQ(x->over_layers[1].mean, mean / 9);
  // Paired: ada-cascade vs ada-independent on delta_ppl at both τ.
  ASSERT_EQ(a.paired.size(), 2u);
  EXPECT_EQ(a.paired[0].quantity, "delta_ppl");
  EXPECT_EQ(a.paired[0].tau, 0.3);
  std::vector<double> ca, in;
  for (int64_t d = 0; d < 9; ++d) ca.push_back(s.find("quality/delta_ppl")->at(d, 0)), in.push_back(s.find("quality/delta_ppl")->at(d, 2));
  const stats::Paired want = stats::paired(ca, in, 3, 500);
  EXPECT_EQ(a.paired[0].result.mean_diff, want.mean_diff);
  EXPECT_EQ(a.paired[0].result.wilcoxon.p, want.wilcoxon.p);
  EXPECT_EQ(a.paired[0].result.a_lower, want.a_lower);
}

// Any order of the same documents gives bit-identical aggregates (what sharding relies on).
TEST(Study, AggregatesDoNotDependOnArrivalOrder) {
  Study a = study_of(12), b;
  b.taus = a.taus, b.layers = a.layers, b.quality_modes = a.quality_modes, b.seed = a.seed, b.resamples = a.resamples;
  for (int64_t d : {5, 0, 11, 3, 7, 1, 9, 2, 10, 4, 8, 6}) append(b, doc(d, d));
  canonicalize(a);
  canonicalize(b);
  const Aggregates x = aggregate(a), y = aggregate(b);
  for (size_t i = 0; i < x.arrays.size(); ++i)
    for (size_t c = 0; c < x.arrays[i].cells.size(); ++c) {
      EXPECT_EQ(x.arrays[i].cells[c].ci95, y.arrays[i].cells[c].ci95);
      EXPECT_EQ(x.arrays[i].cells[c].median, y.arrays[i].cells[c].median);
    }
}

TEST(Study, ShardsByTheIdsValue) {
  EXPECT_EQ(id_value("00000000000000ff"), 255u);
  EXPECT_EQ(shard_of("00000000000000ff", 4), 3);
  EXPECT_EQ(shard_of("ffffffffffffffff", 10), static_cast<int64_t>(0xffffffffffffffffULL % 10));
  EXPECT_THROW(id_value("xyz"), InputError);
  EXPECT_THROW(shard_of("00ff", 0), UsageError);
}
