#include "data_options.hpp"

#include <climits>
#include <iostream>

#include "backprop/error.hpp"
#include "backprop/fetch.hpp"
#include "backprop/idx.hpp"
#include "data_dir.hpp"
#include "settings.hpp"

namespace backprop::cli {

DataFlags::DataFlags() : data_dir(default_data_dir()) {}

DataSplit DataFlags::load() const {
  const int paths_given = !files.training_images.empty() + !files.training_labels.empty() +
                          !files.test_images.empty() + !files.test_labels.empty();
  IdxFiles chosen;
  if (paths_given == 0) {
    chosen = fetch_dataset(parse_dataset(dataset), data_dir, std::cerr);
  } else if (paths_given == 4) {
    chosen = files;
  } else {
    throw InputError(
        "give all four of --train-images, --train-labels, --test-images, --test-labels, or none "
        "of them to use --dataset");
  }
  long validation = validation_size;
  if (validation < 0) {
    // The book's split holds back the last 10,000 of MNIST's 60,000: a sixth.
    validation = static_cast<long>(read_idx(chosen.training_labels).data.size()) / 6;
  }
  return load_split(chosen, validation);
}

void DataFlags::save_to(std::map<std::string, std::string>& settings) const {
  settings["dataset"] = dataset;
  settings["data_dir"] = data_dir.string();
  settings["train_images"] = files.training_images.string();
  settings["train_labels"] = files.training_labels.string();
  settings["test_images"] = files.test_images.string();
  settings["test_labels"] = files.test_labels.string();
  settings["validation_size"] = std::to_string(validation_size);
}

void DataFlags::load_from(const std::map<std::string, std::string>& settings) {
  const auto get = [&](const char* key) -> std::string {
    const auto found = settings.find(key);
    return found == settings.end() ? std::string() : found->second;
  };
  dataset = get("dataset").empty() ? dataset : get("dataset");
  if (!get("data_dir").empty()) data_dir = get("data_dir");
  files.training_images = get("train_images");
  files.training_labels = get("train_labels");
  files.test_images = get("test_images");
  files.test_labels = get("test_labels");
  if (!get("validation_size").empty()) {
    validation_size = integer_setting(settings, "validation_size", -1, LONG_MAX);
  }
}

void add_data_flags(CLI::App& command, DataFlags& flags) {
  command
      .add_option("--dataset", flags.dataset,
                  "Known data set, fetched if missing: mnist or fashion-mnist")
      ->check(CLI::IsMember({"mnist", "fashion-mnist"}))
      ->capture_default_str();
  command
      .add_option("--data-dir", flags.data_dir,
                  "Where known data sets are kept (default: $BACKPROP_DATA, else ./data)")
      ->capture_default_str();
  command.add_option("--train-images", flags.files.training_images,
                     "IDX file of training images (raw or gzip), instead of --dataset");
  command.add_option("--train-labels", flags.files.training_labels, "IDX file of training labels");
  command.add_option("--test-images", flags.files.test_images, "IDX file of test images");
  command.add_option("--test-labels", flags.files.test_labels, "IDX file of test labels");
  command
      .add_option("--validation-size", flags.validation_size,
                  "Training examples held back (from the end) for validation; default: a "
                  "sixth, the book's 10,000 of 60,000")
      ->check(CLI::Range(-1L, 1L << 40));
}

}  // namespace backprop::cli
