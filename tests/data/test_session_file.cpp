// Session files (data/session/session_file.h, data/SESSION_FORMAT.md): round trip of every field, the
// Analyzer rebuilt from a session, atomic writes, and clear errors for damaged or foreign files
// (mutated here with the HDF5 C API, independently of our writer).
#include <hdf5.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>

#include "common/legacy_session.h"
#include "common/session_builders.h"
#include "core/errors.h"
#include "data/formats/activation_io.h"
#include "data/session/session_file.h"
#include "data/formats/sha256.h"
#include "file_builders.h"

namespace cascade::data::testing {
namespace {

using SessionFileTest = TempDirTest;

void expect_same_analysis(const Analysis& a, const Analysis& b, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(a.T, b.T);
  EXPECT_EQ(a.d, b.d);
  EXPECT_EQ(a.tau, b.tau);
  EXPECT_EQ(a.theta, b.theta);
  EXPECT_EQ(a.rule, b.rule);
  ASSERT_EQ(a.L(), b.L());
  for (int64_t l = 0; l < a.L(); ++l) {
    const LayerMeasures &x = a.layers[l], &y = b.layers[l];
    SCOPED_TRACE("layer " + std::to_string(l));
    EXPECT_EQ(x.layer, y.layer);
    EXPECT_EQ(x.reps_ind, y.reps_ind);
    EXPECT_EQ(x.reps_casc, y.reps_casc);
    EXPECT_EQ(x.missed, y.missed);
    EXPECT_EQ(x.extra, y.extra);
    EXPECT_EQ(x.added, y.added);
    EXPECT_EQ(x.removed, y.removed);
    EXPECT_EQ(x.r_ind, y.r_ind);
    EXPECT_EQ(x.r_casc, y.r_casc);
    EXPECT_EQ(x.depth_jaccard, y.depth_jaccard);
    EXPECT_EQ(x.casc_fidelity, y.casc_fidelity);
    EXPECT_EQ(x.adds, y.adds);
    EXPECT_EQ(x.removes, y.removes);
    EXPECT_EQ(x.turnover, y.turnover);
    EXPECT_EQ(x.gram_entries_ind, y.gram_entries_ind);
    EXPECT_EQ(x.gram_entries_casc, y.gram_entries_casc);
    EXPECT_EQ(x.gram_macs_ind, y.gram_macs_ind);
    EXPECT_EQ(x.gram_macs_casc, y.gram_macs_casc);
    EXPECT_EQ(x.compression_ind, y.compression_ind);
    EXPECT_EQ(x.compression_casc, y.compression_casc);
  }
  EXPECT_EQ(a.jaccard_matrix, b.jaccard_matrix);
  const Summary &s = a.summary, &t = b.summary;
  EXPECT_EQ(s.mean_depth_jaccard, t.mean_depth_jaccard);
  EXPECT_EQ(s.gram_savings, t.gram_savings);
  EXPECT_EQ(s.gram_entries_ind, t.gram_entries_ind);
  EXPECT_EQ(s.gram_entries_casc, t.gram_entries_casc);
  EXPECT_EQ(s.mean_r_ind, t.mean_r_ind);
  EXPECT_EQ(s.mean_r_casc, t.mean_r_casc);
  EXPECT_EQ(s.mean_compression_ind, t.mean_compression_ind);
  EXPECT_EQ(s.mean_compression_casc, t.mean_compression_casc);
  EXPECT_EQ(s.mean_casc_fidelity, t.mean_casc_fidelity);
  EXPECT_EQ(s.mean_turnover, t.mean_turnover);
  EXPECT_EQ(s.total_missed, t.total_missed);
  EXPECT_EQ(s.total_extra, t.total_extra);
  EXPECT_EQ(s.total_adds, t.total_adds);
  EXPECT_EQ(s.total_removes, t.total_removes);
}

void expect_same_session(const RunRecord& a, const RunRecord& b) {
  EXPECT_EQ(a.app_version, b.app_version);
  EXPECT_EQ(a.created, b.created);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.source, b.source);
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.attention, b.attention);
  EXPECT_EQ(a.nearest, b.nearest);
  EXPECT_EQ(a.device, b.device);
  EXPECT_EQ(a.dtype, b.dtype);
  expect_same_analysis(a.analysis, b.analysis, "analysis");
  ASSERT_EQ(a.num_layers(), b.num_layers());
  for (int64_t l = 0; l < a.num_layers(); ++l) {
    EXPECT_EQ(a.prior_max_of(l).gamma, b.prior_max_of(l).gamma) << "layer " << l;  // −inf at token 0 included
    EXPECT_EQ(a.prior_max_of(l).partner, b.prior_max_of(l).partner) << "layer " << l;
  }
  ASSERT_EQ(a.sweep.size(), b.sweep.size());
  for (size_t i = 0; i < a.sweep.size(); ++i) {
    expect_same_analysis(a.sweep[i].analysis, b.sweep[i].analysis, "sweep " + std::to_string(i));
    EXPECT_EQ(a.sweep[i].ada_error, b.sweep[i].ada_error);
    EXPECT_EQ(a.sweep[i].delta_ppl, b.sweep[i].delta_ppl);
  }
  ASSERT_EQ(a.quality.has_value(), b.quality.has_value());
  if (a.quality) {
    EXPECT_EQ(a.quality->attention_error, b.quality->attention_error);
    EXPECT_EQ(a.quality->ppl_exact, b.quality->ppl_exact);
    EXPECT_EQ(a.quality->ppl_ada, b.quality->ppl_ada);
    EXPECT_EQ(a.quality->mean_kl, b.quality->mean_kl);
  }
  EXPECT_EQ(a.quality_mode, b.quality_mode);
  EXPECT_EQ(a.timings.forward_ms, b.timings.forward_ms);
  EXPECT_EQ(a.timings.selection_ms, b.timings.selection_ms);
  EXPECT_EQ(a.timings.quality_ms, b.timings.quality_ms);
  ASSERT_EQ(a.comparisons.size(), b.comparisons.size());
  for (size_t i = 0; i < a.comparisons.size(); ++i) {
    SCOPED_TRACE("comparison " + std::to_string(i));
    const Comparison &x = a.comparisons[i], &y = b.comparisons[i];
    EXPECT_EQ(x.tau, y.tau);
    EXPECT_EQ(x.rule, y.rule);
    EXPECT_EQ(x.nearest, y.nearest);
    EXPECT_EQ(x.budget, y.budget);
    EXPECT_EQ(x.seed, y.seed);
    EXPECT_EQ(x.document, y.document);
    EXPECT_EQ(x.T, y.T);
    EXPECT_EQ(x.ppl_exact, y.ppl_exact);
    EXPECT_EQ(x.notes, y.notes);
    ASSERT_EQ(x.methods.size(), y.methods.size());
    for (size_t k = 0; k < x.methods.size(); ++k) {
      const MethodResult &m = x.methods[k], &n = y.methods[k];
      SCOPED_TRACE(to_string(m.method));
      EXPECT_EQ(m.method, n.method);
      EXPECT_EQ(m.ppl, n.ppl);
      EXPECT_EQ(m.delta_ppl, n.delta_ppl);
      EXPECT_EQ(m.kl, n.kl);
      EXPECT_EQ(m.quality_why, n.quality_why);
      EXPECT_EQ(m.self_calibrated, n.self_calibrated);
      ASSERT_EQ(m.layers.size(), n.layers.size());
      for (size_t l = 0; l < m.layers.size(); ++l) {
        const MethodLayer &p = m.layers[l], &q = n.layers[l];
        EXPECT_EQ(p.layer, q.layer);
        EXPECT_EQ(p.r, q.r);
        EXPECT_EQ(p.set, q.set);
        EXPECT_EQ(p.coverage, q.coverage);
        EXPECT_EQ(p.covered, q.covered);
        EXPECT_EQ(p.attn_err, q.attn_err);
        EXPECT_EQ(p.selection_ms, q.selection_ms);
        EXPECT_EQ(p.selection_macs, q.selection_macs);
        EXPECT_EQ(p.why, q.why);
      }
    }
  }
  ASSERT_EQ(a.has_activations(), b.has_activations());
  if (a.has_activations()) {
    // Stored as float16 and re-normalised on reading (the h5py test checks the stored bits).
    const at::Tensor xa = stack_normalized(*a.analyzer, at::kFloat), xb = stack_normalized(*b.analyzer, at::kFloat);
    EXPECT_LT((xa - xb).abs().max().item<float>(), 2e-3);
  }
}

TEST_F(SessionFileTest, EveryFieldRoundTrips) {
  const RunRecord s = testsession::analysed_session();
  ASSERT_TRUE(s.analysis.summary.total_adds + s.analysis.summary.total_removes > 0) << "the fixture should exercise the cascade";
  write_session(path("s.h5"), s, {s.has_activations()});
  EXPECT_TRUE(is_session_file(path("s.h5")));
  expect_same_session(s, read_session(path("s.h5")));
  // Written again from what was read: the same session again (nothing lost or invented on the way).
  write_session(path("again.h5"), read_session(path("s.h5")), {true});
  expect_same_session(s, read_session(path("again.h5")));
}

TEST_F(SessionFileTest, ComparisonsRoundTrip) {
  RunRecord s = testsession::analysed_session(4, 24, 8, false);
  s.comparisons.push_back(testsession::sample_comparison(s));
  Comparison second = testsession::sample_comparison(s, 0.1);
  second.budget = Budget{Budget::Kind::Count, 0, 5};
  second.ppl_exact.reset();
  second.notes.clear();
  second.methods.erase(second.methods.begin());  // another set of methods, in another order
  std::swap(second.methods[0], second.methods[1]);
  s.comparisons.push_back(second);
  write_session(path("s.h5"), s);
  const RunRecord back = read_session(path("s.h5"));
  expect_same_session(s, back);
  ASSERT_EQ(back.comparisons.size(), 2u);
  EXPECT_EQ(back.comparisons[0].budget.ratio, 1.0 / 3.0);  // every digit of the budget
  EXPECT_EQ(back.comparisons[1].methods[0].method, Method::TopTheta);
  write_session(path("again.h5"), back);
  expect_same_session(s, read_session(path("again.h5")));
}

TEST_F(SessionFileTest, VersionOneFilesStillOpen) {
  RunRecord s = testsession::analysed_session(3, 12, 8, false);
  s.comparisons.push_back(testsession::sample_comparison(s));
  s.text = "a text, as version 1 kept it in an attribute";
  write_session(path("v3.h5"), s);
  testsession::legacy_copy(path("v3.h5"), path("s.h5"), 1);  // variable-length strings, text an attribute
  {  // what a version-1 writer made: no /comparisons either
    const hid_t f = H5Fopen(path("s.h5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    EXPECT_GE(H5Ldelete(f, "/comparisons", H5P_DEFAULT), 0);
    H5Fclose(f);
  }
  const RunRecord back = read_session(path("s.h5"));
  EXPECT_TRUE(back.comparisons.empty());
  RunRecord without = s;
  without.comparisons.clear();
  expect_same_session(without, back);
}

// Version 2 (variable-length strings, the text an attribute) reads to the same record as the
// version-3 file it was made from, and saving it again writes version 3 without them.
TEST_F(SessionFileTest, VersionTwoFilesStillOpenAndSaveAsVersionThree) {
  RunRecord s = testsession::analysed_session(3, 12, 8, true);
  s.comparisons.push_back(testsession::sample_comparison(s));
  s.text = std::string(40000, 'x') + " a long text: more than an attribute holds";
  write_session(path("v3.h5"), s, {true});
  testsession::legacy_copy(path("v3.h5"), path("v2.h5"), 2);
  const RunRecord back = read_session(path("v2.h5"));
  expect_same_session(s, back);
  write_session(path("again.h5"), back, {true});
  const hid_t f = H5Fopen(path("again.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  int64_t v = 0;
  const hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
  H5Aread(a, H5T_NATIVE_INT64, &v);
  H5Aclose(a);
  EXPECT_EQ(v, kSessionFormatVersion);
  EXPECT_EQ(H5Aexists(f, "text"), 0) << "version 3 keeps the text in the dataset /text";
  // No variable-length string anywhere: every attribute and dataset of the file.
  struct Visit {
    int variable = 0, strings = 0;
  } seen;
  H5Ovisit(f, H5_INDEX_NAME, H5_ITER_NATIVE, [](hid_t loc, const char* name, const H5O_info_t*, void* p) -> herr_t {
    auto& v = *static_cast<Visit*>(p);
    const hid_t o = H5Oopen(loc, name, H5P_DEFAULT);
    if (H5Iget_type(o) == H5I_DATASET) {
      const hid_t t = H5Dget_type(o);
      if (H5Tget_class(t) == H5T_STRING) {
        ++v.strings;
        if (H5Tis_variable_str(t) > 0) ++v.variable;
      }
      H5Tclose(t);
    }
    H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_NATIVE, nullptr, [](hid_t obj, const char* attr, const H5A_info_t*, void* q) -> herr_t {
      auto& w = *static_cast<Visit*>(q);
      const hid_t a = H5Aopen(obj, attr, H5P_DEFAULT);
      const hid_t t = H5Aget_type(a);
      if (H5Tget_class(t) == H5T_STRING) {
        ++w.strings;
        if (H5Tis_variable_str(t) > 0) ++w.variable;
      }
      H5Tclose(t), H5Aclose(a);
      return 0;
    }, &v);
    H5Oclose(o);
    return 0;
  }, &seen);
  H5Fclose(f);
  EXPECT_GT(seen.strings, 20);
  EXPECT_EQ(seen.variable, 0);
}

TEST_F(SessionFileTest, UnwritableComparisonsAreRefusedBeforeWriting) {
  RunRecord s = testsession::analysed_session(3, 12, 8, false);
  s.comparisons.push_back(testsession::sample_comparison(s));
  s.comparisons[0].methods[0].layers[1].r += 1;  // the set no longer has r tokens
  EXPECT_THROW(write_session(path("s.h5"), s), UsageError);
  EXPECT_FALSE(std::filesystem::exists(path("s.h5")));
}

TEST_F(SessionFileTest, WithoutOptionalPartsRoundTrips) {
  RunRecord s = testsession::as_activation_session(testsession::analysed_session(3, 17, 8, false));
  s.sweep.clear();
  write_session(path("s.h5"), s, {s.has_activations()});
  const RunRecord back = read_session(path("s.h5"));
  expect_same_session(s, back);
  EXPECT_FALSE(back.has_activations());
}

TEST_F(SessionFileTest, ActivationsCanBeSkippedOnRead) {
  const RunRecord s = testsession::analysed_session();
  write_session(path("s.h5"), s, {s.has_activations()});
  const RunRecord header = read_session(path("s.h5"), SessionReadOptions{false});
  EXPECT_FALSE(header.has_activations());
  expect_same_analysis(s.analysis, header.analysis, "analysis");
}

TEST_F(SessionFileTest, AnalyzerFromSessionKeepsTheSavedScanAndReproducesTheAnalysis) {
  const RunRecord s = testsession::analysed_session(6, 64, 24);
  write_session(path("s.h5"), s, {s.has_activations()});
  const RunRecord back = read_session(path("s.h5"));
  ASSERT_TRUE(back.has_activations());
  const auto& analyzer = back.analyzer;
  ASSERT_EQ(analyzer->num_layers(), 6);
  for (int64_t l = 0; l < 6; ++l) {
    EXPECT_EQ(analyzer->prior_max(l).gamma, s.prior_max_of(l).gamma);  // stored, not re-scanned from fp16
    const auto norms = analyzer->normalized(l).norm(2, 1);
    EXPECT_LT((norms - 1).abs().max().item<float>(), 1e-5);
  }
  // Independent sets come from the stored γ, so they are exact at every τ; the cascade runs on the
  // float16 X̂ and matches the float32 original on this data (no pair within 1e-3 of θ).
  for (const SweepEntry& e : s.sweep) {
    const Analysis offline = analyzer->analyze(e.analysis.tau, Rule::PriorMax);
    for (int64_t l = 0; l < 6; ++l) {
      EXPECT_EQ(offline.layers[l].reps_ind, e.analysis.layers[l].reps_ind);
      EXPECT_EQ(offline.layers[l].reps_casc, e.analysis.layers[l].reps_casc) << "tau " << e.analysis.tau << " layer " << l;
    }
  }
  EXPECT_FALSE(read_session(path("s.h5"), SessionReadOptions{false}).has_activations());
}

TEST_F(SessionFileTest, WriteIsAtomicOnCancelAndOnFailure) {
  const RunRecord s = testsession::analysed_session();
  write_session(path("s.h5"), s, {s.has_activations()});
  const std::string before = read_bytes(path("s.h5"));
  std::atomic<bool> cancel{true};
  EXPECT_THROW(write_session(path("s.h5"), testsession::analysed_session(4, 30, 8), {true}, JobControl{nullptr, &cancel}), Cancelled);
  EXPECT_EQ(read_bytes(path("s.h5")), before) << "a cancelled save replaced the old session";
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) {
    ++files;
    EXPECT_EQ(e.path().filename(), "s.h5");
  }
  EXPECT_EQ(files, 1) << "a temporary file was left behind";
  EXPECT_THROW(write_session(path("no/such/folder/s.h5"), s), Error);
  RunRecord broken = s;
  broken.tokens.pop_back();
  EXPECT_THROW(write_session(path("s.h5"), broken), UsageError);
  EXPECT_EQ(read_bytes(path("s.h5")), before);
}

// ---- damaged and foreign files ----

std::string read_error(const std::string& file) {
  try {
    read_session(file);
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("not an InputError: ") + e.what();
  }
  return "no error";
}

void expect_read_error(const std::string& file, const std::string& phrase) {
  const std::string message = read_error(file);
  EXPECT_TRUE(contains(message, file)) << message;
  EXPECT_TRUE(contains(message, phrase)) << "expected '" << phrase << "' in: " << message;
}

// Opens a written session read-write for the test to damage.
struct Mutable {
  explicit Mutable(const std::string& p) : file(H5Fopen(p.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)) { EXPECT_GE(file, 0); }
  ~Mutable() { H5Fclose(file); }
  void set_int_attr(const char* obj, const char* name, int64_t v) const {
    // The object opened first: HDF5 1.10's H5Awrite fails ("can't locate open attribute") on an
    // attribute opened by name on a group that is not otherwise open.
    const hid_t o = H5Oopen(file, obj, H5P_DEFAULT);
    ASSERT_GE(o, 0);
    const hid_t a = H5Aopen(o, name, H5P_DEFAULT);
    ASSERT_GE(a, 0);
    EXPECT_GE(H5Awrite(a, H5T_NATIVE_INT64, &v), 0);
    H5Aclose(a);
    H5Oclose(o);
  }
  void remove(const char* name) const { EXPECT_GE(H5Ldelete(file, name, H5P_DEFAULT), 0); }
  template <class T>
  void replace(const char* name, hid_t type, std::vector<hsize_t> dims, const std::vector<T>& values) const {
    remove(name);
    const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    const hid_t d = H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT_GE(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0);
    H5Dclose(d);
    H5Sclose(space);
  }
  hid_t file;
};

class SessionErrorTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    s_ = testsession::analysed_session(4, 20, 8);
    file_ = path("s.h5");
    write_session(file_, s_, {true});
  }
  RunRecord s_;
  std::string file_;
};

TEST_F(SessionErrorTest, NotHdf5AndMissingFile) {
  write_bytes(path("text.h5"), "this is not HDF5\n");
  expect_read_error(path("text.h5"), "not an HDF5 file");
  expect_read_error(path("none.h5"), "no such file");
  EXPECT_FALSE(is_session_file(path("text.h5")));
  EXPECT_FALSE(is_session_file(path("none.h5")));
}

TEST_F(SessionErrorTest, TruncatedAtAnyLength) {
  const std::string bytes = read_bytes(file_);
  for (double frac : {0.1, 0.5, 0.9, 0.99}) {
    const std::string cut = path("cut.h5");
    write_bytes(cut, bytes.substr(0, static_cast<size_t>(static_cast<double>(bytes.size()) * frac)));
    const std::string message = read_error(cut);
    EXPECT_TRUE(contains(message, cut)) << frac << ": " << message;
    EXPECT_FALSE(contains(message, "not an InputError")) << frac << ": " << message;
    EXPECT_FALSE(contains(message, "no error")) << frac;
  }
}

TEST_F(SessionErrorTest, NewerVersionIsRefusedPolitely) {
  Mutable(file_).set_int_attr("/", "format_version", kSessionFormatVersion + 1);
  expect_read_error(file_, "newer Cascade Lens (session format version " + std::to_string(kSessionFormatVersion + 1));
  expect_read_error(file_, "update Cascade Lens");
  EXPECT_TRUE(is_session_file(file_));
}

TEST_F(SessionErrorTest, UnknownVersionAndForeignHdf5) {
  Mutable(file_).set_int_attr("/", "format_version", 0);
  expect_read_error(file_, "unknown session format version 0");
  write_hdf5_activations(path("acts.h5"), at::ones({2, 3, 4}));
  expect_read_error(path("acts.h5"), "not a Cascade Lens session");
  EXPECT_FALSE(is_session_file(path("acts.h5")));
}

TEST_F(SessionErrorTest, MissingDatasetIsNamed) {
  Mutable(file_).remove("/analysis/reps_casc");
  expect_read_error(file_, "no dataset /analysis/reps_casc");
}

TEST_F(SessionErrorTest, MissingGroupIsNamed) {
  Mutable(file_).remove("/prior_max");
  expect_read_error(file_, "no dataset /prior_max/gamma");
}

TEST_F(SessionErrorTest, WrongShapeIsNamed) {
  Mutable(file_).replace<float>("/prior_max/gamma", H5T_NATIVE_FLOAT, {4, 19}, std::vector<float>(4 * 19, 0.5f));
  expect_read_error(file_, "/prior_max/gamma has shape [4, 19], expected [4, 20] (L, T)");
}

TEST_F(SessionErrorTest, WrongTypeIsNamed) {
  Mutable(file_).replace<float>("/analysis/r_ind", H5T_NATIVE_FLOAT, {4}, std::vector<float>(4, 1.f));
  expect_read_error(file_, "/analysis/r_ind does not hold integers");
}

TEST_F(SessionErrorTest, InconsistentCountsAreCaught) {
  std::vector<int64_t> r;
  for (const auto& m : s_.analysis.layers) r.push_back(m.r_ind);
  r[2] += 1;
  Mutable(file_).replace<int64_t>("/analysis/r_ind", H5T_NATIVE_INT64, {4}, r);
  expect_read_error(file_, "/analysis/r_ind[2]");
  expect_read_error(file_, "inconsistent");
}

TEST_F(SessionErrorTest, SetsThatContradictTheCascadeAreCaught) {
  std::vector<uint8_t> casc(4 * 20, 0);
  for (int64_t l = 0; l < 4; ++l)
    for (int64_t t : s_.analysis.layers[l].reps_casc) casc[l * 20 + t] = 1;
  casc[3 * 20 + 19] ^= 1;  // flip one token of the last layer's cascade set
  Mutable(file_).replace<uint8_t>("/analysis/reps_casc", H5T_NATIVE_UINT8, {4, 20}, casc);
  expect_read_error(file_, "reps_casc is not (inherited - removed) + added");
}

TEST_F(SessionErrorTest, MaskValuesAndPartnersOutOfRange) {
  {
    std::vector<uint8_t> ind(4 * 20, 0);
    ind[5] = 2;
    Mutable(file_).replace<uint8_t>("/analysis/reps_ind", H5T_NATIVE_UINT8, {4, 20}, ind);
    expect_read_error(file_, "/analysis/reps_ind holds 2");
  }
  write_session(file_, s_, {true});
  std::vector<int64_t> partner;
  for (int64_t l = 0; l < s_.num_layers(); ++l)
    partner.insert(partner.end(), s_.prior_max_of(l).partner.begin(), s_.prior_max_of(l).partner.end());
  partner[20 + 7] = 7;  // a partner must be an earlier token
  Mutable(file_).replace<int64_t>("/prior_max/partner", H5T_NATIVE_INT64, {4, 20}, partner);
  expect_read_error(file_, "/prior_max/partner holds 7 for token 7");
}

TEST_F(SessionErrorTest, TokenIdsOutsideTheVocabulary) {
  std::vector<int64_t> ids = s_.ids;
  ids[0] = 1000;  // vocab_size is 1000
  Mutable(file_).replace<int64_t>("/tokens/ids", H5T_NATIVE_INT64, {20}, ids);
  expect_read_error(file_, "/tokens/ids holds 1000");
}

TEST_F(SessionErrorTest, HugeDeclaredShapeIsRefusedBeforeAllocating) {
  // A chunked dataset can declare any extent without storing it.
  Mutable m(file_);
  m.remove("/prior_max/gamma");
  const hsize_t dims[2] = {4, hsize_t{1} << 40}, chunk[2] = {1, 1024};
  const hid_t space = H5Screate_simple(2, dims, nullptr);
  const hid_t plist = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(plist, 2, chunk);
  const hid_t d = H5Dcreate2(m.file, "/prior_max/gamma", H5T_NATIVE_FLOAT, space, H5P_DEFAULT, plist, H5P_DEFAULT);
  ASSERT_GE(d, 0);
  H5Dclose(d), H5Pclose(plist), H5Sclose(space);
  H5Fflush(m.file, H5F_SCOPE_GLOBAL);
  expect_read_error(file_, "/prior_max/gamma has shape [4, 1099511627776], expected [4, 20]");
}

class ComparisonErrorTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    s_ = testsession::analysed_session(3, 12, 8, false);
    s_.comparisons.push_back(testsession::sample_comparison(s_));
    file_ = path("s.h5");
    write_session(file_, s_);
  }
  void replace_strings(const char* name, const std::vector<std::string>& values) const {
    Mutable m(file_);
    m.remove(name);
    size_t width = 1;  // format version 3: fixed-length, NUL-padded
    for (const auto& v : values) width = std::max(width, v.size());
    std::string packed(values.size() * width, '\0');
    for (size_t i = 0; i < values.size(); ++i) packed.replace(i * width, values[i].size(), values[i]);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, width);
    H5Tset_strpad(type, H5T_STR_NULLPAD);
    const hsize_t n = values.size();
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t d = H5Dcreate2(m.file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT_GE(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, packed.data()), 0);
    H5Dclose(d), H5Sclose(space), H5Tclose(type);
  }
  std::vector<int64_t> cascade_sets() const {
    std::vector<int64_t> v;
    for (const auto& l : s_.comparisons[0].methods[0].layers) v.insert(v.end(), l.set->begin(), l.set->end());
    return v;
  }
  RunRecord s_;
  std::string file_;
};

TEST_F(ComparisonErrorTest, UnknownOrRepeatedMethodIsNamed) {
  replace_strings("/comparisons/0/methods", {"cascade", "bogus"});
  expect_read_error(file_, "/comparisons/0/methods names an unknown method 'bogus'");
  replace_strings("/comparisons/0/methods", {"cascade", "cascade"});
  expect_read_error(file_, "/comparisons/0/methods lists 'cascade' twice");
  replace_strings("/comparisons/0/methods", {"cascade", "h2o"});
  expect_read_error(file_, "no group /comparisons/0/h2o");
}

TEST_F(ComparisonErrorTest, SetsAreChecked) {
  std::vector<int64_t> v = cascade_sets();
  ASSERT_GE(v.size(), 3u);
  std::swap(v[1], v[2]);  // not ascending
  Mutable(file_).replace<int64_t>("/comparisons/0/cascade/sets", H5T_NATIVE_INT64, {v.size()}, v);
  expect_read_error(file_, "/comparisons/0/cascade/sets: the set of row ");
  v = cascade_sets();
  v.back() = 12;  // outside [0, T)
  Mutable(file_).replace<int64_t>("/comparisons/0/cascade/sets", H5T_NATIVE_INT64, {v.size()}, v);
  expect_read_error(file_, "is not ascending tokens in [0, 12)");
  v = cascade_sets();
  v.pop_back();  // the last set is one token short of r
  Mutable(file_).replace<int64_t>("/comparisons/0/cascade/sets", H5T_NATIVE_INT64, {v.size()}, v);
  expect_read_error(file_, "/comparisons/0/cascade/sets is too short for r");
  v = cascade_sets();
  v.push_back(5);  // a token no set owns
  Mutable(file_).replace<int64_t>("/comparisons/0/cascade/sets", H5T_NATIVE_INT64, {v.size()}, v);
  expect_read_error(file_, "/comparisons/0/cascade/sets holds");
}

TEST_F(ComparisonErrorTest, OffsetsShapesTypesAndAttributesAreChecked) {
  Mutable(file_).replace<int64_t>("/comparisons/0/random/set_offsets", H5T_NATIVE_INT64, {3}, {0, -1, 7});
  expect_read_error(file_, "/comparisons/0/random/set_offsets[2] is 7, expected 2 or -1");
  Mutable(file_).replace<int64_t>("/comparisons/0/random/set_offsets", H5T_NATIVE_INT64, {2}, {0, -1});
  expect_read_error(file_, "/comparisons/0/random/set_offsets has shape [2], expected [3] (L)");
  write_session(file_, s_);
  Mutable(file_).replace<int64_t>("/comparisons/0/random/coverage", H5T_NATIVE_INT64, {3}, {1, 1, 1});
  expect_read_error(file_, "/comparisons/0/random/coverage does not hold floating-point numbers");
}

TEST_F(ComparisonErrorTest, LayersAndNumbersAreChecked) {
  Mutable(file_).replace<int64_t>("/comparisons/0/cascade/layer", H5T_NATIVE_INT64, {3}, {0, 1, 7});
  expect_read_error(file_, "/comparisons/0/cascade/layer differs from /analysis/layer");
}

TEST_F(ComparisonErrorTest, NegativeNumbersAndAttributes) {
  Mutable(file_).replace<int64_t>("/comparisons/0/top-theta/selection_macs", H5T_NATIVE_INT64, {3}, {-1, -2, -1});
  expect_read_error(file_, "/comparisons/0/top-theta/selection_macs[1] is -2 (>= 0, or -1 for no value)");
}

TEST_F(ComparisonErrorTest, GroupAttributesAreChecked) {
  Mutable(file_).set_int_attr("/comparisons/0", "T", 11);
  expect_read_error(file_, "/comparisons/0 attribute 'T' is 11 but /tokens/strings has 12 tokens");
}

TEST_F(ComparisonErrorTest, MissingComparisonIsNamed) {
  Mutable(file_).set_int_attr("/comparisons", "count", 2);
  expect_read_error(file_, "no group /comparisons/1");
  Mutable(file_).remove("/comparisons/0/cascade/why");
  Mutable(file_).set_int_attr("/comparisons", "count", 1);
  expect_read_error(file_, "no dataset /comparisons/0/cascade/why");
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_F(SessionFileTest, LargeSessionWithoutActivationsStaysUnder50MB) {
  // The size target: L = 32, T = 8192, without activations, with a 12-point sweep.
  const RunRecord s = testsession::random_session(32, 8192, 4096, 12);
  write_session(path("big.h5"), s);
  const auto bytes = fs::file_size(path("big.h5"));
  EXPECT_LT(bytes, 50u << 20) << bytes << " bytes";
  const RunRecord back = read_session(path("big.h5"));
  EXPECT_EQ(back.num_tokens(), 8192);
  expect_same_analysis(s.sweep.back().analysis, back.sweep.back().analysis, "last sweep point");
}

}  // namespace
}  // namespace cascade::data::testing
