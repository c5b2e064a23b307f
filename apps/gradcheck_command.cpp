// `backprop gradcheck`: compare backpropagation's gradient with centred
// finite differences, in double precision, on a random batch.
#include <cstdint>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "backprop/error.hpp"
#include "backprop/gradient_check.hpp"
#include "backprop/initialization.hpp"
#include "backprop/rng.hpp"
#include "commands.hpp"
#include "options.hpp"

namespace backprop::cli {
namespace {

struct GradcheckFlags {
  ArchitectureFlags architecture;
  std::string initialization = "large";
  int examples = 10;
  std::uint64_t seed = 1;
  double epsilon = GradientCheckOptions{}.epsilon;
  double tolerance = 1e-7;
};

}  // namespace

void add_gradcheck_command(CLI::App& app) {
  auto flags = std::make_shared<GradcheckFlags>();
  const CLI::Validator positive(
      [](std::string& text) -> std::string {
        const double value = std::strtod(text.c_str(), nullptr);
        return value > 0 ? "" : "must be a positive number, not " + text;
      },
      "POSITIVE");
  CLI::App* command = app.add_subcommand(
      "gradcheck",
      "Check backpropagation against centred finite differences on a random batch (double "
      "precision); exits 1 if any layer's largest relative error exceeds --tolerance");
  add_architecture_flags(*command, flags->architecture);
  command->add_option("--init", flags->initialization, "Initial weights: large or scaled")
      ->capture_default_str();
  command->add_option("--examples", flags->examples, "Examples in the random batch")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  command->add_option("--seed", flags->seed, "Seed for the weights and the batch")
      ->capture_default_str();
  command->add_option("--epsilon", flags->epsilon, "Step h of the finite differences")
      ->check(positive)
      ->capture_default_str();
  command->add_option("--tolerance", flags->tolerance, "Largest relative error accepted")
      ->check(positive)
      ->capture_default_str();

  command->callback([flags] {
    Network<double> network(flags->architecture.spec());
    Rng rng(flags->seed);
    initialize(network, parse_initialization(flags->initialization), rng);
    Matrix<double> x;
    Matrix<double> y;
    random_batch(rng, network.spec().inputs(), network.spec().outputs(), flags->examples, x, y);
    GradientCheckOptions options;
    options.epsilon = flags->epsilon;
    bool passed = true;
    for (const auto& check : gradient_check(network, x, y, options)) {
      const auto& layer = network.layer(check.layer - 1);
      const bool ok = check.max_relative_error <= flags->tolerance;
      passed = passed && ok;
      std::cout << "layer " << check.layer << " (" << layer.inputs() << " -> " << layer.outputs()
                << ", " << to_string(layer.activation()) << "): " << check.parameters
                << " parameters, max relative error " << std::scientific << std::setprecision(2)
                << check.max_relative_error << ", max absolute error " << check.max_absolute_error
                << std::defaultfloat << (ok ? "" : "  FAILED") << '\n';
    }
    if (!passed) {
      std::ostringstream message;
      message << "gradient check failed: a layer's largest relative error exceeds --tolerance "
              << flags->tolerance;
      throw Error(message.str());
    }
    std::cout << "gradient check passed (tolerance " << flags->tolerance << ")\n";
  });
}

}  // namespace backprop::cli
