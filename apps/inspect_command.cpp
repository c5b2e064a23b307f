// `backprop inspect MODEL`: a model file's architecture, settings,
// parameter statistics and, for checkpoints, training state.
#include <cmath>
#include <iomanip>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "model_io.hpp"

namespace backprop::cli {
namespace {

void statistics(const char* name, const Eigen::Ref<const Vector<double>>& values) {
  const double mean = values.mean();
  const double deviation =
      std::sqrt((values.array() - mean).square().sum() / static_cast<double>(values.size()));
  std::cout << "    " << name << ": mean " << std::setprecision(4) << mean << ", sd " << deviation
            << ", min " << values.minCoeff() << ", max " << values.maxCoeff() << ", L2 norm "
            << values.norm() << '\n';
}

void inspect(const std::filesystem::path& path) {
  const ModelFile model = read_model(path);
  const NetworkSpec& spec = model.spec;
  std::cout << path.string() << ": " << to_string(model.precision) << " parameters, "
            << model.parameters.size() << " in all\n";
  std::cout << "  cost: " << to_string(spec.cost) << '\n';
  long offset = 0;
  for (std::size_t l = 0; l + 1 < spec.sizes.size(); ++l) {
    const long inputs = spec.sizes[l];
    const long outputs = spec.sizes[l + 1];
    std::cout << "  layer " << l + 1 << ": " << inputs << " -> " << outputs << ", "
              << to_string(spec.activations[l]) << '\n';
    statistics("weights", model.parameters.segment(offset, inputs * outputs));
    statistics("biases ", model.parameters.segment(offset + inputs * outputs, outputs));
    offset += inputs * outputs + outputs;
  }
  if (!model.settings.empty()) {
    std::cout << "  settings:\n";
    for (const auto& [key, value] : model.settings) {
      std::cout << "    " << key << " = " << value << '\n';
    }
  }
  if (model.state) {
    std::cout << "  checkpoint: " << model.state->epochs_completed << " epochs completed\n";
    for (const auto& [key, value] : model.state->scalars) {
      std::cout << "    " << key << " = " << value << '\n';
    }
  }
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto path = std::make_shared<std::filesystem::path>();
  CLI::App* command = app.add_subcommand(
      "inspect", "Show a model file's architecture, settings and parameter statistics");
  command->add_option("model", *path, "Model file (backprop or network2.py JSON)")->required();
  command->callback([path] { inspect(*path); });
}

}  // namespace backprop::cli
