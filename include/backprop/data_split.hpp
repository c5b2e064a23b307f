// The book's three-way split of a data set such as MNIST.
//
// Nielsen trains on the first 50,000 of MNIST's 60,000 training images,
// keeps the last 10,000 for validation, and tests on the 10,000 test images.
#pragma once

#include <filesystem>

#include "backprop/dataset.hpp"

namespace backprop {

// The four IDX files of an MNIST-format data set.
struct IdxFiles {
  std::filesystem::path training_images;
  std::filesystem::path training_labels;
  std::filesystem::path test_images;
  std::filesystem::path test_labels;

  // The standard MNIST file names (raw, uncompressed) in `directory`.
  static IdxFiles in_directory(const std::filesystem::path& directory);
};

struct DataSplit {
  Dataset training;
  Dataset validation;
  Dataset test;
};

// Loads the files; the last `validation_size` training examples become the
// validation set. Throws InputError if validation_size is negative or leaves
// no training examples, or if the training and test sets differ in shape.
DataSplit load_split(const IdxFiles& files, long validation_size = 10000);

// The same split of data sets already read (from CSV, say): the last
// `validation_size` examples of `all` validate. Throws InputError as
// load_split does, and if the two sets differ in features or targets.
DataSplit split_data(Dataset all, Dataset test, long validation_size);

}  // namespace backprop
