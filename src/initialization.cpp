#include "backprop/initialization.hpp"

#include <cmath>

#include "backprop/error.hpp"

namespace backprop {

std::string to_string(Initialization initialization) {
  return initialization == Initialization::large ? "large" : "scaled";
}

Initialization parse_initialization(std::string_view name) {
  if (name == "large") return Initialization::large;
  if (name == "scaled") return Initialization::scaled;
  throw InputError("unknown initialisation '" + std::string(name) +
                   "': use large (N(0,1)) or scaled (N(0,1/n_in))");
}

template <typename T>
void initialize(Network<T>& network, Initialization initialization, Rng& rng) {
  for (int l = 0; l < network.layer_count(); ++l) {
    auto& layer = network.layer(l);
    const double weight_sd =
        initialization == Initialization::scaled ? 1.0 / std::sqrt(layer.inputs()) : 1.0;
    for (Eigen::Index i = 0; i < layer.weights.size(); ++i) {
      layer.weights.data()[i] = static_cast<T>(weight_sd * rng.normal());
    }
    for (Eigen::Index j = 0; j < layer.biases.size(); ++j) {
      layer.biases[j] = static_cast<T>(rng.normal());
    }
  }
}

template void initialize<float>(Network<float>&, Initialization, Rng&);
template void initialize<double>(Network<double>&, Initialization, Rng&);

}  // namespace backprop
