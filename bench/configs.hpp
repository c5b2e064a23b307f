// The three benchmark configurations of issue 4, the arithmetic they need, and the median
// both bench programs report.
//
//   A  [784,30,10] sigmoid, quadratic cost, eta 3.0, mini-batch 10, N(0,1) init (chapter 1)
//   B  [784,100,10] sigmoid, cross-entropy, eta 0.5, mini-batch 10, N(0,1/n_in) init
//   C  [784,1024,1024,10] ReLU + softmax, log-likelihood, eta 0.1, mini-batch 128, scaled init
//
// The work counted is the matrix products only ("the exact work"), per example:
//   forward       2 sum_l n_l n_{l-1}          Z^l = W^l A^{l-1}
//   weight grads  2 sum_l n_l n_{l-1}          BP4: Delta^l (A^{l-1})^T
//   input grads   2 sum_{l>=2} n_l n_{l-1}     BP2: (W^l)^T Delta^l, none for the input pixels
// Biases, activations, the cost and the SGD step are O(n_l) or O(parameters / m) per example
// and are not counted.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "backprop/initialization.hpp"
#include "backprop/network.hpp"

namespace backprop::bench {

struct BenchConfig {
  std::string name;  // "A", "B", "C"
  NetworkSpec spec;
  Initialization initialization = Initialization::large;
  double eta = 0;
  int mini_batch = 0;
};

inline std::vector<BenchConfig> bench_configs() {
  using enum Activation;
  return {
      {"A", {{784, 30, 10}, {sigmoid, sigmoid}, Cost::quadratic}, Initialization::large, 3.0, 10},
      {"B",
       {{784, 100, 10}, {sigmoid, sigmoid}, Cost::cross_entropy},
       Initialization::scaled,
       0.5,
       10},
      {"C",
       {{784, 1024, 1024, 10}, {relu, relu, softmax}, Cost::log_likelihood},
       Initialization::scaled,
       0.1,
       128},
  };
}

// Floating-point operations per example of the matrix products of one SGD step.
struct Work {
  double forward = 0;
  double weight_gradients = 0;
  double input_gradients = 0;
  double total() const { return forward + weight_gradients + input_gradients; }
};

inline Work work_per_example(const std::vector<int>& sizes) {
  Work work;
  for (std::size_t l = 1; l < sizes.size(); ++l) {
    const double products = static_cast<double>(sizes[l]) * sizes[l - 1];
    work.forward += 2 * products;
    work.weight_gradients += 2 * products;
    if (l >= 2) work.input_gradients += 2 * products;
  }
  return work;
}

// The median of a list of timings or rates (0 for none).
inline double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t half = values.size() / 2;
  return values.size() % 2 == 1 ? values[half] : (values[half - 1] + values[half]) / 2;
}

inline std::string describe(const NetworkSpec& spec) {
  std::string text = "[";
  for (std::size_t i = 0; i < spec.sizes.size(); ++i) {
    text += (i ? "," : "") + std::to_string(spec.sizes[i]);
  }
  text += "] ";
  for (std::size_t l = 0; l < spec.activations.size(); ++l) {
    text += (l ? "," : "") + to_string(spec.activations[l]);
  }
  return text + ", " + to_string(spec.cost) + " cost";
}

}  // namespace backprop::bench
