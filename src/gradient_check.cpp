#include "backprop/gradient_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace backprop {

std::vector<LayerGradientCheck> gradient_check(Network<double>& network, const Matrix<double>& x,
                                               const Matrix<double>& y,
                                               const GradientCheckOptions& options) {
  const Regularization& penalty = options.regularization;
  const long n = options.training_size;
  network.backprop(x, y);
  penalty.add_gradient(network, n);
  const Vector<double> backpropagated = network.gradients();
  auto theta = network.parameters();
  const double h = options.epsilon;

  std::vector<LayerGradientCheck> results;
  for (int l = 0; l < network.layer_count(); ++l) {
    LayerGradientCheck check;
    check.layer = l + 1;
    const long first = network.parameter_offset(l);
    const long count =
        DenseLayer<double>::parameter_count(network.layer(l).inputs(), network.layer(l).outputs());
    check.parameters = count;
    for (long i = first; i < first + count; ++i) {
      const double saved = theta[i];
      const auto cost_at = [&](double step) {
        theta[i] = saved + step;
        return network.cost(x, y) + penalty.cost(network, n);
      };
      // The five-point centred difference
      //   C'(theta) = [C(-2h) - 8 C(-h) + 8 C(+h) - C(+2h)] / 12h + O(h^4):
      // its truncation error is small enough at a step h (1e-3) large enough
      // that rounding in C, about 1e-16 C / h, stays near 1e-13.
      const double numeric =
          (cost_at(-2 * h) - 8 * cost_at(-h) + 8 * cost_at(h) - cost_at(2 * h)) / (12 * h);
      theta[i] = saved;
      const double analytic = backpropagated[i];
      const double absolute = std::abs(analytic - numeric);
      const double scale = std::max({std::abs(analytic), std::abs(numeric), options.floor});
      check.max_absolute_error = std::max(check.max_absolute_error, absolute);
      check.max_relative_error = std::max(check.max_relative_error, absolute / scale);
    }
    results.push_back(check);
  }
  return results;
}

void random_batch(Rng& rng, int inputs, int outputs, int examples, Matrix<double>& x,
                  Matrix<double>& y) {
  x.resize(inputs, examples);
  y.setZero(outputs, examples);
  for (int c = 0; c < examples; ++c) {
    for (int r = 0; r < inputs; ++r) x(r, c) = rng.uniform();
    y(static_cast<Eigen::Index>(rng.below(static_cast<std::uint64_t>(outputs))), c) = 1.0;
  }
}

}  // namespace backprop
