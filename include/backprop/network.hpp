// A feedforward network: an ordered list of dense layers and a cost.
//
// Notation follows Nielsen's book. sizes = [n_0, n_1, ..., n_L]: n_0 inputs,
// then the width of each layer. Layer l (1-based in the book, index l-1
// here) holds W^l and b^l. All parameters live in one contiguous buffer,
// all gradients in another of the same layout, so that an optimiser step,
// a save, a gradient check or an allreduce each touch a single array.
#pragma once

#include <vector>

#include "backprop/activation.hpp"
#include "backprop/cost.hpp"
#include "backprop/dense_layer.hpp"
#include "backprop/matrix.hpp"
#include "backprop/rng.hpp"

namespace backprop {

// Dropout during training: rates[l] is the probability of dropping each
// output of hidden layer l + 1 (0 = none; the output layer is never
// dropped); the masks are drawn from rng.
struct Dropout {
  std::vector<double> rates;
  Rng* rng = nullptr;

  bool active() const;
  // Throws InputError unless there is one rate per layer, each in [0, 1),
  // and the output layer's is 0.
  void validate(int layer_count) const;
};

struct NetworkSpec {
  std::vector<int> sizes;               // n_0 (inputs), n_1, ..., n_L
  std::vector<Activation> activations;  // sigma of layers 1..L
  Cost cost = Cost::quadratic;

  // The book's chapter-1 network: [784, 30, 10], sigmoid, quadratic cost.
  static NetworkSpec chapter1();
  // Throws InputError naming the problem: no layers, a width < 1, a count
  // of activations that differs from the number of layers, softmax on a
  // hidden layer, or a cost that does not fit the output activation.
  void validate() const;
  int inputs() const { return sizes.front(); }
  int outputs() const { return sizes.back(); }
};

template <typename T>
class Network {
 public:
  explicit Network(NetworkSpec spec);  // parameters start at zero
  Network(const Network& other);
  Network& operator=(const Network& other);
  Network(Network&&) noexcept = default;
  Network& operator=(Network&&) noexcept = default;
  ~Network() = default;

  const NetworkSpec& spec() const { return spec_; }
  int layer_count() const { return static_cast<int>(layers_.size()); }
  DenseLayer<T>& layer(int index) { return layers_[index]; }
  const DenseLayer<T>& layer(int index) const { return layers_[index]; }

  // The one parameter buffer (every W^l then b^l, layer by layer) and the
  // one gradient buffer of the same layout.
  VectorMap<T> parameters() { return {parameters_.data(), parameters_.size()}; }
  VectorMap<T> gradients() { return {gradients_.data(), gradients_.size()}; }
  Eigen::Map<const Vector<T>> parameters() const {
    return {parameters_.data(), parameters_.size()};
  }
  long parameter_count() const { return static_cast<long>(parameters_.size()); }
  // Offset of layer `index`'s slice in the buffers.
  long parameter_offset(int index) const { return offsets_[index]; }

  // backprop() for a first layer whose inputs are shared
  // (DenseLayer::share_inputs), for a caller that computes the first
  // layer's shares itself (the trainer, training.cpp): given its
  // forward_share() for both shares, finishes its forward pass, runs the
  // layers above, and fills every gradient but dC/dW^1, whose Delta^1
  // first_delta() then holds for the caller's backward_share(). Returns the
  // mean cost, as backprop() does.
  double backprop_above_first(const Matrix<T>& y, const Dropout* dropout = nullptr);
  const Matrix<T>& first_delta() const { return delta_; }

  // A^L for the columns of x. Valid until the next forward pass.
  const Matrix<T>& feedforward(const ConstMatrixRef<T>& x);

  // Mean cost C = (1/m) sum_x C_x over the m columns of x with targets y.
  double cost(const ConstMatrixRef<T>& x, const Matrix<T>& y);

  // Backpropagation over a mini-batch: fills gradients() with dC/dW^l and
  // dC/db^l of the mean cost over the m columns of x, and returns that cost.
  // With `dropout`, the forward pass drops hidden outputs and the gradient
  // is that of the thinned network, as in training.
  double backprop(const ConstMatrixRef<T>& x, const Matrix<T>& y, const Dropout* dropout = nullptr);

  // One step of plain gradient descent on the mini-batch, fused with
  // backpropagation: each layer's BP3 and BP4 products update its biases
  // and weights where they lie (Descent, dense_layer.hpp) instead of filling
  // gradients() for a separate step, which saves writing and reading back
  // every gradient. Returns the mean cost before the step; `finite` tells
  // whether every new parameter is finite.
  double descend(const ConstMatrixRef<T>& x, const Matrix<T>& y, const Dropout* dropout,
                 const Descent<T>& descent, bool& finite);

 private:
  void bind_layers();
  // backprop() (descent null) or descend(); returns the cost.
  double backpropagate(const ConstMatrixRef<T>& x, const Matrix<T>& y, const Dropout* dropout,
                       const Descent<T>* descent, bool& finite);
  void forward(const ConstMatrixRef<T>& x, const Dropout* dropout);
  // The forward pass after the first layer's own, with its dropout.
  void forward_above_first(const Dropout* dropout);
  // The cost, Delta^L, and BP1-BP4 for layers L..2 (the gradient, or with
  // `descent` the step), leaving Delta^1 in delta_; returns the cost.
  double backward_above_first(const Matrix<T>& y, const Descent<T>* descent, bool& finite);

  NetworkSpec spec_;
  // Eigen's allocator aligns both buffers to the widest vector register: an
  // unaligned buffer would let a vectorised loop peel a different number of
  // leading elements for different addresses, and (with Eigen's fast
  // approximations) change the last bits of results from run to run.
  Vector<T> parameters_;
  Vector<T> gradients_;
  std::vector<long> offsets_;
  std::vector<DenseLayer<T>> layers_;
  Matrix<T> delta_;       // Delta^l of the layer being differentiated
  Matrix<T> input_grad_;  // (W^{l+1})^T Delta^{l+1}
};

extern template class Network<float>;
extern template class Network<double>;

}  // namespace backprop
