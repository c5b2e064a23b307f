// OpenBLAS's sgemm, loaded at run time from libopenblas.so.0 where the system has it, so that
// the bench programs need no BLAS to build: the products they time it on, and the loader.
#pragma once

#include <dlfcn.h>

#include <cstdlib>
#include <string>

#include "backprop/matrix.hpp"

namespace backprop::bench {

enum class Op { nn, nt, tn };  // C = A B, C = A B^T, C = A^T B

struct GemmShape {
  std::string what;
  int m, n, k;  // C is m x n, the inner dimension k
  Op op = Op::nn;
};

// OpenBLAS's Fortran sgemm_ and its controls, from libopenblas.so.0 if it can be loaded. Which
// kernels it runs depends on the CPU it detects (openblas_get_corename), which the environment
// variable OPENBLAS_CORETYPE overrides.
class OpenBlas {
 public:
  using Sgemm = void (*)(const char*, const char*, const int*, const int*, const int*, const float*,
                         const float*, const int*, const float*, const int*, const float*, float*,
                         const int*);

  // core: the OPENBLAS_CORETYPE to load it with; "env": the environment's; "none": do not load
  // OpenBLAS (the peak is then Eigen's); empty: no OPENBLAS_CORETYPE, so that
  // OpenBLAS picks its kernels for this CPU itself (an OPENBLAS_CORETYPE in the environment can
  // hold it back: this machine's sets Haswell, AVX2, on a CPU with AVX-512).
  explicit OpenBlas(const std::string& core) {
    if (core == "none") return;  // Eigen only
    const char* environment = std::getenv("OPENBLAS_CORETYPE");
    const std::string saved = environment != nullptr ? environment : "";
    if (core != "env") {
      if (core.empty()) {
        unsetenv("OPENBLAS_CORETYPE");
      } else {
        setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
      }
    }
    handle_ = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (environment != nullptr) {  // the environment as it was, for whatever runs next
      setenv("OPENBLAS_CORETYPE", saved.c_str(), 1);
    } else {
      unsetenv("OPENBLAS_CORETYPE");
    }
    if (core == "env") {
      chosen_ = environment != nullptr ? " (OPENBLAS_CORETYPE=" + saved + ", the environment's)"
                                       : " (chosen by OpenBLAS)";
    } else if (core.empty()) {
      chosen_ = " (chosen by OpenBLAS" + (environment != nullptr
                                              ? "; the environment's OPENBLAS_CORETYPE=" + saved +
                                                    " not used for this measurement)"
                                              : std::string(")"));
    } else {
      chosen_ = " (OPENBLAS_CORETYPE=" + core + " for this measurement)";
    }
    if (handle_ == nullptr) return;
    sgemm_ = reinterpret_cast<Sgemm>(dlsym(handle_, "sgemm_"));
    auto set_threads = reinterpret_cast<void (*)(int)>(dlsym(handle_, "openblas_set_num_threads"));
    auto corename = reinterpret_cast<char* (*)()>(dlsym(handle_, "openblas_get_corename"));
    auto config = reinterpret_cast<char* (*)()>(dlsym(handle_, "openblas_get_config"));
    if (set_threads != nullptr) set_threads(1);
    if (corename != nullptr) core_ = corename();
    if (config != nullptr) config_ = config();
  }
  OpenBlas(const OpenBlas&) = delete;
  OpenBlas& operator=(const OpenBlas&) = delete;
  ~OpenBlas() {
    if (handle_ != nullptr) dlclose(handle_);
  }

  bool available() const { return sgemm_ != nullptr; }
  std::string core() const { return core_ + chosen_; }
  const std::string& config() const { return config_; }

  // C = op(A) op(B), column-major, as the shape says.
  void multiply(const GemmShape& shape, const Matrix<float>& a, const Matrix<float>& b,
                Matrix<float>& c) const {
    const char op_a = shape.op == Op::tn ? 'T' : 'N';
    const char op_b = shape.op == Op::nt ? 'T' : 'N';
    const int lda = static_cast<int>(a.rows());
    const int ldb = static_cast<int>(b.rows());
    const int ldc = static_cast<int>(c.rows());
    const float one = 1;
    const float zero = 0;
    sgemm_(&op_a, &op_b, &shape.m, &shape.n, &shape.k, &one, a.data(), &lda, b.data(), &ldb, &zero,
           c.data(), &ldc);
  }

 private:
  void* handle_ = nullptr;
  Sgemm sgemm_ = nullptr;
  std::string core_ = "?";
  std::string chosen_;
  std::string config_;
};

}  // namespace backprop::bench
