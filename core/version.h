#pragma once
// Build and runtime facts for --version, the About box and benchmark headers.
#include <string>

namespace cascade {

std::string version();        // Cascade Lens version
std::string torch_version();  // LibTorch headers the build used
std::string compiler();

struct BlasInfo {
  std::string name;     // "OpenBLAS 0.3.21 (pthread)", "reference BLAS (netlib)", ...
  std::string path;     // the libblas.so.3 actually mapped into this process
  bool reference = false;  // the slow netlib implementation: warn the user
  double sgemm_gflops = 0; // measured on a 512×512×512 float GEMM through LibTorch
  int threads = 0;         // LibTorch intra-op threads
};
// LibTorch's intra-op threads and, when the BLAS is OpenBLAS, its threads too (at::set_num_threads
// alone leaves OpenBLAS at all cores; its results depend on its thread count, so a study that must
// be bit-identical across process layouts gives every process the same --threads).
void set_compute_threads(int threads);

// Runs one small GEMM (so the BLAS is loaded), then reads /proc/self/maps.
BlasInfo detect_blas();

}  // namespace cascade
