// The CSV reader: headers, target columns, one-hot and regression targets,
// and errors that name the line and the column.
#include "backprop/csv.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "backprop/data_split.hpp"
#include "backprop/error.hpp"
#include "backprop/evaluation.hpp"
#include "temp_dir.hpp"

namespace backprop {
namespace {

// The InputError message parse_csv throws, or "" if it does not throw.
std::string error_of(const std::string& text, const CsvOptions& options = {}) {
  try {
    parse_csv(text, "data.csv", options);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Csv, DetectsAHeaderAndTakesTheTargetByName) {
  const std::string text =
      "width, class ,height\n"
      "0.5,1,2\n"
      "\n"  // blank lines are skipped
      "-1.25,0,+3e2\r\n";
  const Dataset data = parse_csv(text, "data.csv", {.target = "class"});
  ASSERT_EQ(data.size(), 2);
  ASSERT_EQ(data.features(), 2);
  EXPECT_FALSE(data.regression());
  EXPECT_EQ(data.labels, (std::vector<int>{1, 0}));
  EXPECT_EQ(data.classes, 2);
  // One column per row, the features in file order without the target.
  EXPECT_FLOAT_EQ(data.values(0, 0), 0.5F);
  EXPECT_FLOAT_EQ(data.values(1, 0), 2.0F);
  EXPECT_FLOAT_EQ(data.values(0, 1), -1.25F);
  EXPECT_FLOAT_EQ(data.values(1, 1), 300.0F);
  EXPECT_EQ(data.source, "data.csv");
}

TEST(Csv, WithoutAHeaderTakesTheTargetByNumberOrTheLastColumn) {
  const std::string text = "3,1,2\n4,0,5\n";
  const Dataset last = parse_csv(text, "data.csv", {});
  EXPECT_EQ(last.labels, (std::vector<int>{2, 5}));
  EXPECT_EQ(last.classes, 6);
  EXPECT_FLOAT_EQ(last.values(0, 1), 4.0F);

  const Dataset second = parse_csv(text, "data.csv", {.target = "2"});
  EXPECT_EQ(second.labels, (std::vector<int>{1, 0}));
  EXPECT_FLOAT_EQ(second.values(1, 0), 2.0F);  // columns 1 and 3 are the features
}

TEST(Csv, TheHeaderCanBeStated) {
  // Numeric column names would be read as data unless the header is stated.
  const std::string text = "1,2,3\n4,5,0\n";
  const Dataset stated = parse_csv(text, "data.csv", {.target = "3", .header = CsvHeader::present});
  EXPECT_EQ(stated.size(), 1);
  EXPECT_EQ(stated.labels, std::vector<int>{0});
  EXPECT_EQ(parse_csv(text, "data.csv", {}).size(), 2);
  // A header that is not allowed is a non-number on line 1.
  EXPECT_EQ(error_of("a,b\n1,2\n", {.header = CsvHeader::absent}),
            "data.csv line 1, column 1: 'a' is not a number; every field but the header's must "
            "be a finite number");
}

TEST(Csv, ClassesBecomeOneHotTargets) {
  const Dataset data = parse_csv("x,y\n0.1,2\n0.2,0\n", "data.csv", {});
  Matrix<float> x;
  Matrix<float> y;
  const std::vector<int> indices{0, 1};
  gather(data, std::span<const int>(indices), 3, x, y);
  Matrix<float> expected(3, 2);
  expected << 0, 1, 0, 0, 1, 0;
  EXPECT_EQ(y, expected);
}

TEST(Csv, RegressionKeepsTheTargetValues) {
  const Dataset data = parse_csv("price,rooms,area\n2.5,3,70\n-1.5,1,20\n", "data.csv",
                                 {.target = "price", .regression = true});
  ASSERT_TRUE(data.regression());
  EXPECT_EQ(data.size(), 2);
  EXPECT_TRUE(data.labels.empty());
  Matrix<double> x;
  Matrix<double> y;
  const std::vector<int> indices{1, 0};
  gather(data, std::span<const int>(indices), 1, x, y);
  EXPECT_DOUBLE_EQ(y(0, 0), -1.5);
  EXPECT_DOUBLE_EQ(y(0, 1), 2.5);
  EXPECT_DOUBLE_EQ(x(1, 0), 20.0);
  // The network must have one output per target.
  EXPECT_THROW(check_fits(data, 2, 3), InputError);
  EXPECT_NO_THROW(check_fits(data, 2, 1));
}

TEST(Csv, ARaggedRowNamesItsLineAndColumn) {
  EXPECT_EQ(error_of("a,b,c\n1,2,3\n\n4,5\n"),
            "data.csv line 4, column 3 (c): the row ends after 2 fields, not 3 fields like line "
            "1; every row needs the same columns");
  EXPECT_EQ(error_of("1,2\n3,4,5\n"),
            "data.csv line 2, column 3: the row has 3 fields, not 2 fields like line 1; every "
            "row needs the same columns");
}

TEST(Csv, ANonNumberNamesItsLineAndColumn) {
  EXPECT_EQ(error_of("a,b\n1,2\n3,x7\n"),
            "data.csv line 3, column 2 (b): 'x7' is not a number; every field but the header's "
            "must be a finite number");
  EXPECT_EQ(error_of("1,2\n,4\n"),
            "data.csv line 2, column 1: '' is not a number (the field is empty); every field "
            "but the header's must be a finite number");
  EXPECT_NE(error_of("1,2\ninf,4\n").find("line 2, column 1: 'inf' is not a number"),
            std::string::npos);
  EXPECT_NE(error_of("1,2\n3,1.5\n").find("line 2, column 2: the class '1.5' is not a whole"),
            std::string::npos);
  EXPECT_NE(error_of("1,2\n3,-1\n").find("line 2, column 2: the class '-1'"), std::string::npos);
}

TEST(Csv, AMissingTargetColumnIsNamed) {
  EXPECT_EQ(error_of("a,b\n1,2\n", {.target = "price"}),
            "data.csv: no column named 'price' in the header on line 1 (its columns: a, b)");
  EXPECT_EQ(error_of("a,b\n1,2\n", {.target = "3"}),
            "data.csv: target column 3 is not one of the 2 columns of line 1; give a number "
            "from 1 to 2 or a column name");
  EXPECT_NE(error_of("1,2\n", {.target = "price"}).find("'price' is a name but line 1 is not a"),
            std::string::npos);
  EXPECT_NE(error_of("a,b\n1,2\n", {.target = "0"}).find("target column 0 is not one"),
            std::string::npos);
}

TEST(Csv, EmptyDataAreRejected) {
  EXPECT_EQ(error_of(""), "data.csv: no rows; a CSV data set needs examples");
  EXPECT_EQ(error_of("a,b\n\n"),
            "data.csv: a header but no examples; add rows of numbers below it");
  EXPECT_NE(error_of("1\n2\n").find("only one column"), std::string::npos);
}

TEST(Csv, ReadsAFileAndNamesAMissingOne) {
  test::TempDir dir;
  {
    std::ofstream out(dir / "a.csv");
    out << "1,0\n2,1\n";
  }
  EXPECT_EQ(read_csv(dir / "a.csv", {}).size(), 2);
  try {
    read_csv(dir / "missing.csv", {});
    FAIL() << "no error for a missing file";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.csv: cannot open"), std::string::npos);
  }
}

TEST(Csv, RegressionDataSplitAndEvaluateAsRmse) {
  // y = 2 x; a 1-1 identity network with w = 2, b = 0.5 is off by 0.5 everywhere.
  std::string text = "x,y\n";
  for (int i = 0; i < 12; ++i) text += std::to_string(i) + "," + std::to_string(2 * i) + "\n";
  const Dataset all = parse_csv(text, "train.csv", {.regression = true});
  const Dataset test = parse_csv("x,y\n1,2\n", "test.csv", {.regression = true});
  const DataSplit split = split_data(all, test, 2);
  ASSERT_EQ(split.training.size(), 10);
  ASSERT_EQ(split.validation.size(), 2);
  EXPECT_FLOAT_EQ(split.validation.targets(0, 1), 22.0F);
  EXPECT_EQ(split.training.targets.cols(), 10);

  NetworkSpec spec;
  spec.sizes = {1, 1};
  spec.activations = {Activation::identity};
  spec.cost = Cost::quadratic;
  Network<double> network(spec);
  network.layer(0).weights(0, 0) = 2.0;
  network.layer(0).biases(0) = 0.5;
  const Evaluation evaluation = evaluate(network, split.training);
  EXPECT_TRUE(evaluation.regression);
  EXPECT_NEAR(evaluation.rmse, 0.5, 1e-12);
  EXPECT_NEAR(evaluation.cost, 0.5 * 0.25, 1e-12);  // C_x = 1/2 (a - y)^2
  EXPECT_EQ(evaluation.correct, 0);
  EXPECT_DOUBLE_EQ(evaluation.score(), -0.5);

  // Classification and regression files do not mix.
  const Dataset classes = parse_csv("x,y\n1,2\n", "classes.csv", {});
  EXPECT_THROW(split_data(all, classes, 2), InputError);
}

}  // namespace
}  // namespace backprop
