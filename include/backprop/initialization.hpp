// Initial weights and biases, drawn from the run's generator.
#pragma once

#include <string>
#include <string_view>

#include "backprop/network.hpp"
#include "backprop/rng.hpp"

namespace backprop {

enum class Initialization {
  large,   // weights and biases N(0, 1): the book's chapter 1
  scaled,  // weights N(0, 1/n_in), biases N(0, 1): the book's chapter 3
  xavier,  // weights N(0, 2/(n_in + n_out)), biases 0: Glorot and Bengio 2010
  he       // weights N(0, 2/n_in), biases 0: He et al. 2015, for ReLU layers
};

std::string to_string(Initialization initialization);
Initialization parse_initialization(std::string_view name);

// Draws every parameter, layer by layer (W^l column by column, then b^l).
// The draws are made in double and rounded to T, so a float and a double
// network from the same seed start from the same values up to rounding.
template <typename T>
void initialize(Network<T>& network, Initialization initialization, Rng& rng);

}  // namespace backprop
