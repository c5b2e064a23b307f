#include "backprop/dense_layer.hpp"

#include "backprop/narrow_product.hpp"
#include "backprop/parallel.hpp"

namespace backprop {

namespace {

// z = w a: the narrow-batch kernel for a few examples, Eigen's product otherwise.
template <typename T, typename W, typename Z>
void multiply(const W& w, const ConstMatrixRef<T>& a, Z&& z) {
  if (a.cols() <= kNarrowColumns) {
    narrow_product(w.data(), w.outerStride(), w.rows(), w.cols(), a.data(), a.outerStride(),
                   a.cols(), z.data(), z.outerStride());
  } else {
    z.noalias() = w * a;
  }
}

// g = scale delta a^T, likewise.
template <typename T, typename D, typename G>
void multiply_transposed(T scale, const D& delta, const ConstMatrixRef<T>& a, G&& g) {
  if (a.cols() <= kNarrowColumns) {
    narrow_outer_product(delta.data(), delta.outerStride(), delta.rows(), a.data(), a.outerStride(),
                         a.rows(), a.cols(), scale, g.data(), g.outerStride());
  } else {
    g.noalias() = scale * delta * a.transpose();
  }
}

}  // namespace

template <typename T>
DenseLayer<T>::DenseLayer(int inputs, int outputs, Activation activation, T* params, T* grads)
    : weights(params, outputs, inputs),
      biases(params + static_cast<long>(outputs) * inputs, outputs),
      weight_gradient(grads, outputs, inputs),
      bias_gradient(grads + static_cast<long>(outputs) * inputs, outputs),
      activation_(activation) {}

template <typename T>
const Matrix<T>& DenseLayer<T>::forward(const ConstMatrixRef<T>& input) {
  z_.resize(weights.rows(), input.cols());
  a_.resize(weights.rows(), input.cols());
  dropped_ = false;
  if (block_count(weights.rows()) == 1) {
    // Z^l = W^l A^{l-1} + b^l 1^T   (eq. 25, all examples at once)
    multiply<T>(weights, input, z_);
    z_.colwise() += biases;
    // A^l = sigma(Z^l)
    activate(activation_, z_, a_);
    return a_;
  }
  const bool softmax = activation_ == Activation::softmax;
  // A wide layer: each block of neurons (rows) is independent, and the
  // blocks run in parallel (parallel.hpp).
  for_each_block(weights.rows(), [&](Eigen::Index begin, Eigen::Index size) {
    // Z^l = W^l A^{l-1} + b^l 1^T   (eq. 25, all examples at once)
    auto z = z_.middleRows(begin, size);
    multiply<T>(weights.middleRows(begin, size), input, z);
    z.colwise() += biases.segment(begin, size);
    // A^l = sigma(Z^l)
    if (!softmax) activate_rows<T>(activation_, z, a_.middleRows(begin, size));
  });
  if (softmax) activate(activation_, z_, a_);  // normalises whole columns
  return a_;
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
  if (block_count(weights.rows()) == 1) {
    // BP3: dC/db^l = (1/m) sum_x delta^{x,l}
    bias_gradient.noalias() = delta.rowwise().sum() * inverse_m;
    // BP4: dC/dW^l = (1/m) sum_x delta^{x,l} (a^{x,l-1})^T
    multiply_transposed<T>(inverse_m, delta, input, weight_gradient);
  } else {
    for_each_block(weights.rows(), [&](Eigen::Index begin, Eigen::Index size) {
      const auto delta_rows = delta.middleRows(begin, size);
      // BP3: dC/db^l = (1/m) sum_x delta^{x,l}
      bias_gradient.segment(begin, size).noalias() = delta_rows.rowwise().sum() * inverse_m;
      // BP4: dC/dW^l = (1/m) sum_x delta^{x,l} (a^{x,l-1})^T
      multiply_transposed<T>(inverse_m, delta_rows, input, weight_gradient.middleRows(begin, size));
    });
  }
  // BP2, first factor: (W^l)^T Delta^l, handed down to layer l-1, in blocks
  // of the layer below's neurons.
  if (input_grad != nullptr && block_count(weights.cols()) == 1) {
    input_grad->noalias() = weights.transpose() * delta;
  } else if (input_grad != nullptr) {
    input_grad->resize(weights.cols(), delta.cols());
    for_each_block(weights.cols(), [&](Eigen::Index begin, Eigen::Index size) {
      input_grad->middleRows(begin, size).noalias() =
          weights.middleCols(begin, size).transpose() * delta;
    });
  }
}

template class DenseLayer<float>;
template class DenseLayer<double>;

}  // namespace backprop
