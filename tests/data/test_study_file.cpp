// Study files (data/study/study_file.h, data/STUDY_FORMAT.md): every field and every double round-
// trips bit for bit (NaN included), the aggregates and paired rows too; atomic writes; clear errors
// for newer, damaged and foreign files (mutated here with the HDF5 C API, independently of our writer).
#include <hdf5.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>

#include "common/session_builders.h"
#include "core/errors.h"
#include "core/study.h"
#include "data/session/session_file.h"
#include "data/study/study_file.h"
#include "file_builders.h"

namespace cascade::data::testing {
namespace {

using StudyFileTest = TempDirTest;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// 7 documents of different T, 3 layers, 2 τ, 2 quality modes, 3 methods; NaNs where SPEC §8 has
// none (depth_jaccard at the last layer, a method without a measure), one failure, non-ASCII names.
study::Study sample_study() {
  study::Study s;
  s.params.set("app_version", "9.8.7-test");
  s.params.set("taus", "0.3,0.5");
  s.params.set("corpus", "Korpus/größe");
  s.taus = {0.3, 0.5};
  s.layers = {0, 2, 5};
  s.quality_modes = {"ada-cascade", "ada-independent"};
  s.methods = {"cascade", "random", "window"};
  s.seed = 0xfedcba9876543210ULL;
  s.resamples = 200;  // enough for distinct CIs, quick
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const int64_t D = 7;
  for (int64_t d = 0; d < D; ++d) {
    study::Document doc{"00000000000000" + std::to_string(10 + d), d == 3 ? "ü/ß.txt" : "a/b" + std::to_string(d) + ".txt",
                        100 * d, 5 + 3 * d, 2 * d, {}};
    for (int64_t t = 0; t < doc.T; ++t) doc.ids.push_back((d * 131 + t * 17) % 50257);
    s.documents.push_back(doc);
    s.elapsed_ms.push_back(10.5 + u(rng));
  }
  auto add = [&](const std::string& name, std::vector<int64_t> shape, auto none) {
    study::Array a{name, std::move(shape), {}};
    for (int64_t d = 0; d < D; ++d)
      for (int64_t i = 0; i < a.per_document(); ++i) a.values.push_back(none(d, i) ? kNaN : u(rng) * 3 - 1);
    s.arrays.push_back(std::move(a));
  };
  const auto never = [](int64_t, int64_t) { return false; };
  add("layers/r_ind", {3, 2}, never);
  add("layers/depth_jaccard", {3, 2}, [](int64_t, int64_t i) { return i >= 4; });  // the last layer
  add("summary/gram_savings", {2}, [](int64_t d, int64_t) { return d == 6; });
  add("quality/ppl_exact", {}, never);
  add("quality/delta_ppl", {2, 2}, [](int64_t d, int64_t i) { return d == 1 && i == 3; });
  add("quality/kl", {2, 2}, never);
  add("quality/attn_err", {2, 2}, never);
  add("methods/attn_err", {3, 3}, [](int64_t, int64_t i) { return i == 8; });
  add("methods/coverage", {3, 3}, never);
  add("methods/delta_ppl", {3}, [](int64_t, int64_t i) { return i == 2; });  // window has none
  s.failures.push_back({"c/ünlesbar.jsonl:7", "not UTF-8 at byte 12"});
  return s;
}

void expect_bits(const std::vector<double>& a, const std::vector<double>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  if (!a.empty()) EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(double))) << what;  // (null data when empty)
}

void expect_same_describe(const stats::Describe& a, const stats::Describe& b, const std::string& what) {
  EXPECT_EQ(a.n, b.n) << what;
  expect_bits({a.mean, a.sd, a.median, a.q25, a.q75, a.min, a.max, a.ci95[0], a.ci95[1]},
              {b.mean, b.sd, b.median, b.q25, b.q75, b.min, b.max, b.ci95[0], b.ci95[1]}, what);
}

void expect_same_study(const study::Study& a, const study::Study& b) {
  EXPECT_EQ(a.params.items, b.params.items);
  expect_bits(a.taus, b.taus, "taus");
  EXPECT_EQ(a.layers, b.layers);
  EXPECT_EQ(a.quality_modes, b.quality_modes);
  EXPECT_EQ(a.methods, b.methods);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.resamples, b.resamples);
  ASSERT_EQ(a.documents.size(), b.documents.size());
  for (size_t d = 0; d < a.documents.size(); ++d) {
    const study::Document &x = a.documents[d], &y = b.documents[d];
    EXPECT_EQ(x.id, y.id);
    EXPECT_EQ(x.source, y.source);
    EXPECT_EQ(x.offset, y.offset);
    EXPECT_EQ(x.T, y.T);
    EXPECT_EQ(x.index, y.index);
    EXPECT_EQ(x.ids, y.ids);
  }
  expect_bits(a.elapsed_ms, b.elapsed_ms, "elapsed_ms");
  ASSERT_EQ(a.failures.size(), b.failures.size());
  for (size_t i = 0; i < a.failures.size(); ++i) {
    EXPECT_EQ(a.failures[i].source, b.failures[i].source);
    EXPECT_EQ(a.failures[i].why, b.failures[i].why);
  }
  ASSERT_EQ(a.arrays.size(), b.arrays.size());
  for (size_t i = 0; i < a.arrays.size(); ++i) {
    EXPECT_EQ(a.arrays[i].name, b.arrays[i].name);
    EXPECT_EQ(a.arrays[i].shape, b.arrays[i].shape) << a.arrays[i].name;
    expect_bits(a.arrays[i].values, b.arrays[i].values, a.arrays[i].name);
  }
}

void expect_same_aggregates(const study::Aggregates& a, const study::Aggregates& b) {
  ASSERT_EQ(a.arrays.size(), b.arrays.size());
  for (size_t i = 0; i < a.arrays.size(); ++i) {
    const study::ArrayAggregate &x = a.arrays[i], &y = b.arrays[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.shape, y.shape) << x.name;
    ASSERT_EQ(x.cells.size(), y.cells.size()) << x.name;
    for (size_t c = 0; c < x.cells.size(); ++c) expect_same_describe(x.cells[c], y.cells[c], x.name + " cell " + std::to_string(c));
    ASSERT_EQ(x.over_layers.size(), y.over_layers.size()) << x.name;
    for (size_t t = 0; t < x.over_layers.size(); ++t)
      expect_same_describe(x.over_layers[t], y.over_layers[t], x.name + " over_layers " + std::to_string(t));
  }
  ASSERT_EQ(a.paired.size(), b.paired.size());
  for (size_t i = 0; i < a.paired.size(); ++i) {
    const study::PairedRow &x = a.paired[i], &y = b.paired[i];
    const std::string what = "paired " + std::to_string(i);
    EXPECT_EQ(x.quantity, y.quantity) << what;
    EXPECT_EQ(x.a, y.a) << what;
    EXPECT_EQ(x.b, y.b) << what;
    const stats::Paired &p = x.result, &q = y.result;
    EXPECT_EQ(p.n, q.n) << what;
    EXPECT_EQ(p.a_lower, q.a_lower) << what;
    EXPECT_EQ(p.b_lower, q.b_lower) << what;
    EXPECT_EQ(p.ties, q.ties) << what;
    EXPECT_EQ(p.wilcoxon.n, q.wilcoxon.n) << what;
    EXPECT_EQ(p.wilcoxon.exact, q.wilcoxon.exact) << what;
    expect_bits({x.tau, p.mean_diff, p.ci95[0], p.ci95[1], p.wilcoxon.p, p.wilcoxon.w_plus, p.wilcoxon.z},
                {y.tau, q.mean_diff, q.ci95[0], q.ci95[1], q.wilcoxon.p, q.wilcoxon.w_plus, q.wilcoxon.z}, what);
  }
}

// Replaces the root attribute format_version (as a newer writer would have written it).
void set_format_version(const std::string& path, int64_t version) {
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  const hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
  ASSERT_GE(a, 0);
  EXPECT_GE(H5Awrite(a, H5T_NATIVE_INT64, &version), 0);
  H5Aclose(a);
  H5Fclose(f);
}

// Replaces /layer_ids by one of `n` layers, so the layers/* arrays no longer match it.
void replace_layer_ids(const std::string& path, hsize_t n) {
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  EXPECT_GE(H5Ldelete(f, "layer_ids", H5P_DEFAULT), 0);
  const hid_t space = H5Screate_simple(1, &n, nullptr);
  const hid_t d = H5Dcreate2(f, "layer_ids", H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const std::vector<int64_t> ids(n, 1);
  EXPECT_GE(H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, ids.data()), 0);
  H5Dclose(d);
  H5Sclose(space);
  H5Fclose(f);
}

std::string error_of(const std::string& path) {
  try {
    read_study(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

TEST_F(StudyFileTest, RoundTripsEveryFieldAndAggregateBitForBit) {
  const study::Study s = sample_study();
  const study::Aggregates agg = study::aggregate(s);
  ASSERT_FALSE(agg.paired.empty());
  write_study(path("s.h5"), s, agg);
  EXPECT_TRUE(is_study_file(path("s.h5")));
  study::Aggregates back_agg;
  const study::Study back = read_study(path("s.h5"), &back_agg);
  expect_same_study(s, back);
  expect_same_aggregates(agg, back_agg);
  EXPECT_TRUE(std::isnan(back.find("layers/depth_jaccard")->at(0, 4)));
  // Without an Aggregates the same study; and a study read back writes the same study again.
  expect_same_study(s, read_study(path("s.h5")));
  write_study(path("again.h5"), back, back_agg);
  study::Aggregates again_agg;
  expect_same_study(s, read_study(path("again.h5"), &again_agg));
  expect_same_aggregates(agg, again_agg);
}

TEST_F(StudyFileTest, RoundTripsAnEmptyStudy) {
  study::Study s;
  write_study(path("empty.h5"), s, study::aggregate(s));
  study::Aggregates agg;
  expect_same_study(s, read_study(path("empty.h5"), &agg));
  EXPECT_TRUE(agg.arrays.empty());
  EXPECT_TRUE(agg.paired.empty());
}

TEST_F(StudyFileTest, WritesAtomicallyAndNamesAnUnwritablePath) {
  const study::Study s = sample_study();
  write_study(path("s.h5"), s, study::aggregate(s));
  write_study(path("s.h5"), s, {});  // replaces the first
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"s.h5"});
  const std::string bad = path("no/such/folder/s.h5");
  try {
    write_study(bad, s, {});
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(path("no")));
}

TEST_F(StudyFileTest, RefusesANewerFormatVersion) {
  const study::Study s = sample_study();
  write_study(path("s.h5"), s, {});
  set_format_version(path("s.h5"), 99);
  const std::string e = error_of(path("s.h5"));
  EXPECT_NE(e.find("written by a newer Cascade Lens (format 99); this build reads up to " + std::to_string(kStudyFormatVersion)), std::string::npos) << e;
  EXPECT_NE(e.find(path("s.h5")), std::string::npos) << e;
}

TEST_F(StudyFileTest, ChecksShapesAgainstTheAxes) {
  const study::Study s = sample_study();
  write_study(path("s.h5"), s, {});
  replace_layer_ids(path("s.h5"), 2);
  const std::string e = error_of(path("s.h5"));
  EXPECT_NE(e.find("/layers/r_ind"), std::string::npos) << e;
}

TEST_F(StudyFileTest, DamagedOrForeignFilesAreInputErrors) {
  const study::Study s = sample_study();
  write_study(path("s.h5"), s, study::aggregate(s));
  const std::string bytes = read_bytes(path("s.h5"));
  for (size_t keep : {bytes.size() / 2, bytes.size() - 100, size_t{600}, size_t{10}}) {
    write_bytes(path("cut.h5"), bytes.substr(0, keep));
    EXPECT_THROW(read_study(path("cut.h5")), InputError) << keep << " bytes";
    EXPECT_NO_THROW(is_study_file(path("cut.h5"))) << keep;
  }
  write_bytes(path("text.h5"), "not a study\n");
  EXPECT_THROW(read_study(path("text.h5")), InputError);
  EXPECT_FALSE(is_study_file(path("text.h5")));
  EXPECT_FALSE(is_study_file(path("missing.h5")));
  EXPECT_THROW(read_study(path("missing.h5")), InputError);

  const RunRecord session = testsession::analysed_session(3, 12, 8, false);
  write_session(path("session.h5"), session);
  EXPECT_FALSE(is_study_file(path("session.h5")));
  EXPECT_NE(error_of(path("session.h5")).find("not a Cascade Lens study"), std::string::npos);
}

}  // namespace
}  // namespace cascade::data::testing
