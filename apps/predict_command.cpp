// `backprop predict MODEL --images FILE`: the class and the output-layer
// activations (probabilities, for softmax) of every image of an IDX file.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <memory>

#include "backprop/error.hpp"
#include "backprop/idx.hpp"
#include "commands.hpp"
#include "model_io.hpp"

namespace backprop::cli {
namespace {

struct PredictFlags {
  std::filesystem::path model;
  std::filesystem::path images;
  long limit = 0;
};

template <typename T>
void run(const PredictFlags& flags, Network<T>& network) {
  const Matrix<float> inputs = load_idx_images(flags.images);
  if (inputs.rows() != network.spec().inputs()) {
    throw InputError(flags.images.string() + " has " + std::to_string(inputs.rows()) +
                     " pixels per image but the model takes " +
                     std::to_string(network.spec().inputs()) + " inputs");
  }
  const long count = flags.limit > 0 ? std::min<long>(flags.limit, inputs.cols()) : inputs.cols();
  std::cout << "# example class outputs(0.." << network.spec().outputs() - 1 << ")\n";
  for (long first = 0; first < count; first += 1000) {
    const long chunk = std::min<long>(1000, count - first);
    const Matrix<T> x = inputs.middleCols(first, chunk).template cast<T>();
    const Matrix<T>& a = network.feedforward(x);
    for (long i = 0; i < chunk; ++i) {
      Eigen::Index predicted = 0;
      a.col(i).maxCoeff(&predicted);
      std::cout << first + i << ' ' << predicted << std::fixed << std::setprecision(4);
      for (Eigen::Index j = 0; j < a.rows(); ++j) std::cout << ' ' << a(j, i);
      std::cout << std::defaultfloat << '\n';
    }
  }
}

}  // namespace

void add_predict_command(CLI::App& app) {
  auto flags = std::make_shared<PredictFlags>();
  CLI::App* command = app.add_subcommand(
      "predict", "Print the predicted class and output activations for each image of an IDX file");
  command->add_option("model", flags->model, "Model file (backprop or network2.py JSON)")
      ->required();
  command->add_option("--images", flags->images, "IDX images file (raw or gzip)")->required();
  command->add_option("--limit", flags->limit, "Only the first N images (0 = all)")
      ->check(CLI::Range(0L, 1L << 40));
  command->callback(
      [flags] { with_saved_network(flags->model, [&](auto& network) { run(*flags, network); }); });
}

}  // namespace backprop::cli
