#include "tests/gpu/kernel_checks.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <sstream>

namespace cascade::gpu_checks {
namespace {

using gpu::DType;

// Round-to-nearest-even encodings, and decodings written independently of gpu/common.cuh.
uint16_t to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
double from_bf16(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
double from_f16(uint16_t h) {
  const int sign = (h & 0x8000) ? -1 : 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  if (exp == 0x1f) return mant ? std::nan("") : sign * std::numeric_limits<double>::infinity();
  if (exp == 0) return sign * std::ldexp(mant, -24);
  return sign * std::ldexp(1024 + mant, exp - 25);
}
uint16_t to_f16(float f) {  // exhaustive nearest search over the 2^15 magnitudes: slow, obviously right
  static const std::vector<double> magnitudes = [] {
    std::vector<double> m(0x7c00);
    for (int i = 0; i < 0x7c00; ++i) m[i] = from_f16(static_cast<uint16_t>(i));
    return m;
  }();
  const double a = std::fabs(static_cast<double>(f));
  auto it = std::lower_bound(magnitudes.begin(), magnitudes.end(), a);
  int best = it == magnitudes.end() ? 0x7bff : static_cast<int>(it - magnitudes.begin());
  if (best > 0 && (it == magnitudes.end() || a - magnitudes[best - 1] < magnitudes[best] - a ||
                   (a - magnitudes[best - 1] == magnitudes[best] - a && (best - 1) % 2 == 0)))
    --best;
  return static_cast<uint16_t>(best | (f < 0 ? 0x8000 : 0));
}

// The rows as the kernel stores them (bytes) and as it reads them (double).
struct Rows {
  std::vector<unsigned char> bytes;
  std::vector<double> values;  // T × d
  int64_t T = 0, d = 0;
  DType dtype = DType::F32;
  double at(int64_t t, int64_t k) const { return values[t * d + k]; }
};

Rows make_rows(const Case& c, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform(0, 1);
  const int64_t T = c.T, d = c.d;
  std::vector<double> raw(T * d, 0.0);
  std::vector<std::vector<double>> centres(4, std::vector<double>(d));
  for (auto& centre : centres)
    for (double& v : centre) v = normal(rng);
  for (int64_t t = 0; t < T; ++t) {
    double* row = raw.data() + t * d;
    switch (c.data) {
      case Data::Identical:
        for (int64_t k = 0; k < d; ++k) row[k] = centres[0][k];
        break;
      case Data::ZeroRows:
        break;  // all zero
      case Data::Random:
        for (int64_t k = 0; k < d; ++k) row[k] = normal(rng);
        break;
      case Data::Clustered: {
        const double u = uniform(rng);
        if (u < 0.1) break;  // a zero row
        const auto& centre = centres[rng() % centres.size()];
        const double noise = u < 0.3 ? 0.0 : 0.05 + 0.5 * uniform(rng);  // some exact copies
        for (int64_t k = 0; k < d; ++k) row[k] = centre[k] + noise * normal(rng);
      }
    }
    if (c.fused_norm) {  // raw activations of very different scales
      const double scale = std::pow(10.0, -3.0 + 6.0 * uniform(rng));
      for (int64_t k = 0; k < d; ++k) row[k] *= scale;
    } else {
      double norm = 0;
      for (int64_t k = 0; k < d; ++k) norm += row[k] * row[k];
      norm = std::sqrt(norm);
      for (int64_t k = 0; k < d; ++k) row[k] = norm > 0 ? row[k] / norm : 0.0;
    }
  }
  Rows rows;
  rows.T = T, rows.d = d, rows.dtype = c.dtype;
  rows.values.resize(T * d);
  const size_t elem = c.dtype == DType::F32 ? 4 : 2;
  rows.bytes.resize(T * d * elem);
  for (int64_t i = 0; i < T * d; ++i) {
    const auto f = static_cast<float>(raw[i]);
    if (c.dtype == DType::F32) {
      std::memcpy(rows.bytes.data() + 4 * i, &f, 4);
      rows.values[i] = f;
    } else {
      const uint16_t h = c.dtype == DType::F16 ? to_f16(f) : to_bf16(f);
      std::memcpy(rows.bytes.data() + 2 * i, &h, 2);
      rows.values[i] = c.dtype == DType::F16 ? from_f16(h) : from_bf16(h);
    }
  }
  return rows;
}

// |cos| as the kernel defines it: the dot of the stored rows, divided by the norms when fused.
struct Reference {
  const Rows& rows;
  bool fused;
  std::vector<double> norms;
  Reference(const Rows& r, bool f) : rows(r), fused(f), norms(r.T) {
    for (int64_t t = 0; t < r.T; ++t) {
      double s = 0;
      for (int64_t k = 0; k < r.d; ++k) s += r.at(t, k) * r.at(t, k);
      norms[t] = std::sqrt(s);
    }
  }
  double abs_cos(int64_t a, int64_t b) const {
    double dot = 0;
    for (int64_t k = 0; k < rows.d; ++k) dot += rows.at(a, k) * rows.at(b, k);
    if (!fused) return std::fabs(dot);
    if (norms[a] < 1e-12 || norms[b] < 1e-12) return 0.0;
    return std::fabs(dot) / (norms[a] * norms[b]);
  }
};

// Device buffers freed on scope exit.
struct Buffer {
  const gpu::Backend& backend;
  void* p = nullptr;
  Buffer(const gpu::Backend& b, size_t bytes) : backend(b), p(b.allocate(bytes)) {}
  ~Buffer() { backend.release(p); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  template <class T>
  T* as() const {
    return static_cast<T*>(p);
  }
};
template <class T>
std::unique_ptr<Buffer> upload(const gpu::Backend& b, const std::vector<T>& v) {
  auto buf = std::make_unique<Buffer>(b, v.size() * sizeof(T));
  b.copy_to_device(buf->p, v.data(), v.size() * sizeof(T));
  return buf;
}
template <class T>
std::vector<T> download(const gpu::Backend& b, const Buffer& buf, size_t n) {
  std::vector<T> v(n);
  b.copy_to_host(v.data(), buf.p, n * sizeof(T));
  return v;
}

constexpr double kTol = 1e-4;  // fp32 accumulation of exactly representable products

struct Matrix {
  std::unique_ptr<Buffer> data, inv_norm;
  gpu::Matrix m;
};
Matrix device_matrix(const gpu::Backend& backend, const Rows& rows, bool fused, Result& result, const Reference& ref) {
  Matrix out;
  out.data = upload(backend, rows.bytes);
  out.m.data = out.data->p;
  out.m.dtype = rows.dtype;
  out.m.rows = rows.T;
  out.m.d = out.m.ld = rows.d;
  if (fused) {
    out.inv_norm = std::make_unique<Buffer>(backend, std::max<int64_t>(rows.T, 1) * sizeof(float));
    backend.inverse_norms(out.m, out.inv_norm->as<float>(), nullptr);
    backend.synchronize(nullptr);
    const auto inv = download<float>(backend, *out.inv_norm, rows.T);
    for (int64_t t = 0; t < rows.T; ++t) {
      const double want = ref.norms[t] < 1e-12 ? 0.0 : 1.0 / ref.norms[t];
      ++result.checked;
      if (std::fabs(inv[t] - want) > 1e-5 * std::max(1.0, want)) {
        std::ostringstream msg;
        msg << "inv_norm[" << t << "] = " << inv[t] << ", want " << want;
        result.failures.push_back(msg.str());
        break;
      }
    }
    out.m.inv_norm = out.inv_norm->as<float>();
  }
  return out;
}

void fail(Result& result, const std::string& where, const std::string& what) {
  if (result.failures.size() < 8) result.failures.push_back(where + ": " + what);
}

// best/arg of one row against a reference maximum over `candidates`.
void compare_max(Result& result, const std::string& where, float best, int64_t arg, const std::vector<int64_t>& candidates,
                 const Reference& ref, int64_t row, bool exact_ties) {
  ++result.checked;
  if (candidates.empty()) {
    if (!(best == -std::numeric_limits<float>::infinity() && arg == -1))
      fail(result, where, "no candidate, got " + std::to_string(best) + " at " + std::to_string(arg));
    return;
  }
  double want = -1;
  int64_t want_arg = -1;
  for (int64_t s : candidates) {
    const double v = ref.abs_cos(row, s);
    if (v > want) want = v, want_arg = s;
  }
  const double err = std::fabs(best - want);
  result.max_error = std::max(result.max_error, err);
  if (!(err <= kTol)) fail(result, where, "max " + std::to_string(best) + ", want " + std::to_string(want));
  if (std::find(candidates.begin(), candidates.end(), arg) == candidates.end()) {
    fail(result, where, "argmax " + std::to_string(arg) + " is not a candidate");
  } else if (std::fabs(ref.abs_cos(row, arg) - want) > kTol) {
    fail(result, where, "argmax " + std::to_string(arg) + " does not attain the max");
  } else if (exact_ties && arg != want_arg) {
    fail(result, where, "tie went to " + std::to_string(arg) + ", want the earlier " + std::to_string(want_arg));
  }
}

}  // namespace

std::string Case::name() const {
  static const char* data_names[] = {"clustered", "identical", "zero-rows", "random"};
  static const char* dtype_names[] = {"f32", "f16", "bf16"};
  std::ostringstream s;
  s << "T" << T << "_d" << d << "_" << dtype_names[static_cast<int>(dtype)] << "_" << data_names[static_cast<int>(data)]
    << (fused_norm ? "_fused" : "") << "_splits" << splits;
  return s.str();
}

void Result::merge(const Result& other) {
  checked += other.checked;
  max_error = std::max(max_error, other.max_error);
  failures.insert(failures.end(), other.failures.begin(), other.failures.end());
}

Result check_prior_max(const gpu::Backend& backend, const Case& c, uint64_t seed) {
  Result result;
  const Rows rows = make_rows(c, seed);
  const Reference ref(rows, c.fused_norm);
  Matrix x = device_matrix(backend, rows, c.fused_norm, result, ref);
  Buffer gamma(backend, std::max<int64_t>(c.T, 1) * sizeof(float)), partner(backend, std::max<int64_t>(c.T, 1) * sizeof(int64_t));
  const size_t ws_bytes = backend.prior_max_workspace(x.m, c.splits);
  Buffer ws(backend, ws_bytes);
  backend.prior_max_scan(x.m, gamma.as<float>(), partner.as<int64_t>(), ws.p, ws_bytes, c.splits, nullptr);
  backend.synchronize(nullptr);
  const auto g = download<float>(backend, gamma, c.T);
  const auto p = download<int64_t>(backend, partner, c.T);
  const bool exact_ties = c.data == Data::Identical || c.data == Data::ZeroRows;
  std::vector<int64_t> earlier;
  for (int64_t t = 0; t < c.T; ++t) {
    compare_max(result, c.name() + " t=" + std::to_string(t), g[t], p[t], earlier, ref, t, exact_ties);
    earlier.push_back(t);
  }
  return result;
}

Result check_cascade_validate(const gpu::Backend& backend, const Case& c, double theta, uint64_t seed) {
  Result result;
  const Rows rows = make_rows(c, seed);
  const Reference ref(rows, c.fused_norm);
  Matrix x = device_matrix(backend, rows, c.fused_norm, result, ref);
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
  for (int kind = 0; kind < 4; ++kind) {
    std::vector<int64_t> inherited, others;
    for (int64_t t = 0; t < c.T; ++t) {
      const bool in = kind == 1 || (kind == 2 && t == c.T / 2) || (kind == 3 && rng() % 10 < 3);
      (in ? inherited : others).push_back(t);
    }
    const std::string where = c.name() + " inherited=" + std::to_string(inherited.size());
    const auto r = static_cast<int64_t>(inherited.size()), n_others = static_cast<int64_t>(others.size());
    auto inh = upload(backend, inherited.empty() ? std::vector<int64_t>{0} : inherited);
    auto oth = upload(backend, others.empty() ? std::vector<int64_t>{0} : others);
    Buffer valid(backend, std::max<int64_t>(r, 1)), within(backend, std::max<int64_t>(r, 1) * sizeof(float));
    Buffer cross(backend, std::max<int64_t>(n_others, 1) * sizeof(float));
    Buffer cross_arg(backend, std::max<int64_t>(n_others, 1) * sizeof(int64_t));
    gpu::ValidateArgs args;
    args.x = x.m;
    args.inherited = inh->as<int64_t>();
    args.r = r;
    args.others = oth->as<int64_t>();
    args.n_others = n_others;
    args.theta = theta;
    args.valid = valid.as<uint8_t>();
    args.within = within.as<float>();
    args.cross = cross.as<float>();
    args.cross_arg = cross_arg.as<int64_t>();
    const size_t ws_bytes = backend.validate_workspace(args, c.splits);
    Buffer ws(backend, ws_bytes);
    backend.cascade_validate(args, ws.p, ws_bytes, c.splits, nullptr);
    backend.synchronize(nullptr);
    const auto v = download<uint8_t>(backend, valid, r);
    const auto w = download<float>(backend, within, r);
    const auto cr = download<float>(backend, cross, n_others);
    const auto ca = download<int64_t>(backend, cross_arg, n_others);
    std::vector<int64_t> earlier, kernel_valid;
    for (int64_t k = 0; k < r; ++k) {
      const double want = [&] {
        double m = -std::numeric_limits<double>::infinity();
        for (int64_t s : earlier) m = std::max(m, ref.abs_cos(inherited[k], s));
        return m;
      }();
      ++result.checked;
      if (earlier.empty() ? w[k] != -std::numeric_limits<float>::infinity() : !(std::fabs(w[k] - want) <= kTol))
        fail(result, where, "within[" + std::to_string(k) + "] = " + std::to_string(w[k]) + ", want " + std::to_string(want));
      const bool want_valid = static_cast<double>(w[k]) < theta;  // the kernel's own value decides, in double
      if ((v[k] == 1) != want_valid) fail(result, where, "valid[" + std::to_string(k) + "] disagrees with within < theta");
      if (v[k]) kernel_valid.push_back(inherited[k]);
      earlier.push_back(inherited[k]);
    }
    for (int64_t i = 0; i < n_others; ++i)
      compare_max(result, where + " other=" + std::to_string(others[i]), cr[i], ca[i], kernel_valid, ref, others[i],
                  c.data == Data::Identical || c.data == Data::ZeroRows);
  }
  return result;
}

Result check_case(const gpu::Backend& backend, const Case& c, double theta, uint64_t seed) {
  Result r = check_prior_max(backend, c, seed);
  r.merge(check_cascade_validate(backend, c, theta, seed + 1));
  return r;
}

std::vector<Case> standard_cases(bool quick) {
  std::vector<Case> cases;
  const std::vector<int64_t> Ts = quick ? std::vector<int64_t>{1, 65, 200} : std::vector<int64_t>{1, 2, 63, 64, 65, 200, 333};
  const std::vector<int64_t> ds = quick ? std::vector<int64_t>{7, 100} : std::vector<int64_t>{1, 7, 64, 100};
  for (DType dtype : {DType::F32, DType::F16, DType::BF16})
    for (int64_t T : Ts)
      for (int64_t d : ds) {
        const int splits = static_cast<int>((T + d) % 3);  // 0 (auto), 1, 2 in turn
        cases.push_back({T, d, dtype, Data::Clustered, false, splits});
        if (!quick || T == 65) cases.push_back({T, d, dtype, Data::Random, true, splits == 0 ? 3 : 0});
      }
  for (DType dtype : {DType::F32, DType::F16, DType::BF16}) {
    cases.push_back({130, 33, dtype, Data::Identical, false, 0});
    cases.push_back({97, 16, dtype, Data::ZeroRows, false, 2});
    cases.push_back({97, 16, dtype, Data::ZeroRows, true, 0});
  }
  return cases;
}

}  // namespace cascade::gpu_checks
