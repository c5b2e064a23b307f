// Flags that choose the data (a known data set, four IDX files, or two CSV
// files) and the book's split, shared by train and eval.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <map>
#include <string>

#include "backprop/csv.hpp"
#include "backprop/data_split.hpp"

namespace backprop::cli {

struct DataFlags {
  std::string dataset = "mnist";
  std::filesystem::path data_dir;
  IdxFiles files;
  std::filesystem::path training_csv;
  std::filesystem::path test_csv;
  CsvOptions csv;
  std::string csv_header = "detect";
  long validation_size = -1;  // -1: a sixth of the training file (10,000 of MNIST's 60,000)

  DataFlags();
  // Fetches the known data set if needed (progress on stderr), or reads
  // the four given IDX files or the two CSV files, and splits them.
  DataSplit load() const;
  // As text settings, for model files and resumed runs.
  void save_to(std::map<std::string, std::string>& settings) const;
  void load_from(const std::map<std::string, std::string>& settings);
};

void add_data_flags(CLI::App& command, DataFlags& flags);

}  // namespace backprop::cli
