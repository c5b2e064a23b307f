#include "backprop/prediction.hpp"

#include <string>
#include <utility>

#include "backprop/error.hpp"

namespace backprop {

template <typename T>
Matrix<T> predict(const Network<T>& network, const std::type_identity_t<ConstMatrixRef<T>>& x) {
  if (x.rows() != network.spec().inputs()) {
    throw InputError("the input has " + std::to_string(x.rows()) +
                     " values per example but the network takes " +
                     std::to_string(network.spec().inputs()));
  }
  Matrix<T> a = x;
  Matrix<T> z;
  for (int l = 0; l < network.layer_count(); ++l) {
    const DenseLayer<T>& layer = network.layer(l);
    // Z^l = W^l A^{l-1} + b^l 1^T   (eq. 25, all examples at once)
    z.noalias() = layer.weights * a;
    z.colwise() += layer.biases;
    // A^l = sigma(Z^l)
    activate(layer.activation(), z, a);
  }
  return a;
}

template Matrix<float> predict<float>(const Network<float>&, const ConstMatrixRef<float>&);
template Matrix<double> predict<double>(const Network<double>&, const ConstMatrixRef<double>&);

}  // namespace backprop
