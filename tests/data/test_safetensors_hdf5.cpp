// .safetensors and .h5 activation files: hand-assembled inputs, malformed files, our writers.
#include <chrono>
#include <filesystem>
#include <hdf5.h>

#include <nlohmann/json.hpp>
#include <random>

#include "data/formats/activation_io.h"
#include "data/formats/safetensors.h"
#include "file_builders.h"

namespace cascade::data::testing {
namespace {

using SafetensorsTest = TempDirTest;
using Hdf5Test = TempDirTest;

void expect_load_error(const std::string& file, const std::string& phrase) {
  const std::string message = input_error([&] { load_activations(file); });
  EXPECT_TRUE(contains(message, file)) << message;
  EXPECT_TRUE(contains(message, phrase)) << "expected '" << phrase << "' in: " << message;
}

// ---- safetensors: hand-assembled files ----

TEST_F(SafetensorsTest, Float32LayersInNumericOrderOtherTensorsIgnored) {
  // 11 layers listed out of order, so that "hidden_states.10" must sort after "hidden_states.2".
  const int L = 11, T = 2, d = 3;
  std::vector<RawTensor> tensors = {{"logits", "F32", "[2, 5]", raw(sample_values(10))},
                                    {"input_ids", "I64", "[1, 2]", raw(std::vector<int64_t>{17, 42})}};
  std::vector<float> want;
  for (int l = 0; l < L; ++l) {
    const auto values = sample_values(T * d, static_cast<float>(16 * l));
    want.insert(want.end(), values.begin(), values.end());
  }
  for (int l : {10, 3, 0, 7, 1, 2, 9, 4, 6, 5, 8})
    tensors.push_back({"hidden_states." + std::to_string(l), "F32", "[2, 3]",
                       raw(std::vector<float>(want.begin() + l * T * d, want.begin() + (l + 1) * T * d))});
  write_bytes(path("a.safetensors"), safetensors_bytes(tensors));
  const ActivationSet acts = load_activations(path("a.safetensors"));
  EXPECT_EQ(acts.hidden.scalar_type(), at::kFloat);
  expect_values(acts.hidden, want, {L, T, d});
  EXPECT_EQ(acts.source, path("a.safetensors"));
}

TEST_F(SafetensorsTest, Float16BatchOfOneStaysHalf) {
  const auto a = sample_values(6), b = sample_values(6, 0.5f);
  write_bytes(path("h.safetensors"), safetensors_bytes({{"hidden_states.0", "F16", "[1, 3, 2]", half_raw(a, false)},
                                                        {"hidden_states.1", "F16", "[1, 3, 2]", half_raw(b, false)}}));
  const ActivationSet acts = load_activations(path("h.safetensors"));
  EXPECT_EQ(acts.hidden.scalar_type(), at::kHalf);
  std::vector<float> want = a;
  want.insert(want.end(), b.begin(), b.end());
  expect_values(acts.hidden, want, {2, 3, 2});
}

TEST_F(SafetensorsTest, Bfloat16StaysBfloat16) {
  const auto values = sample_values(8);
  write_bytes(path("b.safetensors"), safetensors_bytes({{"hidden_states.0", "BF16", "[4, 2]", half_raw(values, true)}}));
  const ActivationSet acts = load_activations(path("b.safetensors"));
  EXPECT_EQ(acts.hidden.scalar_type(), at::kBFloat16);
  expect_values(acts.hidden, values, {1, 4, 2});
}

TEST_F(SafetensorsTest, Float64BecomesFloat32) {
  const std::vector<double> values = {0.1, -0.2, 0.3, 1e-3, 5.0, -7.25};
  write_bytes(path("d.safetensors"), safetensors_bytes({{"hidden_states.0", "F64", "[3, 2]", raw(values)}}));
  const ActivationSet acts = load_activations(path("d.safetensors"));
  EXPECT_EQ(acts.hidden.scalar_type(), at::kFloat);
  expect_values(acts.hidden, std::vector<float>(values.begin(), values.end()), {1, 3, 2});
}

TEST_F(SafetensorsTest, TokensJsonBeside) {
  write_bytes(path("a.safetensors"), safetensors_bytes({{"hidden_states.0", "F32", "[2, 2]", raw(sample_values(4))}}));
  write_bytes(path("tokens.json"), R"(["x", "y"])");
  EXPECT_EQ(load_activations(path("a.safetensors")).tokens, (std::vector<std::string>{"x", "y"}));
}

// ---- safetensors: malformed files ----

TEST_F(SafetensorsTest, HeaderLengthBeyondFile) {
  write_bytes(path("h.safetensors"),
              safetensors_bytes({{"hidden_states.0", "F32", "[2, 2]", raw(sample_values(4))}}, 1 << 20));
  expect_load_error(path("h.safetensors"), "header length 1048576 runs past the end of the file");
}

TEST_F(SafetensorsTest, HeaderLengthOverLimit) {
  // A 101 MB length field in a file just as large: bounded before anything is allocated from it.
  const uint64_t huge = 101ull * 1024 * 1024;
  write_bytes(path("h.safetensors"), little_endian(huge, 8));
  fs::resize_file(path("h.safetensors"), huge + 8);
  expect_load_error(path("h.safetensors"), "over the 100 MB limit");
}

TEST_F(SafetensorsTest, OffsetsBeyondFile) {
  // A valid header whose data region is cut short: data_offsets [0, 48] but only 20 bytes remain.
  const std::string full = safetensors_bytes({{"hidden_states.0", "F32", "[3, 4]", raw(sample_values(12))}});
  write_bytes(path("o.safetensors"), full.substr(0, full.size() - 28));
  expect_load_error(path("o.safetensors"), "tensor 'hidden_states.0': data_offsets [0, 48] lie outside the data region");
}

TEST_F(SafetensorsTest, OffsetsDisagreeWithShape) {
  std::string bytes = safetensors_bytes({{"hidden_states.0", "F32", "[3, 4]", raw(sample_values(12))}});
  bytes.replace(bytes.find("[3, 4]"), 6, "[3, 3]");
  write_bytes(path("s.safetensors"), bytes);
  expect_load_error(path("s.safetensors"), "hold 48 bytes but shape [3, 3] F32 needs 36");
}

TEST_F(SafetensorsTest, MissingLayerBetweenOthers) {
  write_bytes(path("m.safetensors"), safetensors_bytes({{"hidden_states.0", "F32", "[2, 2]", raw(sample_values(4))},
                                                        {"hidden_states.2", "F32", "[2, 2]", raw(sample_values(4))}}));
  expect_load_error(path("m.safetensors"), "hidden_states.1 is missing");
}

TEST_F(SafetensorsTest, NoHiddenStatesListsWhatItFound) {
  write_bytes(path("n.safetensors"), safetensors_bytes({{"logits", "F32", "[2, 2]", raw(sample_values(4))},
                                                        {"hidden.0", "F32", "[2, 2]", raw(sample_values(4))}}));
  expect_load_error(path("n.safetensors"), "no tensors named hidden_states.0 .. hidden_states.{L-1} (found logits, hidden.0)");
}

TEST_F(SafetensorsTest, IntegerLayerDtype) {
  write_bytes(path("i.safetensors"),
              safetensors_bytes({{"hidden_states.0", "I32", "[2, 2]", raw(std::vector<int32_t>{1, 2, 3, 4})}}));
  expect_load_error(path("i.safetensors"), "tensor 'hidden_states.0' has dtype I32");
}

TEST_F(SafetensorsTest, LayersDisagree) {
  write_bytes(path("d.safetensors"), safetensors_bytes({{"hidden_states.0", "F32", "[2, 2]", raw(sample_values(4))},
                                                        {"hidden_states.1", "F32", "[1, 4]", raw(sample_values(4))}}));
  expect_load_error(path("d.safetensors"), "tensor hidden_states.1 is [1, 4] F32 but hidden_states.0 is [2, 2] F32");
  write_bytes(path("t.safetensors"),
              safetensors_bytes({{"hidden_states.0", "F32", "[2, 2]", raw(sample_values(4))},
                                 {"hidden_states.1", "F16", "[2, 2]", half_raw(sample_values(4), false)}}));
  expect_load_error(path("t.safetensors"), "hidden_states.1 is [2, 2] F16 but hidden_states.0 is [2, 2] F32");
}

TEST_F(SafetensorsTest, WrongLayerRank) {
  write_bytes(path("r.safetensors"),
              safetensors_bytes({{"hidden_states.0", "F32", "[2, 1, 2]", raw(sample_values(4))}}));
  expect_load_error(path("r.safetensors"), "tensor hidden_states.0 has shape [2, 1, 2], expected [T, d] or [1, T, d]");
}

TEST_F(SafetensorsTest, NaNAndEmptyLayers) {
  auto values = sample_values(4);
  values[3] = std::nanf("");
  write_bytes(path("n.safetensors"), safetensors_bytes({{"hidden_states.0", "F32", "[2, 2]", raw(values)}}));
  expect_load_error(path("n.safetensors"), "layer 0 token 1 contains a NaN");
  write_bytes(path("t.safetensors"), safetensors_bytes({{"hidden_states.0", "F32", "[0, 2]", ""}}));
  expect_load_error(path("t.safetensors"), "T = 0");
}

TEST_F(SafetensorsTest, MalformedHeaders) {
  const std::pair<std::string, std::string> cases[] = {
      {little_endian(3, 8) + "abc", "not valid JSON"},
      {little_endian(2, 8) + "[]", "not a JSON object"},
      {little_endian(1, 8) + "{", "not valid JSON"},
      {"\x05\0\0", "too short"},
  };
  for (const auto& [bytes, phrase] : cases) {
    write_bytes(path("m.safetensors"), bytes);
    expect_load_error(path("m.safetensors"), phrase);
  }
  const std::string entry_cases[] = {
      R"({"hidden_states.0": 5})",
      R"({"hidden_states.0": {"shape": [1], "data_offsets": [0, 4]}})",
      R"({"hidden_states.0": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})",
      R"({"hidden_states.0": {"dtype": "F32", "shape": [1], "data_offsets": [4]}})",
      R"({"hidden_states.0": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}})",
  };
  for (const std::string& json : entry_cases) {
    write_bytes(path("e.safetensors"), little_endian(json.size(), 8) + json + std::string(4, '\0'));
    expect_load_error(path("e.safetensors"), "tensor 'hidden_states.0'");
  }
}

TEST_F(SafetensorsTest, EveryTruncationAndCorruptionIsAnInputError) {
  const std::string full = safetensors_bytes({{"hidden_states.0", "F32", "[2, 3]", raw(sample_values(6))},
                                              {"hidden_states.1", "F32", "[2, 3]", raw(sample_values(6))}});
  for (size_t cut = 0; cut < full.size(); ++cut) {
    write_bytes(path("c.safetensors"), full.substr(0, cut));
    const std::string message = input_error([&] { load_activations(path("c.safetensors")); });
    ASSERT_TRUE(contains(message, path("c.safetensors"))) << "cut at " << cut << ": " << message;
  }
  std::mt19937 rng(11);
  const size_t header_end = full.size() - 48;
  for (int trial = 0; trial < 400; ++trial) {
    std::string bytes = full;
    bytes[rng() % header_end] = static_cast<char>(rng() % 256);
    write_bytes(path("c.safetensors"), bytes);
    try {
      load_activations(path("c.safetensors"));
    } catch (const InputError&) {
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
  }
}

TEST_F(SafetensorsTest, WriterRoundTripAndHeaderLayout) {
  const at::Tensor hidden = at::tensor(sample_values(3 * 4 * 2)).reshape({3, 4, 2});
  for (const auto dtype : {at::kFloat, at::kHalf, at::kBFloat16}) {
    std::vector<std::pair<std::string, at::Tensor>> tensors = {{"input_ids", at::arange(4, at::kLong)}};
    for (int64_t l = 0; l < 3; ++l) tensors.push_back({"hidden_states." + std::to_string(l), hidden[l].to(dtype)});
    write_safetensors(path("w.safetensors"), tensors);
    const ActivationSet acts = load_activations(path("w.safetensors"));
    EXPECT_EQ(acts.hidden.scalar_type(), dtype);
    EXPECT_TRUE(at::equal(acts.hidden, hidden.to(dtype)));

    // The header by hand: length a multiple of 8, offsets contiguous from 0 to the end of the file.
    const std::string bytes = read_bytes(path("w.safetensors"));
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<unsigned char>(bytes[i]);
    EXPECT_EQ(header_len % 8, 0u);
    const auto header = nlohmann::json::parse(bytes.substr(8, header_len));
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (const auto& [name, entry] : header.items()) ranges.push_back({entry["data_offsets"][0].get<uint64_t>(), entry["data_offsets"][1].get<uint64_t>()});
    std::sort(ranges.begin(), ranges.end());
    uint64_t next = 0;
    for (const auto& [begin, end] : ranges) {
      EXPECT_EQ(begin, next);
      next = end;
    }
    EXPECT_EQ(next, bytes.size() - 8 - header_len);
    EXPECT_EQ(header["input_ids"]["dtype"], "I64");
  }
  EXPECT_THROW(write_safetensors(path("x.safetensors"), {{"a", hidden}, {"a", hidden}}), UsageError);
}

// ---- HDF5, written with the C API directly ----

// Writes `data` (raw bytes of `memory_type`) as /NAME with file type `file_type` and shape `dims`.
void h5_write(const std::string& file, const char* name, hid_t file_type, hid_t memory_type,
              const std::vector<hsize_t>& dims, const void* data) {
  const hid_t f = H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  const hid_t dset = H5Dcreate2(f, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(dset, 0);
  if (data) {
    EXPECT_GE(H5Dwrite(dset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), 0);
  }
  H5Dclose(dset);
  H5Sclose(space);
  H5Fclose(f);
}

// The 16-bit IEEE float type h5py creates for numpy float16 (HDF5 has no predefined one).
hid_t h5py_half_type() {
  const hid_t type = H5Tcopy(H5T_IEEE_F32LE);
  H5Tset_fields(type, 15, 10, 5, 0, 10);
  H5Tset_size(type, 2);
  H5Tset_ebias(type, 15);
  return type;
}

TEST_F(Hdf5Test, Float32) {
  const auto values = sample_values(2 * 3 * 4);
  h5_write(path("a.h5"), "hidden_states", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {2, 3, 4}, values.data());
  const ActivationSet acts = load_activations(path("a.h5"));
  EXPECT_EQ(acts.hidden.scalar_type(), at::kFloat);
  expect_values(acts.hidden, values, {2, 3, 4});
}

TEST_F(Hdf5Test, HalfFromH5pyIsConverted) {
  const auto values = sample_values(2 * 2 * 3);
  std::vector<uint16_t> bits;
  for (float v : values) bits.push_back(half_bits(v));
  const hid_t half = h5py_half_type();
  h5_write(path("h.hdf5"), "hidden_states", half, half, {2, 2, 3}, bits.data());
  H5Tclose(half);
  expect_values(load_activations(path("h.hdf5")).hidden, values, {2, 2, 3});
}

TEST_F(Hdf5Test, Float64BigEndianIsConverted) {
  const std::vector<double> values = {0.1, 0.2, -0.3, 4.0, 1e-5, -6.5, 7.0, 8.125};
  h5_write(path("d.h5"), "hidden_states", H5T_IEEE_F64BE, H5T_NATIVE_DOUBLE, {2, 2, 2}, values.data());
  expect_values(load_activations(path("d.h5")).hidden, std::vector<float>(values.begin(), values.end()), {2, 2, 2});
}

TEST_F(Hdf5Test, IntegerDataset) {
  const std::vector<int32_t> values(8, 3);
  h5_write(path("i.h5"), "hidden_states", H5T_STD_I32LE, H5T_NATIVE_INT, {2, 2, 2}, values.data());
  expect_load_error(path("i.h5"), "/hidden_states holds integer data");
}

TEST_F(Hdf5Test, WrongRank) {
  const auto values = sample_values(6);
  h5_write(path("r.h5"), "hidden_states", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {2, 3}, values.data());
  expect_load_error(path("r.h5"), "rank 2, expected [L, T, d]");
}

TEST_F(Hdf5Test, NoDatasetAndNotAnHdf5File) {
  const auto values = sample_values(8);
  h5_write(path("n.h5"), "activations", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {2, 2, 2}, values.data());
  expect_load_error(path("n.h5"), "no dataset /hidden_states");
  write_bytes(path("g.h5"), "definitely not hdf5");
  expect_load_error(path("g.h5"), "not an HDF5 file");
}

TEST_F(Hdf5Test, GroupNamedHiddenStates) {
  const hid_t f = H5Fcreate(path("g.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  H5Gclose(H5Gcreate2(f, "hidden_states", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  H5Fclose(f);
  expect_load_error(path("g.h5"), "/hidden_states is not a dataset");
}

TEST_F(Hdf5Test, EmptyLayersAndNaN) {
  h5_write(path("e.h5"), "hidden_states", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {0, 4, 8}, nullptr);
  expect_load_error(path("e.h5"), "L = 0");
  auto values = sample_values(8);
  values[6] = INFINITY;
  h5_write(path("i.h5"), "hidden_states", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {2, 2, 2}, values.data());
  expect_load_error(path("i.h5"), "layer 1 token 1 contains an infinite");
}

TEST_F(Hdf5Test, HugeChunkedDatasetIsRefused) {
  // 4 PiB declared, nothing written: a tiny file whose shape must not reach the allocator unchecked.
  const hid_t f = H5Fcreate(path("huge.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const hsize_t dims[3] = {hsize_t{1} << 20, hsize_t{1} << 20, hsize_t{1} << 10}, chunk[3] = {1, 16, 16};
  const hid_t space = H5Screate_simple(3, dims, nullptr);
  const hid_t props = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(props, 3, chunk);
  H5Dclose(H5Dcreate2(f, "hidden_states", H5T_IEEE_F32LE, space, H5P_DEFAULT, props, H5P_DEFAULT));
  H5Pclose(props);
  H5Sclose(space);
  H5Fclose(f);
  expect_load_error(path("huge.h5"), "/hidden_states declares [1048576, 1048576, 1024]");
}

TEST_F(Hdf5Test, AFillValueDatasetIsRefusedBeforeAllocating) {
  // The probe's case: 1.4 KB declaring [4, 100000, 1000] float32 with a fill value and no data (it
  // reached 4.5 GB and ran past 60 s). Refused from what the file stores, before any allocation.
  const hid_t f = H5Fcreate(path("fill.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const hsize_t dims[3] = {4, 100000, 1000}, chunk[3] = {1, 1000, 1000};
  const float fill = 0.5f;
  const hid_t space = H5Screate_simple(3, dims, nullptr);
  const hid_t props = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(props, 3, chunk);
  H5Pset_fill_value(props, H5T_NATIVE_FLOAT, &fill);
  H5Dclose(H5Dcreate2(f, "hidden_states", H5T_IEEE_F32LE, space, H5P_DEFAULT, props, H5P_DEFAULT));
  H5Pclose(props);
  H5Sclose(space);
  H5Fclose(f);
  ASSERT_LT(std::filesystem::file_size(path("fill.h5")), 10000u);
  const auto t0 = std::chrono::steady_clock::now();
  expect_load_error(path("fill.h5"), "/hidden_states declares [4, 100000, 1000], 1.6e+03 MB but the file stores 0 bytes");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST_F(Hdf5Test, TruncatedFileIsAnInputError) {
  const auto values = sample_values(64 * 16);
  h5_write(path("t.h5"), "hidden_states", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {4, 16, 16}, values.data());
  const std::string full = read_bytes(path("t.h5"));
  for (size_t cut : {size_t{0}, size_t{8}, size_t{100}, full.size() / 2, full.size() - 100}) {
    write_bytes(path("t.h5"), full.substr(0, cut));
    const std::string message = input_error([&] { load_activations(path("t.h5")); });
    EXPECT_TRUE(contains(message, path("t.h5"))) << "cut at " << cut << ": " << message;
  }
}

TEST_F(Hdf5Test, WriterRoundTripAndSniffing) {
  const at::Tensor hidden = at::tensor(sample_values(3 * 2 * 5)).reshape({3, 2, 5});
  write_hdf5_activations(path("w.h5"), hidden.to(at::kHalf));  // written as float32
  EXPECT_TRUE(at::equal(load_activations(path("w.h5")).hidden, hidden));
  fs::rename(path("w.h5"), path("w.data"));  // no known extension: found by its signature
  EXPECT_TRUE(at::equal(load_activations(path("w.data")).hidden, hidden));
  EXPECT_THROW(write_hdf5_activations(path("x.h5"), hidden[0]), UsageError);
}

}  // namespace
}  // namespace cascade::data::testing
