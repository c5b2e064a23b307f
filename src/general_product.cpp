#include "backprop/general_product.hpp"

#ifdef BACKPROP_OPENBLAS
#include <cblas.h>

#include <mutex>

// OpenBLAS's own controls; declared here because the cblas.h found first
// may be another implementation's.
extern "C" void openblas_set_num_threads(int threads);
extern "C" char* openblas_get_config();
#endif

namespace backprop {

#ifdef BACKPROP_OPENBLAS
namespace {

CBLAS_TRANSPOSE cblas_op(Op op) { return op == Op::identity ? CblasNoTrans : CblasTrans; }

// OpenBLAS runs every call on the calling thread: the trainer already splits
// the work into fixed blocks across its threads, and OpenBLAS's own threads
// would both oversubscribe the cores and change how a product is split.
void use_one_openblas_thread() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

}  // namespace

template <>
void general_product<float>(Op op_a, Op op_b, Eigen::Index rows, Eigen::Index columns,
                            Eigen::Index inner, float alpha, const float* a, Eigen::Index a_stride,
                            const float* b, Eigen::Index b_stride, float* c,
                            Eigen::Index c_stride) {
  use_one_openblas_thread();
  cblas_sgemm(CblasColMajor, cblas_op(op_a), cblas_op(op_b), static_cast<int>(rows),
              static_cast<int>(columns), static_cast<int>(inner), alpha, a,
              static_cast<int>(a_stride), b, static_cast<int>(b_stride), 0.0F, c,
              static_cast<int>(c_stride));
}

template <>
void general_product<double>(Op op_a, Op op_b, Eigen::Index rows, Eigen::Index columns,
                             Eigen::Index inner, double alpha, const double* a,
                             Eigen::Index a_stride, const double* b, Eigen::Index b_stride,
                             double* c, Eigen::Index c_stride) {
  use_one_openblas_thread();
  cblas_dgemm(CblasColMajor, cblas_op(op_a), cblas_op(op_b), static_cast<int>(rows),
              static_cast<int>(columns), static_cast<int>(inner), alpha, a,
              static_cast<int>(a_stride), b, static_cast<int>(b_stride), 0.0, c,
              static_cast<int>(c_stride));
}

const char* general_product_backend() { return openblas_get_config(); }

#else

template <typename T>
void general_product(Op op_a, Op op_b, Eigen::Index rows, Eigen::Index columns, Eigen::Index inner,
                     T alpha, const T* a, Eigen::Index a_stride, const T* b, Eigen::Index b_stride,
                     T* c, Eigen::Index c_stride) {
  using Stride = Eigen::OuterStride<>;
  using ConstMap = Eigen::Map<const Matrix<T>, Eigen::Unaligned, Stride>;
  const bool ta = op_a == Op::transpose;
  const bool tb = op_b == Op::transpose;
  const ConstMap a_map(a, ta ? inner : rows, ta ? rows : inner, Stride(a_stride));
  const ConstMap b_map(b, tb ? columns : inner, tb ? inner : columns, Stride(b_stride));
  Eigen::Map<Matrix<T>, Eigen::Unaligned, Stride> c_map(c, rows, columns, Stride(c_stride));
  if (ta && tb) {
    c_map.noalias() = alpha * a_map.transpose() * b_map.transpose();
  } else if (ta) {
    c_map.noalias() = alpha * a_map.transpose() * b_map;
  } else if (tb) {
    c_map.noalias() = alpha * a_map * b_map.transpose();
  } else {
    c_map.noalias() = alpha * a_map * b_map;
  }
}

template void general_product<float>(Op, Op, Eigen::Index, Eigen::Index, Eigen::Index, float,
                                     const float*, Eigen::Index, const float*, Eigen::Index, float*,
                                     Eigen::Index);
template void general_product<double>(Op, Op, Eigen::Index, Eigen::Index, Eigen::Index, double,
                                      const double*, Eigen::Index, const double*, Eigen::Index,
                                      double*, Eigen::Index);

const char* general_product_backend() { return "Eigen"; }

#endif

}  // namespace backprop
