#include "backprop/initialization.hpp"

#include <array>
#include <cmath>
#include <utility>

#include "backprop/error.hpp"

namespace backprop {

namespace {

constexpr std::array<std::pair<Initialization, const char*>, 4> kNames{{
    {Initialization::large, "large"},
    {Initialization::scaled, "scaled"},
    {Initialization::xavier, "xavier"},
    {Initialization::he, "he"},
}};

// Standard deviation of the weights of a layer with these fan-in and fan-out.
double weight_deviation(Initialization initialization, int inputs, int outputs) {
  switch (initialization) {
    case Initialization::large:
      return 1.0;
    case Initialization::scaled:
      return 1.0 / std::sqrt(inputs);
    case Initialization::xavier:
      return std::sqrt(2.0 / (inputs + outputs));
    case Initialization::he:
      return std::sqrt(2.0 / inputs);
  }
  return 1.0;
}

}  // namespace

std::string to_string(Initialization initialization) {
  for (const auto& [value, name] : kNames) {
    if (value == initialization) return name;
  }
  return "unknown";
}

Initialization parse_initialization(std::string_view name) {
  for (const auto& [value, known] : kNames) {
    if (name == known) return value;
  }
  throw InputError("unknown initialisation '" + std::string(name) +
                   "': use large (N(0,1)), scaled (N(0,1/n_in)), xavier or he");
}

template <typename T>
void initialize(Network<T>& network, Initialization initialization, Rng& rng) {
  for (int l = 0; l < network.layer_count(); ++l) {
    auto& layer = network.layer(l);
    const double weight_sd = weight_deviation(initialization, layer.inputs(), layer.outputs());
    // The book draws biases from N(0, 1); Glorot and He start them at zero.
    const bool zero_biases =
        initialization == Initialization::xavier || initialization == Initialization::he;
    for (Eigen::Index i = 0; i < layer.weights.size(); ++i) {
      layer.weights.data()[i] = static_cast<T>(weight_sd * rng.normal());
    }
    for (Eigen::Index j = 0; j < layer.biases.size(); ++j) {
      layer.biases[j] = zero_biases ? T(0) : static_cast<T>(rng.normal());
    }
  }
}

template void initialize<float>(Network<float>&, Initialization, Rng&);
template void initialize<double>(Network<double>&, Initialization, Rng&);

}  // namespace backprop
