// `backprop predict MODEL --images FILE...`: the class and the output-layer
// activations (probabilities, for softmax) of every image of IDX files, and
// of PNG or JPEG pictures prepared the way MNIST's digits were.
#include <algorithm>
#include <cctype>
#include <functional>
#include <iomanip>
#include <iostream>
#include <memory>

#include "backprop/error.hpp"
#include "backprop/idx.hpp"
#include "commands.hpp"
#include "digit_image.hpp"
#include "model_io.hpp"

namespace backprop::cli {
namespace {

struct PredictFlags {
  std::filesystem::path model;
  std::vector<std::filesystem::path> images;
  long limit = 0;
};

// Prints one line per column of `inputs`: its name, the class (the largest
// output) and the outputs.
template <typename T>
void print_predictions(Network<T>& network, const Matrix<float>& inputs,
                       const std::function<std::string(long)>& name) {
  for (long first = 0; first < inputs.cols(); first += 1000) {
    const long chunk = std::min<long>(1000, inputs.cols() - first);
    const Matrix<T> x = inputs.middleCols(first, chunk).template cast<T>();
    const Matrix<T>& a = network.feedforward(x);
    for (long i = 0; i < chunk; ++i) {
      Eigen::Index predicted = 0;
      a.col(i).maxCoeff(&predicted);
      std::cout << name(first + i) << ' ' << predicted << std::fixed << std::setprecision(4);
      for (Eigen::Index j = 0; j < a.rows(); ++j) std::cout << ' ' << a(j, i);
      std::cout << std::defaultfloat << '\n';
    }
  }
}

template <typename T>
void run(const PredictFlags& flags, Network<T>& network) {
  const int inputs = network.spec().inputs();
  // Read everything first, so a bad file stops the command before any output.
  std::vector<Matrix<float>> batches;
  std::vector<bool> pictures;
  for (const auto& path : flags.images) {
    Matrix<float> batch;
    std::string extension = path.extension().string();
    std::ranges::transform(extension, extension.begin(), [](char c) { return std::tolower(c); });
    const bool picture =
        is_image_file(path) || extension == ".png" || extension == ".jpg" || extension == ".jpeg";
    pictures.push_back(picture);
    if (picture) {
      if (inputs != kMnistSide * kMnistSide) {
        throw InputError(path.string() + " is a picture, prepared as a 28 x 28 MNIST digit, but " +
                         "the model takes " + std::to_string(inputs) + " inputs");
      }
      const std::vector<float> digit = mnist_digit(read_image(path), path.string());
      batch = Eigen::Map<const Matrix<float>>(digit.data(), inputs, 1);
    } else {
      batch = load_idx_images(path);
      if (flags.limit > 0 && batch.cols() > flags.limit) {
        batch.conservativeResize(Eigen::NoChange, flags.limit);
      }
    }
    if (batch.rows() != inputs) {
      throw InputError(path.string() + " has " + std::to_string(batch.rows()) +
                       " pixels per image but the model takes " + std::to_string(inputs) +
                       " inputs");
    }
    batches.push_back(std::move(batch));
  }
  std::cout << "# example class outputs(0.." << network.spec().outputs() - 1 << ")\n";
  for (std::size_t f = 0; f < batches.size(); ++f) {
    const std::filesystem::path& path = flags.images[f];
    // A picture is named by its file, an IDX file's images by their index.
    print_predictions(network, batches[f],
                      [&](long i) { return pictures[f] ? path.string() : std::to_string(i); });
  }
}

}  // namespace

void add_predict_command(CLI::App& app) {
  auto flags = std::make_shared<PredictFlags>();
  CLI::App* command = app.add_subcommand(
      "predict",
      "Print the predicted class and output activations for each image of IDX files, or of "
      "PNG/JPEG pictures of digits (fitted to 20x20 and centred in 28x28, as MNIST was made)");
  command->add_option("model", flags->model, "Model file (backprop or network2.py JSON)")
      ->required();
  command
      ->add_option("--images", flags->images,
                   "IDX images files (raw or gzip), or PNG/JPEG pictures (any size, gray or "
                   "colour, dark on light or light on dark)")
      ->required();
  command->add_option("--limit", flags->limit, "Only the first N images of each IDX file (0 = all)")
      ->check(CLI::Range(0L, 1L << 40));
  command->callback(
      [flags] { with_saved_network(flags->model, [&](auto& network) { run(*flags, network); }); });
}

}  // namespace backprop::cli
