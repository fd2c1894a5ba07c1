// .npy files, folders of .npy, format dispatch, token lists and our writers.
#include "data/formats/activation_io.h"

#include <random>

#include "data/formats/npy.h"
#include "file_builders.h"

namespace cascade::data::testing {
namespace {

using NpyTest = TempDirTest;
using FolderTest = TempDirTest;
using DispatchTest = TempDirTest;
using TokensTest = TempDirTest;
using WriterTest = TempDirTest;

// ---- .npy: every supported layout, checked value by value ----

TEST_F(NpyTest, Float32CLayout) {
  const auto values = sample_values(2 * 3 * 4);
  write_bytes(path("a.npy"), npy_bytes(npy_dict("<f4", "(2, 3, 4)"), raw(values)));
  const ActivationSet acts = load_activations(path("a.npy"));
  EXPECT_EQ(acts.hidden.scalar_type(), at::kFloat);
  expect_values(acts.hidden, values, {2, 3, 4});
  EXPECT_EQ(acts.source, path("a.npy"));
  EXPECT_EQ(acts.layer_ids, (std::vector<int64_t>{0, 1}));
  EXPECT_TRUE(acts.tokens.empty());
}

TEST_F(NpyTest, Float16StaysHalf) {
  const auto values = sample_values(3 * 5 * 2);
  write_bytes(path("a.npy"), npy_bytes(npy_dict("<f2", "(3, 5, 2)"), half_raw(values, false)));
  const ActivationSet acts = load_activations(path("a.npy"));
  EXPECT_EQ(acts.hidden.scalar_type(), at::kHalf);
  expect_values(acts.hidden, values, {3, 5, 2});
}

TEST_F(NpyTest, Float64BecomesFloat32) {
  std::vector<double> values(2 * 2 * 3);
  std::vector<float> want;
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = 0.1 * static_cast<double>(i) - 0.55;  // not exact in float32: checks the rounding
    want.push_back(static_cast<float>(values[i]));
  }
  write_bytes(path("a.npy"), npy_bytes(npy_dict("<f8", "(2, 2, 3)"), raw(values)));
  const ActivationSet acts = load_activations(path("a.npy"));
  EXPECT_EQ(acts.hidden.scalar_type(), at::kFloat);
  expect_values(acts.hidden, want, {2, 2, 3});
}

TEST_F(NpyTest, BigEndianFloat32) {
  const auto values = sample_values(2 * 3 * 2);
  write_bytes(path("a.npy"), npy_bytes(npy_dict(">f4", "(2, 3, 2)"), big_endian_raw(values)));
  expect_values(load_activations(path("a.npy")).hidden, values, {2, 3, 2});
}

TEST_F(NpyTest, FortranOrder) {
  // Element (i, j, k) of a Fortran-ordered (2, 3, 4) array sits at i + 2 j + 6 k.
  const auto logical = sample_values(2 * 3 * 4);  // C order: (i, j, k) at 12 i + 4 j + k
  std::vector<float> column_major(logical.size());
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) column_major[i + 2 * j + 6 * k] = logical[12 * i + 4 * j + k];
  write_bytes(path("f.npy"), npy_bytes(npy_dict("<f4", "(2, 3, 4)", true), raw(column_major)));
  expect_values(load_activations(path("f.npy")).hidden, logical, {2, 3, 4});
}

TEST_F(NpyTest, FormatVersions2And3) {
  const auto values = sample_values(1 * 4 * 3);
  for (int major : {2, 3}) {
    write_bytes(path("v.npy"), npy_bytes(npy_dict("<f4", "(1, 4, 3)"), raw(values), major));
    expect_values(load_activations(path("v.npy")).hidden, values, {1, 4, 3});
  }
}

TEST_F(NpyTest, HeaderSpellings) {
  // Reordered keys, double quotes, no trailing comma, odd spacing, '=' byte order, Python 2 longs.
  const auto values = sample_values(2 * 2 * 2);
  for (const std::string dict : {"{\"shape\": (2, 2, 2), \"fortran_order\": False, \"descr\": \"<f4\"}",
                                 "{ 'descr' :'=f4','fortran_order':False,'shape':( 2,2 , 2 ) }",
                                 "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 2L, 2L), }"}) {
    write_bytes(path("h.npy"), npy_bytes(dict, raw(values)));
    expect_values(load_activations(path("h.npy")).hidden, values, {2, 2, 2});
  }
}

TEST_F(NpyTest, ReadNpyKeepsAnyRank) {
  const auto values = sample_values(5);
  write_bytes(path("v.npy"), npy_bytes(npy_dict("<f4", "(5,)"), raw(values)));
  expect_values(read_npy(path("v.npy")), values, {5});
  write_bytes(path("s.npy"), npy_bytes(npy_dict("<f4", "()"), raw(std::vector<float>{2.5f})));
  expect_values(read_npy(path("s.npy")), {2.5f}, {});
}

TEST_F(NpyTest, UppercaseExtension) {
  const auto values = sample_values(2 * 2 * 2);
  write_bytes(path("A.NPY"), npy_bytes(npy_dict("<f4", "(2, 2, 2)"), raw(values)));
  expect_values(load_activations(path("A.NPY")).hidden, values, {2, 2, 2});
}

// ---- .npy: malformed files, each an InputError naming the file and the problem ----

void expect_npy_error(const std::string& file, const std::string& bytes, const std::string& phrase) {
  write_bytes(file, bytes);
  const std::string message = input_error([&] { load_activations(file); });
  EXPECT_TRUE(contains(message, file)) << message;
  EXPECT_TRUE(contains(message, phrase)) << "expected '" << phrase << "' in: " << message;
}

TEST_F(NpyTest, WrongRank) {
  expect_npy_error(path("r.npy"), npy_bytes(npy_dict("<f4", "(3, 4)"), raw(sample_values(12))), "rank 2");
}

TEST_F(NpyTest, IntegerDtype) {
  expect_npy_error(path("i.npy"), npy_bytes(npy_dict("<i4", "(2, 2, 2)"), raw(std::vector<int32_t>(8, 1))), "'<i4'");
}

TEST_F(NpyTest, Bfloat16VoidDtype) {
  expect_npy_error(path("b.npy"), npy_bytes(npy_dict("<V2", "(2, 2, 2)"), std::string(16, '\0')), "bfloat16");
}

TEST_F(NpyTest, StructuredDtype) {
  const std::string dict = "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }";
  expect_npy_error(path("s.npy"), npy_bytes(dict, std::string(8, '\0')), "structured dtype");
}

TEST_F(NpyTest, TruncatedData) {
  const std::string full = npy_bytes(npy_dict("<f4", "(2, 3, 4)"), raw(sample_values(24)));
  expect_npy_error(path("t.npy"), full.substr(0, full.size() - 10), "truncated");
}

TEST_F(NpyTest, HeaderLiesAboutShape) {
  // The header claims 24 floats; the file holds 30.
  expect_npy_error(path("l.npy"), npy_bytes(npy_dict("<f4", "(2, 3, 4)"), raw(sample_values(30))),
                   "header says [2, 3, 4] <f4 = 96 bytes but the file holds 120");
}

TEST_F(NpyTest, HeaderLengthBeyondFile) {
  std::string bytes = npy_bytes(npy_dict("<f4", "(2, 2, 2)"), raw(sample_values(8)));
  bytes.replace(8, 2, little_endian(60000, 2));
  expect_npy_error(path("h.npy"), bytes, "header length 60000 runs past the end of the file");
}

TEST_F(NpyTest, ImpossiblyLargeShape) {
  expect_npy_error(path("x.npy"),
                   npy_bytes(npy_dict("<f4", "(4294967296, 4294967296, 4294967296)"), raw(sample_values(8))),
                   "impossibly large");
}

TEST_F(NpyTest, NaN) {
  auto values = sample_values(2 * 3 * 4);
  values[1 * 12 + 2 * 4 + 3] = std::nanf("");
  expect_npy_error(path("n.npy"), npy_bytes(npy_dict("<f4", "(2, 3, 4)"), raw(values)), "layer 1 token 2 contains a NaN");
}

TEST_F(NpyTest, Infinity) {
  auto values = sample_values(2 * 3 * 4);
  values[5] = -INFINITY;
  expect_npy_error(path("i.npy"), npy_bytes(npy_dict("<f4", "(2, 3, 4)"), raw(values)), "infinite");
}

TEST_F(NpyTest, Float64OverflowIsInfinite) {
  std::vector<double> values(8, 1.0);
  values[3] = 1e300;  // finite in float64, infinite once converted to float32
  expect_npy_error(path("o.npy"), npy_bytes(npy_dict("<f8", "(2, 2, 2)"), raw(values)), "infinite");
}

TEST_F(NpyTest, NoLayers) {
  expect_npy_error(path("l0.npy"), npy_bytes(npy_dict("<f4", "(0, 4, 8)"), ""), "L = 0");
}

TEST_F(NpyTest, NoTokens) {
  expect_npy_error(path("t0.npy"), npy_bytes(npy_dict("<f4", "(2, 0, 8)"), ""), "T = 0");
}

TEST_F(NpyTest, GarbageBytes) {
  expect_npy_error(path("g.npy"), "this is not a numpy file at all, just text\n", "not an .npy file");
  expect_npy_error(path("e.npy"), "", "not an .npy file");
}

TEST_F(NpyTest, MalformedDict) {
  for (const std::string dict : {"{'descr': '<f4', 'fortran_order': False}",          // no shape
                                 "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 2)",  // no '}'
                                 "{'descr': '<f4, 'fortran_order': False, 'shape': (2, 2, 2)}",
                                 "{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 2, 2)}",
                                 "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -2, 2)}",
                                 "not a dict"})
    expect_npy_error(path("m.npy"), npy_bytes(dict, raw(sample_values(8))), "malformed .npy header");
}

TEST_F(NpyTest, UnsupportedVersion) {
  std::string bytes = npy_bytes(npy_dict("<f4", "(2, 2, 2)"), raw(sample_values(8)));
  bytes[6] = 9;
  expect_npy_error(path("v.npy"), bytes, "version 9.0");
}

// Cutting a valid file anywhere, or flipping any header byte, gives an InputError or a valid load,
// never a crash or another exception.
TEST_F(NpyTest, EveryTruncationAndCorruptionIsAnInputError) {
  const std::string full = npy_bytes(npy_dict("<f4", "(2, 3, 4)"), raw(sample_values(24)));
  for (size_t cut = 0; cut < full.size(); ++cut) {
    write_bytes(path("c.npy"), full.substr(0, cut));
    const std::string message = input_error([&] { load_activations(path("c.npy")); });
    ASSERT_TRUE(contains(message, path("c.npy"))) << "cut at " << cut << ": " << message;
  }
  std::mt19937 rng(7);
  for (int trial = 0; trial < 400; ++trial) {
    std::string bytes = full;
    const size_t at = rng() % 80;  // magic, length and dict
    bytes[at] = static_cast<char>(rng() % 256);
    write_bytes(path("c.npy"), bytes);
    try {
      load_activations(path("c.npy"));
    } catch (const InputError&) {
    } catch (const std::exception& e) {
      FAIL() << "byte " << at << ": " << e.what();
    }
  }
}

// ---- folders of per-layer .npy ----

TEST_F(FolderTest, NaturalNumericOrderAndTokens) {
  // layer_10 must come after layer_2 (a plain string sort would put it after layer_1).
  const int L = 11, T = 3, d = 2;
  fs::create_directories(dir_ / "acts");
  std::vector<float> want;
  for (int l = 0; l < L; ++l) {
    const auto values = sample_values(T * d, static_cast<float>(16 * l));
    want.insert(want.end(), values.begin(), values.end());
    const std::string shape = l % 2 ? "(1, 3, 2)" : "(3, 2)";  // both per-layer shapes are accepted
    write_bytes(path("acts/layer_" + std::to_string(l) + ".npy"), npy_bytes(npy_dict("<f4", shape), raw(values)));
  }
  write_bytes(path("acts/notes.txt"), "ignored");
  write_bytes(path("acts/tokens.json"), R"(["The", " cat", " sat"])");
  const ActivationSet acts = load_activations(path("acts"));
  expect_values(acts.hidden, want, {L, T, d});
  EXPECT_EQ(acts.tokens, (std::vector<std::string>{"The", " cat", " sat"}));
  EXPECT_EQ(acts.source, path("acts"));
}

TEST_F(FolderTest, HalfLayersStayHalfAndDoubleBecomesFloat) {
  fs::create_directories(dir_ / "h");
  fs::create_directories(dir_ / "d");
  const auto a = sample_values(4), b = sample_values(4, 1.0f);
  write_bytes(path("h/l0.npy"), npy_bytes(npy_dict("<f2", "(2, 2)"), half_raw(a, false)));
  write_bytes(path("h/l1.npy"), npy_bytes(npy_dict("<f2", "(2, 2)"), half_raw(b, false)));
  const ActivationSet half = load_activations(path("h"));
  EXPECT_EQ(half.hidden.scalar_type(), at::kHalf);
  std::vector<float> want = a;
  want.insert(want.end(), b.begin(), b.end());
  expect_values(half.hidden, want, {2, 2, 2});

  write_bytes(path("d/l0.npy"), npy_bytes(npy_dict("<f8", "(2, 2)"), raw(std::vector<double>(a.begin(), a.end()))));
  write_bytes(path("d/l1.npy"), npy_bytes(npy_dict("<f8", "(2, 2)"), raw(std::vector<double>(b.begin(), b.end()))));
  const ActivationSet dbl = load_activations(path("d"));
  EXPECT_EQ(dbl.hidden.scalar_type(), at::kFloat);
  expect_values(dbl.hidden, want, {2, 2, 2});
}

TEST_F(FolderTest, MismatchedShapeNamesTheFile) {
  fs::create_directories(dir_ / "m");
  write_bytes(path("m/layer_0.npy"), npy_bytes(npy_dict("<f4", "(3, 2)"), raw(sample_values(6))));
  write_bytes(path("m/layer_1.npy"), npy_bytes(npy_dict("<f4", "(2, 3)"), raw(sample_values(6))));
  const std::string message = input_error([&] { load_activations(path("m")); });
  EXPECT_TRUE(contains(message, path("m/layer_1.npy"))) << message;
  EXPECT_TRUE(contains(message, "differs from [3, 2]")) << message;
}

TEST_F(FolderTest, MismatchedDtype) {
  fs::create_directories(dir_ / "m");
  write_bytes(path("m/layer_0.npy"), npy_bytes(npy_dict("<f4", "(2, 2)"), raw(sample_values(4))));
  write_bytes(path("m/layer_1.npy"), npy_bytes(npy_dict("<f2", "(2, 2)"), half_raw(sample_values(4), false)));
  const std::string message = input_error([&] { load_activations(path("m")); });
  EXPECT_TRUE(contains(message, path("m/layer_1.npy"))) << message;
  EXPECT_TRUE(contains(message, "Half")) << message;
}

TEST_F(FolderTest, WrongLayerRank) {
  fs::create_directories(dir_ / "r");
  write_bytes(path("r/layer_0.npy"), npy_bytes(npy_dict("<f4", "(2, 2, 2)"), raw(sample_values(8))));
  const std::string message = input_error([&] { load_activations(path("r")); });
  EXPECT_TRUE(contains(message, path("r/layer_0.npy"))) << message;
  EXPECT_TRUE(contains(message, "expected [T, d] or [1, T, d]")) << message;
}

TEST_F(FolderTest, NoNpyFiles) {
  fs::create_directories(dir_ / "empty");
  write_bytes(path("empty/readme.txt"), "nothing here");
  const std::string message = input_error([&] { load_activations(path("empty")); });
  EXPECT_TRUE(contains(message, path("empty"))) << message;
  EXPECT_TRUE(contains(message, "no .npy files")) << message;
}

TEST_F(FolderTest, BadLayerFileNamesItself) {
  fs::create_directories(dir_ / "b");
  write_bytes(path("b/layer_0.npy"), npy_bytes(npy_dict("<f4", "(2, 2)"), raw(sample_values(4))));
  write_bytes(path("b/layer_1.npy"), "garbage");
  const std::string message = input_error([&] { load_activations(path("b")); });
  EXPECT_TRUE(contains(message, path("b/layer_1.npy"))) << message;
  EXPECT_TRUE(contains(message, "not an .npy file")) << message;
}

// ---- dispatch: missing paths, unknown extensions ----

TEST_F(DispatchTest, MissingPath) {
  const std::string message = input_error([&] { load_activations(path("nope.npy")); });
  EXPECT_TRUE(contains(message, path("nope.npy"))) << message;
  EXPECT_TRUE(contains(message, "no such file")) << message;
}

TEST_F(DispatchTest, SniffsNpyAndSafetensorsWithoutExtension) {
  const auto values = sample_values(2 * 3 * 2);
  write_bytes(path("acts.bin"), npy_bytes(npy_dict("<f4", "(2, 3, 2)"), raw(values)));
  expect_values(load_activations(path("acts.bin")).hidden, values, {2, 3, 2});
  write_bytes(path("acts"), safetensors_bytes({{"hidden_states.0", "F32", "[3, 4]", raw(values)}}));
  expect_values(load_activations(path("acts")).hidden, values, {1, 3, 4});
}

TEST_F(DispatchTest, SniffedSafetensorsReportsItsOwnProblem) {
  // A JSON header after the length is safetensors: its errors are not hidden as "unrecognised".
  write_bytes(path("acts"), safetensors_bytes({{"hidden_states.0", "F32", "[3, 3]", raw(sample_values(12))}}));
  const std::string message = input_error([&] { load_activations(path("acts")); });
  EXPECT_TRUE(contains(message, "hold 48 bytes but shape [3, 3] F32 needs 36")) << message;
}

TEST_F(DispatchTest, UnrecognisedFormat) {
  for (const std::string& bytes : {std::string("PK\3\4 a zip, not supported"), std::string("[1, 2, 3]"), std::string()}) {
    write_bytes(path("acts.dat"), bytes);
    const std::string message = input_error([&] { load_activations(path("acts.dat")); });
    EXPECT_TRUE(contains(message, path("acts.dat"))) << message;
    EXPECT_TRUE(contains(message, "unrecognised format (expected .npy, .safetensors, .h5 or a folder of .npy)"))
        << message;
  }
}

// ---- token lists ----

TEST_F(TokensTest, TokensJsonBesideTheFile) {
  write_bytes(path("a.npy"), npy_bytes(npy_dict("<f4", "(2, 3, 2)"), raw(sample_values(12))));
  write_bytes(path("tokens.json"), "[\"caf\\u00e9\", \" \\\"quoted\\\"\", \"\xe2\x96\x81x\"]");
  EXPECT_EQ(load_activations(path("a.npy")).tokens,
            (std::vector<std::string>{"caf\xc3\xa9", " \"quoted\"", "\xe2\x96\x81x"}));
}

TEST_F(TokensTest, ExplicitTokensPathWins) {
  write_bytes(path("a.npy"), npy_bytes(npy_dict("<f4", "(1, 2, 2)"), raw(sample_values(4))));
  write_bytes(path("tokens.json"), "[\"wrong\"]");  // would fail the count check if used
  write_bytes(path("mine.json"), "[\"a\", \"b\"]");
  EXPECT_EQ(load_activations(path("a.npy"), path("mine.json")).tokens, (std::vector<std::string>{"a", "b"}));
}

TEST_F(TokensTest, WrongCount) {
  write_bytes(path("a.npy"), npy_bytes(npy_dict("<f4", "(2, 3, 2)"), raw(sample_values(12))));
  write_bytes(path("tokens.json"), "[\"a\", \"b\"]");
  const std::string message = input_error([&] { load_activations(path("a.npy")); });
  EXPECT_TRUE(contains(message, path("tokens.json"))) << message;
  EXPECT_TRUE(contains(message, "2 token strings but " + path("a.npy") + " has 3 tokens")) << message;
}

TEST_F(TokensTest, NotAListOfStrings) {
  write_bytes(path("a.npy"), npy_bytes(npy_dict("<f4", "(2, 2, 2)"), raw(sample_values(8))));
  const std::pair<std::string, std::string> cases[] = {
      {"{\"tokens\": [\"a\", \"b\"]}", "expected a JSON list of token strings, got a JSON object"},
      {"[\"a\", 7]", "entry 1 of the token list is a number"},
      {"[\"a\", \"b\"", "not valid JSON"},
  };
  for (const auto& [text, phrase] : cases) {
    write_bytes(path("tokens.json"), text);
    const std::string message = input_error([&] { load_activations(path("a.npy")); });
    EXPECT_TRUE(contains(message, path("tokens.json"))) << message;
    EXPECT_TRUE(contains(message, phrase)) << message;
  }
}

TEST_F(TokensTest, MissingExplicitTokens) {
  write_bytes(path("a.npy"), npy_bytes(npy_dict("<f4", "(2, 2, 2)"), raw(sample_values(8))));
  const std::string message = input_error([&] { load_activations(path("a.npy"), path("none.json")); });
  EXPECT_TRUE(contains(message, path("none.json"))) << message;
  EXPECT_TRUE(contains(message, "no such file")) << message;
}

// ---- our writers, read back by our readers and checked byte by byte where the format is fixed ----

TEST_F(WriterTest, NpyRoundTripFloat32AndFloat16) {
  const at::Tensor hidden = at::tensor(sample_values(2 * 3 * 4)).reshape({2, 3, 4});
  write_npy(path("a.npy"), hidden);
  EXPECT_TRUE(at::equal(load_activations(path("a.npy")).hidden, hidden));
  const std::string bytes = read_bytes(path("a.npy"));
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_EQ(bytes.size(), 128u + 24 * 4);  // magic + header padded to a multiple of 64, then the data
  EXPECT_EQ(bytes[127], '\n');
  EXPECT_TRUE(contains(bytes, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }")) << bytes;

  write_npy(path("h.npy"), hidden.to(at::kHalf));
  const ActivationSet half = load_activations(path("h.npy"));
  EXPECT_EQ(half.hidden.scalar_type(), at::kHalf);
  EXPECT_TRUE(at::equal(half.hidden, hidden.to(at::kHalf)));

  write_npy(path("v.npy"), at::tensor(sample_values(5)));
  EXPECT_TRUE(contains(read_bytes(path("v.npy")), "'shape': (5,)"));
  EXPECT_THROW(write_npy(path("b.npy"), hidden.to(at::kBFloat16)), UsageError);
}

TEST_F(WriterTest, NpyNonContiguousInput) {
  const at::Tensor hidden = at::tensor(sample_values(2 * 3 * 4)).reshape({4, 3, 2}).permute({2, 1, 0});
  write_npy(path("p.npy"), hidden);
  EXPECT_TRUE(at::equal(read_npy(path("p.npy")), hidden));
}

TEST_F(WriterTest, TokensRoundTrip) {
  const std::vector<std::string> tokens = {"<s>", " hello", "\xe2\x96\x81world", "\"", "\n"};
  write_npy(path("a.npy"), at::zeros({1, 5, 2}));
  write_tokens_json(path("tokens.json"), tokens);
  EXPECT_EQ(load_activations(path("a.npy")).tokens, tokens);
}

}  // namespace
}  // namespace cascade::data::testing
