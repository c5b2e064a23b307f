// A fully connected layer l: Z^l = W^l A^{l-1} + b^l 1^T, A^l = sigma(Z^l).
//
// The layer owns no parameters: W^l (n_l x n_{l-1}; row j, column k is
// w^l_jk) and b^l (n_l) are views into the network's one parameter buffer,
// and their gradients views into its one gradient buffer. It keeps Z^l and
// A^l of the last forward pass, which backward needs.
#pragma once

#include "backprop/activation.hpp"
#include "backprop/matrix.hpp"
#include "backprop/narrow_product.hpp"
#include "backprop/packed_product.hpp"
#include "backprop/parallel.hpp"
#include "backprop/rng.hpp"

namespace backprop {

// Plain gradient descent, fused with BP3 and BP4 (DenseLayer::descend):
//   W <- decay W - (eta/m) sum_x delta^x (a^x)^T    (eq. 20; eq. 93 with L2)
//   b <- b - (eta/m) sum_x delta^x                  (eq. 21)
// where decay = 1 - eta lambda / n with L2 regularization, 1 without.
template <typename T>
struct Descent {
  T eta;
  T decay = 1;
};

template <typename T>
class DenseLayer {
 public:
  // params and grads point at this layer's slice: W (column-major) then b.
  DenseLayer(int inputs, int outputs, Activation activation, T* params, T* grads);

  static long parameter_count(int inputs, int outputs) {
    return static_cast<long>(outputs) * inputs + outputs;
  }

  int inputs() const { return static_cast<int>(weights.cols()); }
  int outputs() const { return static_cast<int>(weights.rows()); }
  Activation activation() const { return activation_; }

  // For the first layer, whose input is the data: narrow mini-batches are
  // computed in the two shares of its inputs that input_cut() gives
  // (parallel.hpp), each on its own thread, both in eq. 25 and in BP4.
  //   Z^1 = W^1_a X_a + W^1_b X_b + b^1 1^T
  // (the shares' sums added, then the biases), with any thread count. Each
  // share's columns of W^1 and rows of X stay in one core's caches; no
  // other layer has a gradient to pass down that would need them all.
  void share_inputs() { input_cut_ = input_cut(weights.cols()); }
  // The first input of the second share; inputs() if the layer is not shared.
  Eigen::Index shared_input_cut() const { return input_cut_; }
  // Whether a product with these inputs goes to the two input shares.
  bool shared(const ConstMatrixRef<T>& input) const {
    return input_cut_ < weights.cols() && input.cols() <= kNarrowColumns;
  }
  // The inputs [begin, end) of share 0 or 1.
  IndexRange input_share(int share) const;

  // forward() and backward() of a shared layer in parts, for a caller that
  // runs each share where it likes (the trainer, training.cpp): forward()
  // is begin_shared_forward(m), forward_share() for shares 0 and 1, then
  // finish_shared_forward(); backward()'s BP4 is backward_share() for both
  // (its BP3 is bias_backward()).
  void begin_shared_forward(Eigen::Index m);
  void forward_share(int share, const ConstMatrixRef<T>& input);
  void finish_shared_forward();
  void backward_share(int share, const Matrix<T>& delta, const ConstMatrixRef<T>& input);
  // BP3 alone: dC/db^l = Delta^l 1 / m.
  void bias_backward(const Matrix<T>& delta);

  // Z = W A_in + b 1^T, A = sigma(Z). Returns A, valid until the next call.
  const Matrix<T>& forward(const ConstMatrixRef<T>& input);

  // Inverted dropout of the last forward pass's outputs (training only):
  // each a_j is kept with probability 1 - rate and then scaled by
  // 1 / (1 - rate), so its expectation is unchanged and evaluation needs no
  // rescaling. The mask, drawn from `rng`, holds 0 or 1 / (1 - rate).
  void drop_out(double rate, Rng& rng);
  // What the next layer sees: A, or A (.) mask after drop_out.
  const Matrix<T>& output() const { return dropped_ ? dropped_output_ : a_; }
  bool dropped() const { return dropped_; }
  const Matrix<T>& dropout_mask() const { return mask_; }

  // Given Delta^l = dC_x/dZ^l for each example of the last forward pass:
  //   BP3  dC/db^l = Delta^l 1 / m
  //   BP4  dC/dW^l = Delta^l (A^{l-1})^T / m
  // and, if input_grad is not null, the first factor of BP2,
  //   dC_x/dA^{l-1} = (W^l)^T Delta^l,
  // which the layer below multiplies by its own sigma'(Z^{l-1}).
  void backward(const Matrix<T>& delta, const ConstMatrixRef<T>& input, Matrix<T>* input_grad);

  // The same, with the step of plain gradient descent taken at once: BP3
  // and BP4's products update b^l and W^l where they lie (Descent above),
  // so no gradient is written and read back. input_grad is computed first,
  // from the weights of the forward pass. Returns whether every new weight
  // and bias is finite.
  bool descend(const Matrix<T>& delta, const ConstMatrixRef<T>& input, Matrix<T>* input_grad,
               const Descent<T>& descent);

  const Matrix<T>& z() const { return z_; }
  const Matrix<T>& a() const { return a_; }

  MatrixMap<T> weights;
  VectorMap<T> biases;
  MatrixMap<T> weight_gradient;
  VectorMap<T> bias_gradient;

 private:
  // target = scale Delta A^T + beta target, in row blocks; whether all the
  // values written are finite.
  bool outer_product(const Matrix<T>& delta, const ConstMatrixRef<T>& input, T scale, T beta,
                     MatrixMap<T>& target);
  // The same for a layer of few neurons (an output layer): computed as the
  // transpose A Delta^T, which reads A where it lies instead of packing all
  // of A^T for a product of a few rows. Each element is the same chain of
  // fused multiply-adds, so the result is the same to the bit.
  bool outer_product_transposed(const Matrix<T>& delta, const ConstMatrixRef<T>& input, T scale,
                                T beta, MatrixMap<T>& target);
  // input_grad = (W^l)^T Delta^l.
  void pass_down(const Matrix<T>& delta, Matrix<T>& input_grad);

  Activation activation_;
  Eigen::Index input_cut_;
  Matrix<T> z_;
  Matrix<T> shared_sum_;  // the second input share's W^1_b X_b
  Matrix<T> a_;
  bool dropped_ = false;
  Matrix<T> mask_;
  Matrix<T> dropped_output_;
  // The right factor of the product being computed, packed once for all row
  // blocks (wide mini-batches only: packed_product.hpp).
  PackedRight<T> packed_;
  // A Delta^T, for outer_product_transposed.
  Matrix<T> transposed_;
};

}  // namespace backprop
