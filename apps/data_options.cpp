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

namespace {

// The CSV route: a training and a test file, split as the IDX ones are.
DataSplit load_csv(const DataFlags& flags) {
  if (flags.training_csv.empty() || flags.test_csv.empty()) {
    throw InputError(
        "give both --train-csv and --test-csv (the test set may be a part of your "
        "data kept apart)");
  }
  CsvOptions options = flags.csv;
  options.header = parse_csv_header(flags.csv_header);
  Dataset training = read_csv(flags.training_csv, options);
  Dataset test = read_csv(flags.test_csv, options);
  // As for MNIST, a sixth of the training file validates unless told otherwise.
  const long validation = flags.validation_size < 0 ? training.size() / 6 : flags.validation_size;
  return split_data(std::move(training), std::move(test), validation);
}

}  // namespace

DataSplit DataFlags::load() const {
  const int paths_given = !files.training_images.empty() + !files.training_labels.empty() +
                          !files.test_images.empty() + !files.test_labels.empty();
  if (!training_csv.empty() || !test_csv.empty()) {
    if (paths_given > 0) {
      throw InputError(
          "give either CSV files (--train-csv, --test-csv) or IDX files "
          "(--train-images, ...), not both");
    }
    return load_csv(*this);
  }
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
  settings["train_csv"] = training_csv.string();
  settings["test_csv"] = test_csv.string();
  settings["target"] = csv.target;
  settings["csv_header"] = csv_header;
  settings["regression"] = csv.regression ? "true" : "false";
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
  training_csv = get("train_csv");
  test_csv = get("test_csv");
  csv.target = get("target");
  if (!get("csv_header").empty()) csv_header = get("csv_header");
  csv.regression = get("regression") == "true";
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
  command.add_option("--train-csv", flags.training_csv,
                     "CSV file of training examples (one per row), instead of --dataset");
  command.add_option("--test-csv", flags.test_csv, "CSV file of test examples");
  command.add_option("--target", flags.csv.target,
                     "CSV: the target column, by header name or number (1 = first); default: "
                     "the last column");
  command
      .add_option("--csv-header", flags.csv_header,
                  "CSV: is the first row a header of column names? detect (a field that is not "
                  "a number), yes or no")
      ->check(CLI::IsMember({"detect", "yes", "no"}))
      ->capture_default_str();
  command.add_flag("--regression", flags.csv.regression,
                   "CSV: the target is a real number, not a class (use an identity output "
                   "layer and the quadratic cost); reports RMSE instead of accuracy");
}

}  // namespace backprop::cli
