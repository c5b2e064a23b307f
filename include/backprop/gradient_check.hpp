// Gradient checking: backpropagation against centred finite differences.
#pragma once

#include <vector>

#include "backprop/network.hpp"
#include "backprop/regularization.hpp"
#include "backprop/rng.hpp"

namespace backprop {

struct LayerGradientCheck {
  int layer = 0;                  // l = 1..L: the layer holding W^l and b^l
  long parameters = 0;            // number of parameters compared
  double max_relative_error = 0;  // max |g - g_fd| / max(|g|, |g_fd|, floor)
  double max_absolute_error = 0;  // max |g - g_fd|
};

struct GradientCheckOptions {
  double epsilon = 1e-3;          // step h of the difference quotient
  double floor = 1e-6;            // smallest denominator of the relative error
  Regularization regularization;  // checks C_0 + penalty when active
  long training_size = 1;         // the n of the penalty's lambda / n
};

// For every parameter theta of every layer, compares the backpropagated
// dC/dtheta with the five-point centred difference
//   [C(theta - 2h) - 8 C(theta - h) + 8 C(theta + h) - C(theta + 2h)] / 12h
// on the batch (x, y), in double precision. The network's parameters are restored afterwards.
std::vector<LayerGradientCheck> gradient_check(Network<double>& network, const Matrix<double>& x,
                                               const Matrix<double>& y,
                                               const GradientCheckOptions& options = {});

// A random batch to check on: inputs uniform in [0, 1) like pixels, one-hot
// targets of random classes.
void random_batch(Rng& rng, int inputs, int outputs, int examples, Matrix<double>& x,
                  Matrix<double>& y);

}  // namespace backprop
