// Your own data as CSV: one example per row, numbers separated by commas,
// one column holding the target.
//
//   classification  the target column holds class numbers 0, 1, 2, ...; the
//                   network is trained on their one-hot vectors, as MNIST's
//   regression      the target column holds real numbers; pair it with an
//                   identity output layer and the quadratic cost
//
// Every other column is an input feature, used as it is (scale features to
// about [0, 1] or [-1, 1] beforehand, as MNIST's pixels are). The first row
// may be a header of column names: detected (a row with a field that is not
// a number) or stated. Blank lines are skipped; fields may be surrounded by
// spaces and, in the header, by double quotes.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "backprop/dataset.hpp"

namespace backprop {

enum class CsvHeader { detect, present, absent };

struct CsvOptions {
  // The target column: a name from the header, or a 1-based column number
  // ("1" is the first column); empty means the last column.
  std::string target;
  CsvHeader header = CsvHeader::detect;
  bool regression = false;
};

// Parses CSV text; `source` names it in messages. Throws InputError naming
// the source, the line and the column for: a row with more or fewer fields
// than the first, a field that is not a finite number, a class that is not
// a whole number >= 0, a target column that does not exist, and no rows.
Dataset parse_csv(std::string_view text, const std::string& source, const CsvOptions& options);

// Reads and parses a CSV file (InputError if it cannot be read).
Dataset read_csv(const std::filesystem::path& path, const CsvOptions& options);

CsvHeader parse_csv_header(std::string_view name);

}  // namespace backprop
