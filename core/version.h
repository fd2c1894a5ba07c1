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
// Runs one small GEMM (so the BLAS is loaded), then reads /proc/self/maps.
BlasInfo detect_blas();

}  // namespace cascade
