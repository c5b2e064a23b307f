// Nielsen's training / validation / test split of an MNIST-format data set.
#include "backprop/data_split.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "backprop/error.hpp"
#include "backprop/idx.hpp"

namespace backprop {

IdxFiles IdxFiles::in_directory(const std::filesystem::path& directory) {
  return {directory / "train-images-idx3-ubyte", directory / "train-labels-idx1-ubyte",
          directory / "t10k-images-idx3-ubyte", directory / "t10k-labels-idx1-ubyte"};
}

DataSplit load_split(const IdxFiles& files, long validation_size) {
  if (validation_size < 0) {
    throw InputError("a validation set of " + std::to_string(validation_size) +
                     " examples is negative; use 0 or more");
  }
  Dataset all = load_idx_dataset(files.training_images, files.training_labels);
  Dataset test = load_idx_dataset(files.test_images, files.test_labels);
  return split_data(std::move(all), std::move(test), validation_size);
}

DataSplit split_data(Dataset all, Dataset test, long validation_size) {
  if (validation_size < 0) {
    throw InputError("a validation set of " + std::to_string(validation_size) +
                     " examples is negative; use 0 or more");
  }
  if (validation_size >= all.size()) {
    throw InputError("a validation set of " + std::to_string(validation_size) +
                     " examples leaves none of the " + std::to_string(all.size()) + " in " +
                     all.source + " for training; use fewer than " + std::to_string(all.size()));
  }
  DataSplit split;
  split.test = std::move(test);
  if (split.test.features() != all.features()) {
    throw InputError(split.test.source + " has " + std::to_string(split.test.features()) +
                     " features per example but " + all.source + " has " +
                     std::to_string(all.features()) +
                     "; give training and test files of the same data set");
  }
  if (split.test.regression() != all.regression() ||
      split.test.targets.rows() != all.targets.rows()) {
    throw InputError(split.test.source + " and " + all.source +
                     " differ in their targets (class labels or regression values, and how "
                     "many); give training and test files of the same data set");
  }

  const long training_size = all.size() - validation_size;
  split.validation = all.slice(training_size, validation_size);
  // The training part stays where it is: dropping the tail in place saves
  // a copy of the largest block of memory the program holds.
  split.training = std::move(all);
  if (split.training.holds_pixels()) {
    split.training.pixels.conservativeResize(Eigen::NoChange, training_size);
  } else {
    split.training.values.conservativeResize(Eigen::NoChange, training_size);
  }
  if (split.training.regression()) {
    split.training.targets.conservativeResize(Eigen::NoChange, training_size);
  } else {
    split.training.labels.resize(static_cast<std::size_t>(training_size));
  }
  split.training.source += " (examples 0 to " + std::to_string(training_size - 1) + ")";

  const int classes = std::max(split.training.classes, split.test.classes);
  for (Dataset* part : {&split.training, &split.validation, &split.test}) part->classes = classes;
  return split;
}

}  // namespace backprop
