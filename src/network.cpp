#include "backprop/network.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "backprop/error.hpp"

namespace backprop {

bool Dropout::active() const {
  return std::ranges::any_of(rates, [](double rate) { return rate > 0; });
}

void Dropout::validate(int layer_count) const {
  if (rates.empty()) return;
  if (static_cast<int>(rates.size()) != layer_count) {
    throw InputError("--dropout gives " + std::to_string(rates.size()) + " rates for " +
                     std::to_string(layer_count) +
                     " layers: give one per layer after the input, 0 for the output layer");
  }
  for (double rate : rates) {
    if (!(rate >= 0 && rate < 1)) {
      throw InputError("a --dropout rate must be in [0, 1), got " + number_text(rate));
    }
  }
  if (rates.back() != 0) throw InputError("--dropout on the output layer must be 0");
}

NetworkSpec NetworkSpec::chapter1() {
  return {{784, 30, 10}, {Activation::sigmoid, Activation::sigmoid}, Cost::quadratic};
}

void NetworkSpec::validate() const {
  if (sizes.size() < 2) {
    throw InputError(
        "the network has no layers: give the input size and at least one layer, e.g. "
        "--layers 784,30,10");
  }
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] < 1) {
      throw InputError("layer size " + std::to_string(sizes[i]) + " at position " +
                       std::to_string(i) + " of --layers must be at least 1");
    }
  }
  // Refused here, before a buffer is allocated: a typo such as 1000000 for
  // 1000 would otherwise ask for terabytes. 2^31 parameters are 8 GiB in
  // float, and training keeps the gradients and the optimizer's state besides.
  constexpr long kMaxParameters = (long{1} << 31) - 1;
  long parameters = 0;
  for (std::size_t i = 0; i + 1 < sizes.size() && parameters <= kMaxParameters; ++i) {
    parameters += static_cast<long>(sizes[i + 1]) * (static_cast<long>(sizes[i]) + 1);
  }
  if (parameters > kMaxParameters) {
    throw InputError(
        "--layers asks for more than 2^31 - 1 parameters (8 GiB in float); use "
        "narrower layers");
  }
  const std::size_t layers = sizes.size() - 1;
  if (activations.size() != layers) {
    throw InputError("--activations gives " + std::to_string(activations.size()) +
                     " activations for " + std::to_string(layers) +
                     " layers: give one, or one per layer after the input");
  }
  for (std::size_t l = 0; l + 1 < layers; ++l) {
    if (activations[l] == Activation::softmax) {
      throw InputError("softmax is only allowed on the output layer, not on hidden layer " +
                       std::to_string(l + 1));
    }
  }
  check_compatible(cost, activations.back());
}

template <typename T>
Network<T>::Network(NetworkSpec spec) : spec_(std::move(spec)) {
  spec_.validate();
  long total = 0;
  for (std::size_t l = 0; l + 1 < spec_.sizes.size(); ++l) {
    offsets_.push_back(total);
    total += DenseLayer<T>::parameter_count(spec_.sizes[l], spec_.sizes[l + 1]);
  }
  parameters_ = Vector<T>::Zero(total);
  gradients_ = Vector<T>::Zero(total);
  bind_layers();
}

template <typename T>
Network<T>::Network(const Network& other)
    : spec_(other.spec_),
      parameters_(other.parameters_),
      gradients_(other.gradients_),
      offsets_(other.offsets_) {
  bind_layers();
}

template <typename T>
Network<T>& Network<T>::operator=(const Network& other) {
  if (this != &other) {
    Network copy(other);
    *this = std::move(copy);
  }
  return *this;
}

template <typename T>
void Network<T>::bind_layers() {
  // The layers are views: they must point into this object's buffers.
  layers_.clear();
  for (std::size_t l = 0; l < offsets_.size(); ++l) {
    layers_.emplace_back(spec_.sizes[l], spec_.sizes[l + 1], spec_.activations[l],
                         parameters_.data() + offsets_[l], gradients_.data() + offsets_[l]);
  }
  if (!layers_.empty()) layers_.front().share_inputs();
}

template <typename T>
const Matrix<T>& Network<T>::feedforward(const ConstMatrixRef<T>& x) {
  forward(x, nullptr);
  return layers_.back().a();
}

template <typename T>
void Network<T>::forward(const ConstMatrixRef<T>& x, const Dropout* dropout) {
  layers_.front().forward(x);
  forward_above_first(dropout);
}

template <typename T>
void Network<T>::forward_above_first(const Dropout* dropout) {
  const bool dropping = dropout != nullptr && dropout->active();
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    auto& layer = layers_[l];
    if (l > 0) layer.forward(layers_[l - 1].output());
    if (dropping && dropout->rates[l] > 0) layer.drop_out(dropout->rates[l], *dropout->rng);
  }
}

template <typename T>
double Network<T>::cost(const ConstMatrixRef<T>& x, const Matrix<T>& y) {
  feedforward(x);
  const auto& output = layers_.back();
  return cost_value(spec_.cost, output.activation(), output.z(), output.a(), y);
}

template <typename T>
double Network<T>::backprop(const ConstMatrixRef<T>& x, const Matrix<T>& y,
                            const Dropout* dropout) {
  bool finite = true;
  return backpropagate(x, y, dropout, nullptr, finite);
}

template <typename T>
double Network<T>::descend(const ConstMatrixRef<T>& x, const Matrix<T>& y, const Dropout* dropout,
                           const Descent<T>& descent, bool& finite) {
  return backpropagate(x, y, dropout, &descent, finite);
}

template <typename T>
double Network<T>::backpropagate(const ConstMatrixRef<T>& x, const Matrix<T>& y,
                                 const Dropout* dropout, const Descent<T>* descent, bool& finite) {
  forward(x, dropout);
  const double cost = backward_above_first(y, descent, finite);
  if (descent == nullptr) {
    layers_.front().backward(delta_, x, nullptr);
  } else if (!layers_.front().descend(delta_, x, nullptr, *descent)) {
    finite = false;
  }
  return cost;
}

template <typename T>
double Network<T>::backprop_above_first(const Matrix<T>& y, const Dropout* dropout) {
  layers_.front().finish_shared_forward();
  forward_above_first(dropout);
  bool finite = true;
  const double cost = backward_above_first(y, nullptr, finite);
  layers_.front().bias_backward(delta_);
  return cost;
}

template <typename T>
double Network<T>::backward_above_first(const Matrix<T>& y, const Descent<T>* descent,
                                        bool& finite) {
  const auto& output = layers_.back();
  const double cost = cost_value(spec_.cost, output.activation(), output.z(), output.a(), y);

  // BP1: Delta^L = grad_a C (.) sigma'(Z^L)
  output_delta(spec_.cost, output.activation(), output.z(), output.a(), y, delta_);

  // BP3 and BP4 for layer l (the gradient, or the step of descent), and
  // (W^l)^T Delta^l for the layer below.
  finite = true;
  for (int l = layer_count() - 1; l > 0; --l) {
    const auto& below = layers_[l - 1];
    if (descent == nullptr) {
      layers_[l].backward(delta_, below.output(), &input_grad_);
    } else if (!layers_[l].descend(delta_, below.output(), &input_grad_, *descent)) {
      finite = false;
    }
    // A dropped output passed nothing on, so it receives no gradient.
    if (below.dropped()) input_grad_.array() *= below.dropout_mask().array();
    // BP2: Delta^{l-1} = ((W^l)^T Delta^l) (.) sigma'(Z^{l-1})
    multiply_by_derivative(below.activation(), below.z(), below.a(), input_grad_);
    std::swap(delta_, input_grad_);
  }
  return cost;
}

template class Network<float>;
template class Network<double>;

}  // namespace backprop
