#include "backprop/dense_layer.hpp"

#include <atomic>
#include <cmath>

#include "backprop/narrow_product.hpp"
#include "backprop/parallel.hpp"

namespace backprop {

namespace {

// A few examples go to the narrow kernels, which need no packing; more to the
// packed products, whose right factor is packed once before the row blocks.
template <typename T>
bool narrow(const ConstMatrixRef<T>& a) {
  return a.cols() <= kNarrowColumns;
}

// Whether eq. 25 for `neurons` neurons takes the narrow kernel: for few
// examples, or for so few neurons that packing A would cost as much as the
// product itself.
template <typename T>
bool narrow_forward(Eigen::Index neurons, const ConstMatrixRef<T>& a) {
  return narrow<T>(a) || neurons <= kNarrowRows;
}

// g = scale delta a^T + beta g (BP4, or with beta the update of W), for the
// rows of delta given; `packed` holds a^T if not narrow. Returns, when beta
// is not 0, the sum of what it wrote. The update always takes the packed
// product: the trainer fuses it only for wide mini-batches (training.cpp).
template <typename T, typename D, typename G>
T outer_product_rows(T scale, const D& delta, const ConstMatrixRef<T>& a,
                     const PackedRight<T>& packed, G&& g, T beta) {
  if (beta == T(0) && narrow<T>(a)) {
    narrow_outer_product(delta.data(), delta.outerStride(), delta.rows(), a.data(), a.outerStride(),
                         a.rows(), a.cols(), scale, g.data(), g.outerStride());
    return 0;
  }
  return packed_product(strided<T>(delta), packed, scale, g.data(), g.outerStride(), beta);
}

}  // namespace

template <typename T>
DenseLayer<T>::DenseLayer(int inputs, int outputs, Activation activation, T* params, T* grads)
    : weights(params, outputs, inputs),
      biases(params + static_cast<long>(outputs) * inputs, outputs),
      weight_gradient(grads, outputs, inputs),
      bias_gradient(grads + static_cast<long>(outputs) * inputs, outputs),
      activation_(activation),
      input_cut_(inputs) {}

template <typename T>
const Matrix<T>& DenseLayer<T>::forward(const ConstMatrixRef<T>& input) {
  if (shared(input)) {
    begin_shared_forward(input.cols());
    for_each_pinned_share(2, [&](int share) { forward_share(share, input); });
    finish_shared_forward();
    return a_;
  }
  z_.resize(weights.rows(), input.cols());
  a_.resize(weights.rows(), input.cols());
  dropped_ = false;
  const bool narrow_kernel = narrow_forward<T>(weights.rows(), input);
  if (!narrow_kernel) packed_.pack(strided<T>(input));
  const bool softmax = activation_ == Activation::softmax;
  // The packed product adds b^l, and takes ReLU's max(z, 0), as it stores
  // each value of Z^l (its epilogue).
  const bool rectified = !narrow_kernel && activation_ == Activation::relu;
  // Each block of neurons (rows) is independent; the blocks of a wide layer
  // run in parallel (parallel.hpp).
  const auto block = [&](Eigen::Index begin, Eigen::Index size) {
    auto z = z_.middleRows(begin, size);
    // Z^l = W^l A^{l-1} + b^l 1^T   (eq. 25, all examples at once)
    if (narrow_kernel) {
      const auto w = weights.middleRows(begin, size);
      narrow_product(w.data(), w.outerStride(), w.rows(), w.cols(), input.data(),
                     input.outerStride(), input.cols(), z.data(), z.outerStride());
      z.colwise() += biases.segment(begin, size);
    } else {
      packed_product(strided<T>(weights.middleRows(begin, size)), packed_, T(1), z.data(),
                     z.outerStride(), T(0),
                     Epilogue<T>{biases.data() + begin, rectified ? a_.data() + begin : nullptr});
    }
    // A^l = sigma(Z^l); softmax normalises whole columns, after the blocks.
    if (!softmax && !rectified) activate_rows<T>(activation_, z, a_.middleRows(begin, size));
  };
  for_each_block(weights.rows(), block);
  if (softmax) activate(activation_, z_, a_);
  return a_;
}

template <typename T>
IndexRange DenseLayer<T>::input_share(int share) const {
  return share == 0 ? IndexRange{0, input_cut_} : IndexRange{input_cut_, weights.cols()};
}

template <typename T>
void DenseLayer<T>::begin_shared_forward(Eigen::Index m) {
  z_.resize(weights.rows(), m);
  a_.resize(weights.rows(), m);
  shared_sum_.resize(weights.rows(), m);
  dropped_ = false;
}

template <typename T>
void DenseLayer<T>::forward_share(int share, const ConstMatrixRef<T>& input) {
  const IndexRange k = input_share(share);
  const Eigen::Index rows = weights.rows();
  T* sum = share == 0 ? z_.data() : shared_sum_.data();
  // W^1_s X_s: the columns [begin, end) of W^1 and those rows of X.
  narrow_product(weights.data() + k.begin * weights.outerStride(), weights.outerStride(), rows,
                 k.end - k.begin, input.data() + k.begin, input.outerStride(), input.cols(), sum,
                 rows);
}

template <typename T>
void DenseLayer<T>::finish_shared_forward() {
  z_ += shared_sum_;
  z_.colwise() += biases;
  if (activation_ == Activation::softmax) {
    activate(activation_, z_, a_);
  } else {
    activate_rows<T>(activation_, z_, a_);
  }
}

template <typename T>
void DenseLayer<T>::backward_share(int share, const Matrix<T>& delta,
                                   const ConstMatrixRef<T>& input) {
  const IndexRange k = input_share(share);
  const T inverse_m = T(1) / static_cast<T>(delta.cols());
  // BP4 for the share's columns of dC/dW^1, from its rows of X.
  narrow_outer_product(delta.data(), delta.outerStride(), delta.rows(), input.data() + k.begin,
                       input.outerStride(), k.end - k.begin, input.cols(), inverse_m,
                       weight_gradient.data() + k.begin * weight_gradient.outerStride(),
                       weight_gradient.outerStride());
}

template <typename T>
void DenseLayer<T>::drop_out(double rate, Rng& rng) {
  const double keep = 1.0 - rate;
  const T scale = static_cast<T>(1.0 / keep);
  mask_.resize(a_.rows(), a_.cols());
  for (Eigen::Index i = 0; i < mask_.size(); ++i) {
    mask_.data()[i] = rng.uniform() < keep ? scale : T(0);
  }
  dropped_output_ = a_.cwiseProduct(mask_);
  dropped_ = true;
}

template <typename T>
void DenseLayer<T>::backward(const Matrix<T>& delta, const ConstMatrixRef<T>& input,
                             Matrix<T>* input_grad) {
  const T inverse_m = T(1) / static_cast<T>(delta.cols());
  bias_backward(delta);
  // BP4: dC/dW^l = (1/m) sum_x delta^{x,l} (a^{x,l-1})^T
  if (shared(input)) {
    for_each_pinned_share(2, [&](int share) { backward_share(share, delta, input); });
  } else {
    outer_product(delta, input, inverse_m, T(0), weight_gradient);
  }
  if (input_grad != nullptr) pass_down(delta, *input_grad);
}

template <typename T>
void DenseLayer<T>::bias_backward(const Matrix<T>& delta) {
  // BP3: dC/db^l = (1/m) sum_x delta^{x,l}
  bias_gradient.noalias() = delta.rowwise().sum() * (T(1) / static_cast<T>(delta.cols()));
}

template <typename T>
bool DenseLayer<T>::descend(const Matrix<T>& delta, const ConstMatrixRef<T>& input,
                            Matrix<T>* input_grad, const Descent<T>& descent) {
  // BP2 needs W^l as it was in the forward pass: first, before the update.
  if (input_grad != nullptr) pass_down(delta, *input_grad);
  const T step = descent.eta / static_cast<T>(delta.cols());
  // b <- b - (eta/m) sum_x delta^{x,l}   (eq. 21, BP3)
  biases.noalias() -= step * delta.rowwise().sum();
  // W <- decay W - (eta/m) sum_x delta^{x,l} (a^{x,l-1})^T   (eq. 20 and 93, BP4)
  const bool weights_finite = outer_product(delta, input, -step, descent.decay, weights);
  return weights_finite && biases.allFinite();
}

template <typename T>
bool DenseLayer<T>::outer_product(const Matrix<T>& delta, const ConstMatrixRef<T>& input, T scale,
                                  T beta, MatrixMap<T>& target) {
  const bool packed = beta != T(0) || !narrow<T>(input);
  if (packed && weights.rows() <= kNarrowRows) {
    return outer_product_transposed(delta, input, scale, beta, target);
  }
  if (packed) packed_.pack(strided_transpose<T>(input));
  // Each block says whether what it wrote is finite: from its sum, or, if
  // that overflowed, element by element.
  std::atomic<bool> finite = true;
  const auto block = [&](Eigen::Index begin, Eigen::Index size) {
    auto rows = target.middleRows(begin, size);
    const T sum =
        outer_product_rows<T>(scale, delta.middleRows(begin, size), input, packed_, rows, beta);
    if (!std::isfinite(sum) && !rows.allFinite()) finite = false;
  };
  for_each_block(weights.rows(), block);
  return finite;
}

template <typename T>
bool DenseLayer<T>::outer_product_transposed(const Matrix<T>& delta, const ConstMatrixRef<T>& input,
                                             T scale, T beta, MatrixMap<T>& target) {
  // (Delta A^T)^T = A Delta^T, whose right factor Delta^T is a sliver or two
  // and whose left factor A is read where it lies.
  packed_.pack(strided_transpose<T>(delta));
  transposed_.resize(input.rows(), delta.rows());
  const StridedMatrix<T> a = strided<T>(input);
  for_each_block(input.rows(), [&](Eigen::Index begin, Eigen::Index size) {
    packed_product(a.middle_rows(begin, size), packed_, T(1), transposed_.data() + begin,
                   transposed_.outerStride());
  });
  // target = scale (A Delta^T)^T + beta target, with one rounding as the
  // packed product's last step makes it (a fused multiply-add where the
  // target has one).
  T sum = 0;
  for (Eigen::Index i = 0; i < target.cols(); ++i) {
    for (Eigen::Index j = 0; j < target.rows(); ++j) {
      T& value = target(j, i);
      const T product = transposed_(i, j);
      if (beta == T(0)) {
        value = scale * product;
      } else {
        value = std::fma(product, scale, beta == T(1) ? value : beta * value);
      }
      sum += value;
    }
  }
  return std::isfinite(sum) || target.allFinite();
}

template <typename T>
void DenseLayer<T>::pass_down(const Matrix<T>& delta, Matrix<T>& input_grad) {
  // BP2, first factor: (W^l)^T Delta^l, handed down to layer l-1, in blocks
  // of the layer below's neurons.
  if (delta.cols() <= kNarrowColumns) {
    // m <= 16 columns: Eigen's product reads W^T in place well enough (BP2
    // is the smallest of the three products when the inputs are pixels).
    if (block_count(weights.cols()) == 1) {
      input_grad.noalias() = weights.transpose() * delta;
    } else {
      input_grad.resize(weights.cols(), delta.cols());
      for_each_block(weights.cols(), [&](Eigen::Index begin, Eigen::Index size) {
        input_grad.middleRows(begin, size).noalias() =
            weights.middleCols(begin, size).transpose() * delta;
      });
    }
    return;
  }
  input_grad.resize(weights.cols(), delta.cols());
  packed_.pack(strided<T>(delta));
  const StridedMatrix<T> weights_transposed = strided_transpose<T>(weights);
  for_each_block(weights.cols(), [&](Eigen::Index begin, Eigen::Index size) {
    packed_product(weights_transposed.middle_rows(begin, size), packed_, T(1),
                   input_grad.data() + begin, input_grad.outerStride());
  });
}

template class DenseLayer<float>;
template class DenseLayer<double>;

}  // namespace backprop
