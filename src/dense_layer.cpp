#include "backprop/dense_layer.hpp"

namespace backprop {

template <typename T>
DenseLayer<T>::DenseLayer(int inputs, int outputs, Activation activation, T* params, T* grads)
    : weights(params, outputs, inputs),
      biases(params + static_cast<long>(outputs) * inputs, outputs),
      weight_gradient(grads, outputs, inputs),
      bias_gradient(grads + static_cast<long>(outputs) * inputs, outputs),
      activation_(activation) {}

template <typename T>
const Matrix<T>& DenseLayer<T>::forward(const ConstMatrixRef<T>& input) {
  // Z^l = W^l A^{l-1} + b^l 1^T   (eq. 25, all examples at once)
  z_.resize(weights.rows(), input.cols());
  z_.noalias() = weights * input;
  z_.colwise() += biases;
  // A^l = sigma(Z^l)
  activate(activation_, z_, a_);
  dropped_ = false;
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
  // BP3: dC/db^l = (1/m) sum_x delta^{x,l}
  bias_gradient.noalias() = delta.rowwise().sum() * inverse_m;
  // BP4: dC/dW^l = (1/m) sum_x delta^{x,l} (a^{x,l-1})^T
  weight_gradient.noalias() = inverse_m * delta * input.transpose();
  // BP2, first factor: (W^l)^T Delta^l, handed down to layer l-1.
  if (input_grad != nullptr) {
    input_grad->resize(weights.cols(), delta.cols());
    input_grad->noalias() = weights.transpose() * delta;
  }
}

template class DenseLayer<float>;
template class DenseLayer<double>;

}  // namespace backprop
