// XOR, the problem a single perceptron cannot solve, learned by a 2-3-1
// sigmoid network with the installed backprop library.
//
// The four examples are a regression data set: the target is the number
// 0 or 1 itself, which the one sigmoid output learns to approach under the
// cross-entropy cost. Exits 0 if every output ends on the right side of 1/2.
#include <backprop/dataset.hpp>
#include <backprop/initialization.hpp>
#include <backprop/network.hpp>
#include <backprop/rng.hpp>
#include <backprop/training.hpp>
#include <backprop/version.hpp>
#include <cstdio>

int main() {
  backprop::Dataset xor_data;
  xor_data.values.resize(2, 4);
  xor_data.values << 0, 0, 1, 1,  //
      0, 1, 0, 1;
  xor_data.targets.resize(1, 4);
  xor_data.targets << 0, 1, 1, 0;
  xor_data.source = "the XOR truth table";

  backprop::NetworkSpec spec;
  spec.sizes = {2, 3, 1};
  spec.activations = {backprop::Activation::sigmoid, backprop::Activation::sigmoid};
  spec.cost = backprop::Cost::cross_entropy;
  backprop::Network<double> network(spec);
  backprop::Rng rng(3);
  backprop::initialize(network, backprop::Initialization::large, rng);

  backprop::TrainingOptions options;
  options.epochs = 2000;
  options.mini_batch_size = 4;  // the whole truth table each step
  options.learning_rate = 2.0;
  backprop::train(network, xor_data, options, rng);

  const backprop::Matrix<double> x = xor_data.values.cast<double>();
  const backprop::Matrix<double> a = network.feedforward(x);
  int right = 0;
  std::printf("backprop %s: a 2-3-1 sigmoid network after %d epochs\n", BACKPROP_VERSION,
              options.epochs);
  for (int i = 0; i < 4; ++i) {
    const bool ok = (a(0, i) > 0.5) == (xor_data.targets(0, i) > 0.5);
    right += ok ? 1 : 0;
    std::printf("  %g xor %g = %g: output %.4f %s\n", x(0, i), x(1, i), xor_data.targets(0, i),
                a(0, i), ok ? "right" : "WRONG");
  }
  std::printf("%d / 4 right\n", right);
  return right == 4 ? 0 : 1;
}
