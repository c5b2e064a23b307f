#include "options.hpp"

#include "backprop/error.hpp"

namespace backprop::cli {

NetworkSpec ArchitectureFlags::spec() const {
  NetworkSpec spec;
  spec.sizes = layers;
  const std::size_t layer_count = layers.empty() ? 0 : layers.size() - 1;
  // One activation applies to every layer; otherwise one per layer.
  if (activations.size() == 1) {
    spec.activations.assign(layer_count, parse_activation(activations.front()));
  } else {
    for (const auto& name : activations) spec.activations.push_back(parse_activation(name));
  }
  spec.cost = parse_cost(cost);
  spec.validate();
  return spec;
}

void add_architecture_flags(CLI::App& command, ArchitectureFlags& flags) {
  command
      .add_option("--layers", flags.layers,
                  "Layer sizes, input first, comma-separated: n_0,n_1,...,n_L")
      ->delimiter(',')
      ->capture_default_str();
  command
      .add_option("--activations", flags.activations,
                  "Activation of every layer (one name), or of each layer after the input "
                  "(comma-separated): sigmoid, tanh, relu, identity, softmax (output only)")
      ->delimiter(',')
      ->capture_default_str();
  command
      .add_option("--cost", flags.cost,
                  "Cost function: quadratic, cross-entropy (sigmoid or softmax outputs), "
                  "log-likelihood (softmax or sigmoid outputs)")
      ->capture_default_str();
}

}  // namespace backprop::cli
