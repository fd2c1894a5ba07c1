// Writes the seed corpus of the session-reader fuzzer (tests/fuzz/corpus, committed): small valid
// sessions of every shape the writer produces, and damaged variants of them — truncated files,
// flipped superblock bytes, a newer/older format version, foreign HDF5 files, and sessions whose
// datasets contradict each other (mutated with the HDF5 C API, as tests/data does).
//   fuzz_make_seeds OUT_DIR
// Run by hand; the output is committed. Every seed stays well under 64 KB (L, T, d tiny).
#include <hdf5.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/session_builders.h"
#include "core/errors.h"
#include "data/session/session_file.h"

namespace fs = std::filesystem;
using cascade::RunRecord;

namespace {

fs::path out_dir;

std::vector<char> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spit(const fs::path& p, const std::vector<char>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

fs::path save(const std::string& name, const RunRecord& s) {
  const fs::path p = out_dir / name;
  cascade::data::write_session(p.string(), s, {s.has_activations()});
  return p;
}

fs::path copy_as(const fs::path& from, const std::string& name) {
  const fs::path p = out_dir / name;
  fs::copy_file(from, p, fs::copy_options::overwrite_existing);
  return p;
}

void check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("make_seeds: " + what);
}

// Replaces the int64 attribute `name` on / with `value`.
void set_root_int(const fs::path& p, const char* name, int64_t value) {
  const hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  check(f >= 0, "open " + p.string());
  check(H5Adelete(f, name) >= 0, "delete attribute");
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t a = H5Acreate2(f, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
  check(a >= 0 && H5Awrite(a, H5T_NATIVE_INT64, &value) >= 0, "write attribute");
  H5Aclose(a), H5Sclose(space), H5Fclose(f);
}

// Replaces the string attribute `name` on / with `value` (fixed-length, unlike the writer's).
void set_root_string(const fs::path& p, const char* name, const std::string& value) {
  const hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  check(f >= 0, "open " + p.string());
  check(H5Adelete(f, name) >= 0, "delete attribute");
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, value.size());
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t a = H5Acreate2(f, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  check(a >= 0 && H5Awrite(a, type, value.data()) >= 0, "write attribute");
  H5Aclose(a), H5Sclose(space), H5Tclose(type), H5Fclose(f);
}

// Reads the whole dataset `name` as `mem` (its own file type when `mem` is negative: the raw
// bytes), lets `edit` change the bytes, and writes them back.
template <class Edit>
void edit_dataset(const fs::path& p, const char* name, hid_t mem, Edit edit) {
  const hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  check(f >= 0, "open " + p.string());
  const hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
  check(d >= 0, std::string("open ") + name);
  const hid_t type = mem < 0 ? H5Dget_type(d) : H5Tcopy(mem);
  const hid_t space = H5Dget_space(d);
  std::vector<unsigned char> buf(static_cast<size_t>(H5Sget_simple_extent_npoints(space)) * H5Tget_size(type));
  check(H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) >= 0, std::string("read ") + name);
  edit(buf);
  check(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) >= 0, std::string("write ") + name);
  H5Tclose(type), H5Sclose(space), H5Dclose(d), H5Fclose(f);
}

void unlink_object(const fs::path& p, const char* name) {
  const hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  check(f >= 0 && H5Ldelete(f, name, H5P_DEFAULT) >= 0, std::string("unlink ") + name);
  H5Fclose(f);
}

// Replaces /analysis/layer by 0..L-1 and the [L, T] sets and the [L, L] Jaccard matrix by chunked
// datasets never written (every value the fill value 0): a small file declaring L layers.
void declare_layers(const fs::path& p, hsize_t L, hsize_t T) {
  const hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  check(f >= 0, "open " + p.string());
  const hid_t g = H5Gopen2(f, "/analysis", H5P_DEFAULT);
  auto replace = [&](const char* name, hid_t type, std::vector<hsize_t> dims, const void* data) {
    H5Ldelete(g, name, H5P_DEFAULT);
    const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    const hid_t plist = H5Pcreate(H5P_DATASET_CREATE);
    std::vector<hsize_t> chunk(dims);
    for (auto& c : chunk) c = std::min<hsize_t>(c, 4096);
    H5Pset_chunk(plist, static_cast<int>(chunk.size()), chunk.data());
    H5Pset_shuffle(plist);
    H5Pset_deflate(plist, 9);
    const hid_t d = H5Dcreate2(g, name, type, space, H5P_DEFAULT, plist, H5P_DEFAULT);
    check(d >= 0, std::string("create ") + name);
    if (data) check(H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0, std::string("write ") + name);
    H5Dclose(d), H5Pclose(plist), H5Sclose(space);
  };
  std::vector<int64_t> layers(L);
  for (hsize_t l = 0; l < L; ++l) layers[l] = static_cast<int64_t>(l);
  replace("layer", H5T_STD_I64LE, {L}, layers.data());
  for (const char* n : {"reps_ind", "reps_casc", "added", "removed"}) replace(n, H5T_STD_U8LE, {L, T}, nullptr);
  replace("jaccard_matrix", H5T_IEEE_F64LE, {L, L}, nullptr);
  H5Gclose(g), H5Fclose(f);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  out_dir = argv[1];
  fs::create_directories(out_dir);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  try {
    // --- valid sessions -------------------------------------------------------------------------
    // Every group costs ~1 KB and every dataset ~0.5 KB in the writer's (HDF5 1.8-compatible) layout,
    // and one analysis is ~20 datasets: the sweeps are kept short.
    RunRecord full = testsession::analysed_session(2, 6, 4, true);  // model, sweep, quality, X̂
    full.sweep = {full.sweep[1]};  // τ = 0.3, with its ADA error and Δppl
    const fs::path full_p = save("valid_full_activations.h5", full);
    {
      RunRecord s = testsession::analysed_session(2, 32, 2, false);  // [L, T] >= 64: chunked + deflate
      s.sweep.clear();
      s.quality.reset();
      save("valid_compressed.h5", s);
    }
    fs::path kact_p, minimal_p;
    RunRecord base = testsession::analysed_session(2, 4, 2, false);  // model, quality; the damaged files' base
    base.sweep.clear();
    const fs::path noact_p = save("valid_no_activations_no_sweep.h5", base);
    {
      RunRecord s = testsession::analysed_session(1, 3, 2, false);
      s.sweep.clear();
      s.quality.reset();
      minimal_p = save("valid_minimal_one_layer.h5", s);
    }
    {
      RunRecord s = testsession::as_activation_session(testsession::analysed_session(3, 5, 3, true));
      s.sweep.resize(1);
      kact_p = save("valid_kind_activations.h5", s);
    }
    {
      RunRecord s = testsession::analysed_session(2, 4, 2, false);
      s.kind = cascade::SourceKind::Activations;
      s.model.reset();  // ids kept: optional for an activation session
      s.sweep.clear();
      save("valid_kind_activations_ids_quality.h5", s);
    }

    // --- damaged files --------------------------------------------------------------------------
    const std::vector<char> bytes = slurp(noact_p);
    spit(out_dir / "damaged_truncated_half.h5", {bytes.begin(), bytes.begin() + static_cast<long>(bytes.size() / 2)});
    spit(out_dir / "damaged_truncated_superblock.h5", {bytes.begin(), bytes.begin() + 96});
    {
      std::vector<char> b = bytes;
      b[8] ^= 0x01;  // superblock version
      spit(out_dir / "damaged_superblock_version.h5", b);
    }
    spit(out_dir / "not_hdf5.txt", {'n', 'o', 't', ' ', 'h', 'd', 'f', '5', '\n'});
    spit(out_dir / "empty.bin", {});

    set_root_int(copy_as(noact_p, "version_newer.h5"), "format_version", cascade::kSessionFormatVersion + 1);
    set_root_int(copy_as(noact_p, "version_zero.h5"), "format_version", 0);
    set_root_string(copy_as(noact_p, "format_foreign.h5"), "format", "something-else");
    set_root_string(copy_as(noact_p, "kind_fixed_length_bogus.h5"), "kind", "bogus");
    {
      const fs::path p = out_dir / "foreign_hidden_states.h5";
      const hid_t f = H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
      const hsize_t dims[3] = {2, 3, 4};
      const hid_t space = H5Screate_simple(3, dims, nullptr);
      const hid_t d = H5Dcreate2(f, "hidden_states", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      std::vector<float> v(24, 0.5f);
      check(d >= 0 && H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0, "hidden_states");
      H5Dclose(d), H5Sclose(space), H5Fclose(f);
    }
    edit_dataset(copy_as(noact_p, "bad_partner.h5"), "/prior_max/partner", H5T_NATIVE_INT32,
                 [](std::vector<unsigned char>& b) { b[4 * 3] = 7; });  // token 3 of layer 0 points ahead
    edit_dataset(copy_as(noact_p, "bad_mask_value.h5"), "/analysis/reps_ind", H5T_NATIVE_UINT8,
                 [](std::vector<unsigned char>& b) { b[1] = 2; });
    edit_dataset(copy_as(noact_p, "bad_removed_not_inherited.h5"), "/analysis/removed", H5T_NATIVE_UINT8,
                 [](std::vector<unsigned char>& b) { b[b.size() - 1] ^= 1; });
    edit_dataset(copy_as(noact_p, "bad_token_id.h5"), "/tokens/ids", H5T_NATIVE_INT64,
                 [](std::vector<unsigned char>& b) { b[7] = static_cast<unsigned char>(0x80); });  // negative id
    edit_dataset(copy_as(kact_p, "bad_xhat_nan.h5"), "/activations/xhat", -1,
                 [](std::vector<unsigned char>& b) { b[0] = 0x00, b[1] = 0x7e; });  // float16 NaN
    // Many layers in a small file: 60000 asked remeasure for an [L, L] matrix of 29 GB before the
    // reader bounded L * L by the file's size; 2000 passes that bound (and fails later, on r_ind).
    declare_layers(copy_as(minimal_p, "crafted_60000_layers.h5"), 60000, 3);
    declare_layers(copy_as(minimal_p, "crafted_2000_layers.h5"), 2000, 3);
    {  // SPEC §7 comparisons (format version 2): a valid one, and damaged sets, offsets and counts
      RunRecord s = base;
      s.comparisons.push_back(testsession::sample_comparison(s));
      const fs::path cmp_p = save("valid_comparisons.h5", s);
      edit_dataset(copy_as(cmp_p, "bad_comparison_set_out_of_range.h5"), "/comparisons/0/cascade/sets", H5T_NATIVE_INT64,
                   [](std::vector<unsigned char>& b) { b[b.size() - 8] = 99; });  // token 99 of T = 4
      edit_dataset(copy_as(cmp_p, "bad_comparison_offsets.h5"), "/comparisons/0/random/set_offsets", H5T_NATIVE_INT64,
                   [](std::vector<unsigned char>& b) { b[0] = 5; });  // not back to back
      edit_dataset(copy_as(cmp_p, "bad_comparison_r.h5"), "/comparisons/0/cascade/r", H5T_NATIVE_INT64,
                   [](std::vector<unsigned char>& b) { b[0] = 0x40; });  // r = 64: sets too short
      unlink_object(copy_as(cmp_p, "missing_comparison_method.h5"), "/comparisons/0/random");
      const fs::path count_p = copy_as(cmp_p, "bad_comparison_count.h5");
      {
        const hid_t f = H5Fopen(count_p.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
        check(f >= 0, "open " + count_p.string());
        const hid_t g = H5Gopen2(f, "/comparisons", H5P_DEFAULT);
        const hid_t a = H5Aopen(g, "count", H5P_DEFAULT);
        const int64_t huge = int64_t{1} << 40;
        check(a >= 0 && H5Awrite(a, H5T_NATIVE_INT64, &huge) >= 0, "count");
        H5Aclose(a), H5Gclose(g), H5Fclose(f);
      }
      set_root_int(copy_as(cmp_p, "version_one_with_comparisons.h5"), "format_version", 1);  // reads, without them
    }
    unlink_object(copy_as(noact_p, "missing_prior_max.h5"), "/prior_max");
    unlink_object(copy_as(full_p, "missing_sweep_analysis.h5"), "/sweep/analyses/0000");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  // What the reader makes of each seed (every damaged one must be refused with InputError).
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(out_dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  size_t total = 0;
  for (const auto& p : files) {
    total += static_cast<size_t>(fs::file_size(p));
    std::string outcome = "reads";
    try {
      (void)cascade::data::read_session(p.string());
    } catch (const cascade::InputError& e) {
      outcome = std::string("InputError: ") + e.what();
    }
    std::printf("%-40s %6ju bytes  %s\n", p.filename().c_str(), static_cast<uintmax_t>(fs::file_size(p)), outcome.c_str());
  }
  const size_t n = files.size();
  std::printf("fuzz_make_seeds: %zu files, %zu bytes in %s\n", n, total, out_dir.c_str());
  return 0;
}
