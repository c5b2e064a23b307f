// `backprop train`: train a network with mini-batch SGD and report each epoch.
//
// With no flags it runs the book's chapter-1 experiment: [784, 30, 10],
// sigmoid, quadratic cost, N(0,1) initialisation, eta 3.0, mini-batch 10,
// 30 epochs on MNIST, fetching MNIST first if it is not there yet.
#include <cstdint>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "backprop/data_split.hpp"
#include "backprop/error.hpp"
#include "backprop/fetch.hpp"
#include "backprop/idx.hpp"
#include "backprop/initialization.hpp"
#include "backprop/training.hpp"
#include "commands.hpp"
#include "data_dir.hpp"
#include "options.hpp"

namespace backprop::cli {
namespace {

struct TrainFlags {
  ArchitectureFlags architecture;
  std::string initialization = "large";
  TrainingOptions training;
  std::uint64_t seed = 1;
  std::string precision = "float";
  std::string dataset = "mnist";
  std::filesystem::path data_dir = default_data_dir();
  IdxFiles files;
  long validation_size = -1;
  std::string monitor = "test";
  bool no_shuffle = false;
};

std::string describe(const NetworkSpec& spec) {
  std::ostringstream out;
  out << '[';
  for (std::size_t i = 0; i < spec.sizes.size(); ++i) out << (i ? "," : "") << spec.sizes[i];
  out << "] ";
  for (std::size_t l = 0; l < spec.activations.size(); ++l) {
    out << (l ? "," : "") << to_string(spec.activations[l]);
  }
  out << ", " << to_string(spec.cost) << " cost";
  return out.str();
}

DataSplit load_data(const TrainFlags& flags) {
  const IdxFiles& given = flags.files;
  const int paths_given = !given.training_images.empty() + !given.training_labels.empty() +
                          !given.test_images.empty() + !given.test_labels.empty();
  IdxFiles files;
  if (paths_given == 0) {
    files = fetch_dataset(parse_dataset(flags.dataset), flags.data_dir, std::cerr);
  } else if (paths_given == 4) {
    files = given;
  } else {
    throw InputError(
        "give all four of --train-images, --train-labels, --test-images, --test-labels, or none "
        "of them to use --dataset");
  }
  long validation = flags.validation_size;
  if (validation < 0) {
    // The book's split holds back the last 10,000 of MNIST's 60,000: a sixth.
    validation = static_cast<long>(read_idx(files.training_labels).data.size()) / 6;
  }
  return load_split(files, validation);
}

template <typename T>
void run(const TrainFlags& flags, const NetworkSpec& spec, const DataSplit& data) {
  Rng rng(flags.seed);
  Network<T> network(spec);
  initialize(network, parse_initialization(flags.initialization), rng);

  const Dataset* monitor = nullptr;
  if (flags.monitor == "test") monitor = &data.test;
  if (flags.monitor == "validation") monitor = &data.validation;

  TrainingOptions options = flags.training;
  options.shuffle = !flags.no_shuffle;
  std::cout << "Training " << describe(spec) << ", eta " << options.learning_rate
            << ", mini-batch " << options.mini_batch_size << ", " << options.epochs
            << " epochs, seed " << flags.seed << ", " << flags.precision << ", on "
            << data.training.size() << " examples" << std::endl;

  train(network, data.training, options, rng, monitor, [](const EpochReport& report) {
    std::cout << "Epoch " << report.epoch;
    if (report.test) {
      std::cout << ": " << report.test->correct << " / " << report.test->total;
    } else {
      std::cout << " complete";
    }
    std::cout << " (" << std::fixed << std::setprecision(2) << report.training_seconds
              << " s)" << std::defaultfloat << std::endl;
  });

  if (monitor != &data.test && data.test.size() > 0) {
    const Evaluation test = evaluate(network, data.test);
    std::cout << "Test: " << test.correct << " / " << test.total << std::endl;
  }
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto flags = std::make_shared<TrainFlags>();
  CLI::App* command =
      app.add_subcommand("train", "Train a network with mini-batch SGD (default: the book's "
                                  "chapter-1 network on MNIST)");
  add_architecture_flags(*command, flags->architecture);
  command
      ->add_option("--init", flags->initialization,
                   "Initial weights: large (N(0,1), chapter 1) or scaled (N(0,1/n_in), chapter 3)")
      ->capture_default_str();
  command->add_option("--eta", flags->training.learning_rate, "Learning rate eta")
      ->capture_default_str();
  command->add_option("--mini-batch", flags->training.mini_batch_size, "Mini-batch size m")
      ->capture_default_str();
  command->add_option("--epochs", flags->training.epochs, "Number of epochs")
      ->capture_default_str();
  command->add_option("--seed", flags->seed, "Seed of the run's random generator")
      ->capture_default_str();
  command->add_option("--precision", flags->precision, "Arithmetic: float or double")
      ->check(CLI::IsMember({"float", "double"}))
      ->capture_default_str();
  command
      ->add_option("--dataset", flags->dataset,
                   "Known data set, fetched if missing: mnist or fashion-mnist")
      ->capture_default_str();
  command
      ->add_option("--data-dir", flags->data_dir,
                   "Where known data sets are kept (default: $BACKPROP_DATA, else ./data)")
      ->capture_default_str();
  command->add_option("--train-images", flags->files.training_images,
                      "IDX file of training images (raw or gzip), instead of --dataset");
  command->add_option("--train-labels", flags->files.training_labels,
                      "IDX file of training labels");
  command->add_option("--test-images", flags->files.test_images, "IDX file of test images");
  command->add_option("--test-labels", flags->files.test_labels, "IDX file of test labels");
  command
      ->add_option("--validation-size", flags->validation_size,
                   "Training examples held back (from the end) for validation; default: "
                   "a sixth, the book's 10,000 of 60,000")
      ->capture_default_str();
  command
      ->add_option("--monitor", flags->monitor,
                   "Data evaluated after each epoch: test (the book's chapter 1), validation, "
                   "or none")
      ->check(CLI::IsMember({"test", "validation", "none"}))
      ->capture_default_str();
  command->add_flag("--no-shuffle", flags->no_shuffle,
                    "Keep the examples in file order every epoch (for debugging)");

  command->callback([flags] {
    const NetworkSpec spec = flags->architecture.spec();
    flags->training.validate();
    parse_initialization(flags->initialization);
    const DataSplit data = load_data(*flags);
    check_fits(data.training, spec.inputs(), spec.outputs());
    if (flags->precision == "double") {
      run<double>(*flags, spec, data);
    } else {
      run<float>(*flags, spec, data);
    }
  });
}

}  // namespace backprop::cli
