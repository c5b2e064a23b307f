// Reading a CSV file into a data set, with errors that say where.
#include "backprop/csv.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <vector>

#include "backprop/error.hpp"

namespace backprop {
namespace {

// The largest class number accepted: a one-hot target of a million outputs
// is already far beyond a sensible network.
constexpr double kMaxClass = 999999;

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  text = text.substr(first, last - first + 1);
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    text = text.substr(1, text.size() - 2);
  }
  return text;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    fields.push_back(trim(line.substr(start, comma - start)));
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

// A finite decimal number, the whole field ("1", "-0.5", "+2e3"), that stays
// finite as the float the data set holds it in (|x| < 3.4e38; 1e39 would
// become infinity, and training on it NaN).
bool parse_number(std::string_view field, double& value) {
  if (!field.empty() && field.front() == '+') field.remove_prefix(1);
  if (field.empty()) return false;
  const auto result = std::from_chars(field.data(), field.data() + field.size(), value);
  return result.ec == std::errc() && result.ptr == field.data() + field.size() &&
         std::isfinite(value) && std::abs(value) <= std::numeric_limits<float>::max();
}

struct Row {
  long line = 0;  // 1-based line number in the file
  std::vector<std::string_view> fields;
};

class Parser {
 public:
  Parser(const std::string& source, const CsvOptions& options)
      : source_(source), options_(options) {}

  Dataset parse(std::string_view text) {
    const std::vector<Row> rows = non_blank_rows(text);
    if (rows.empty()) throw InputError(source_ + ": no rows; a CSV data set needs examples");
    columns_ = rows.front().fields.size();
    first_line_ = rows.front().line;
    const bool header = has_header(rows.front());
    if (header) {
      for (std::string_view name : rows.front().fields) names_.emplace_back(name);
    }
    target_ = target_column(header);
    if (columns_ < 2) {
      throw InputError(source_ + " line " + std::to_string(first_line_) +
                       ": only one column; a CSV data set needs input columns besides the target");
    }

    std::vector<float> features;
    std::vector<float> targets;
    std::vector<int> labels;
    for (std::size_t r = header ? 1 : 0; r < rows.size(); ++r) {
      const Row& row = rows[r];
      check_width(row);
      for (std::size_t c = 0; c < columns_; ++c) {
        const double value = number(row, c);
        if (c != target_) {
          features.push_back(static_cast<float>(value));
        } else if (options_.regression) {
          targets.push_back(static_cast<float>(value));
        } else {
          labels.push_back(class_number(row, c, value));
        }
      }
    }
    const auto examples = static_cast<Eigen::Index>(rows.size() - (header ? 1 : 0));
    if (examples == 0) {
      throw InputError(source_ + ": a header but no examples; add rows of numbers below it");
    }

    Dataset data;
    data.source = source_;
    // Each row becomes one column: Eigen stores columns contiguously, in
    // the order the features were read.
    data.values = Eigen::Map<const Matrix<float>>(
        features.data(), static_cast<Eigen::Index>(columns_ - 1), examples);
    if (options_.regression) {
      data.targets = Eigen::Map<const Matrix<float>>(targets.data(), 1, examples);
    } else {
      int largest = 0;
      for (int label : labels) largest = std::max(largest, label);
      data.labels = std::move(labels);
      data.classes = largest + 1;
    }
    return data;
  }

 private:
  static std::vector<Row> non_blank_rows(std::string_view text) {
    std::vector<Row> rows;
    long line = 0;
    std::size_t start = 0;
    while (start < text.size()) {
      ++line;
      std::size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      const std::string_view content = text.substr(start, end - start);
      if (!trim(content).empty()) rows.push_back({line, split_fields(content)});
      start = end + 1;
    }
    return rows;
  }

  // "data.csv line 4, column 2 (price)": where a field is, for messages.
  std::string where(const Row& row, std::size_t column) const {
    std::string text =
        source_ + " line " + std::to_string(row.line) + ", column " + std::to_string(column + 1);
    if (column < names_.size()) text += " (" + names_[column] + ")";
    return text;
  }

  bool has_header(const Row& first) const {
    if (options_.header == CsvHeader::present) return true;
    if (options_.header == CsvHeader::absent) return false;
    double ignored = 0;
    for (std::string_view field : first.fields) {
      if (!parse_number(field, ignored)) return true;
    }
    return false;
  }

  std::size_t target_column(bool header) const {
    const std::string& target = options_.target;
    const std::string columns = std::to_string(columns_);
    if (target.empty()) return columns_ - 1;
    if (target.find_first_not_of("0123456789") == std::string::npos) {
      const std::size_t number = target.size() > 9 ? 0 : std::stoul(target);
      if (number < 1 || number > columns_) {
        throw InputError(source_ + ": target column " + target + " is not one of the " + columns +
                         " columns of line " + std::to_string(first_line_) +
                         "; give a number from 1 to " + columns + " or a column name");
      }
      return number - 1;
    }
    if (!header) {
      throw InputError(source_ + ": target column '" + target + "' is a name but line " +
                       std::to_string(first_line_) +
                       " is not a header (all its fields are numbers); give the column's "
                       "number, 1 to " +
                       columns);
    }
    std::string known;
    for (std::size_t c = 0; c < names_.size(); ++c) {
      if (names_[c] == target) return c;
      known += (c ? ", " : "") + names_[c];
    }
    throw InputError(source_ + ": no column named '" + target + "' in the header on line " +
                     std::to_string(first_line_) + " (its columns: " + known + ")");
  }

  void check_width(const Row& row) const {
    const std::size_t count = row.fields.size();
    if (count == columns_) return;
    const std::string expected = std::to_string(columns_) + " fields like line " +
                                 std::to_string(first_line_) + "; every row needs the same columns";
    if (count < columns_) {
      throw InputError(where(row, count) + ": the row ends after " + std::to_string(count) +
                       " fields, not " + expected);
    }
    throw InputError(where(row, columns_) + ": the row has " + std::to_string(count) +
                     " fields, not " + expected);
  }

  double number(const Row& row, std::size_t column) const {
    double value = 0;
    const std::string_view field = row.fields[column];
    if (!parse_number(field, value)) {
      throw InputError(where(row, column) + ": '" + std::string(field) + "' is not a number" +
                       (field.empty() ? " (the field is empty)" : "") +
                       "; every field but the header's must be a finite number");
    }
    return value;
  }

  int class_number(const Row& row, std::size_t column, double value) const {
    if (value < 0 || value != std::floor(value) || value > kMaxClass) {
      throw InputError(where(row, column) + ": the class '" + std::string(row.fields[column]) +
                       "' is not a whole number from 0 to 999999; classes are numbered 0, 1, "
                       "2, ... (or train a regression with real-valued targets)");
    }
    return static_cast<int>(value);
  }

  const std::string& source_;
  const CsvOptions& options_;
  std::size_t columns_ = 0;
  long first_line_ = 0;
  std::size_t target_ = 0;
  std::vector<std::string> names_;
};

}  // namespace

Dataset parse_csv(std::string_view text, const std::string& source, const CsvOptions& options) {
  return Parser(source, options).parse(text);
}

Dataset read_csv(const std::filesystem::path& path, const CsvOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string() + ": cannot open the CSV file; check the path");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw InputError(path.string() + ": cannot read the CSV file");
  return parse_csv(text.str(), path.string(), options);
}

CsvHeader parse_csv_header(std::string_view name) {
  if (name == "detect") return CsvHeader::detect;
  if (name == "present" || name == "yes") return CsvHeader::present;
  if (name == "absent" || name == "no") return CsvHeader::absent;
  throw InputError("the CSV header setting '" + std::string(name) +
                   "' is not one of detect, yes, no");
}

}  // namespace backprop
