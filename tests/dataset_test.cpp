// Data sets: slices, mini-batch gathering with one-hot targets, and the
// check that a network fits the data.
#include "backprop/dataset.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backprop/error.hpp"
#include "backprop/evaluation.hpp"
#include "backprop/initialization.hpp"
#include "backprop/rng.hpp"

namespace backprop {
namespace {

// Five examples of three features; feature f of example n is 10 n + f.
Dataset small_dataset() {
  Dataset data;
  data.values.resize(3, 5);
  for (int n = 0; n < 5; ++n) {
    for (int f = 0; f < 3; ++f) data.values(f, n) = static_cast<float>(10 * n + f);
  }
  data.labels = {0, 2, 1, 2, 3};
  data.classes = 4;
  data.source = "small.idx";
  return data;
}

std::string input_error(const Dataset& data, int inputs, int outputs) {
  try {
    check_fits(data, inputs, outputs);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

TEST(Dataset, SliceCopiesExamplesAndKeepsClasses) {
  const Dataset data = small_dataset();
  const Dataset part = data.slice(1, 3);
  ASSERT_EQ(part.size(), 3);
  EXPECT_EQ(part.features(), 3);
  EXPECT_EQ(part.values(0, 0), 10.0f);
  EXPECT_EQ(part.values(2, 2), 32.0f);
  EXPECT_EQ(part.labels, (std::vector<int>{2, 1, 2}));
  EXPECT_EQ(part.classes, 4);
  EXPECT_EQ(part.source, "small.idx (examples 1 to 3)");
  EXPECT_EQ(data.slice(5, 0).size(), 0);
}

TEST(Dataset, SliceOutsideTheDataIsAnError) {
  const Dataset data = small_dataset();
  EXPECT_THROW(data.slice(-1, 2), Error);
  EXPECT_THROW(data.slice(4, 2), Error);
  EXPECT_THROW(data.slice(0, -1), Error);
}

template <typename T>
class Gather : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Gather, Scalars);

TYPED_TEST(Gather, ColumnsAndOneHotTargetsInIndexOrder) {
  const Dataset data = small_dataset();
  const std::vector<int> indices{4, 1, 1};
  Matrix<TypeParam> x;
  Matrix<TypeParam> y;
  gather(data, indices, 5, x, y);
  ASSERT_EQ(x.rows(), 3);
  ASSERT_EQ(x.cols(), 3);
  ASSERT_EQ(y.rows(), 5);
  ASSERT_EQ(y.cols(), 3);
  for (int j = 0; j < 3; ++j) {
    for (int f = 0; f < 3; ++f) EXPECT_EQ(x(f, j), TypeParam(10 * indices[j] + f));
    for (int k = 0; k < 5; ++k) {
      EXPECT_EQ(y(k, j), k == data.labels[indices[j]] ? TypeParam(1) : TypeParam(0));
    }
  }
}

TYPED_TEST(Gather, ReusesBuffersOfTheRightSize) {
  const Dataset data = small_dataset();
  Matrix<TypeParam> x(3, 2);
  Matrix<TypeParam> y(4, 2);
  const TypeParam* x_memory = x.data();
  const TypeParam* y_memory = y.data();
  y.setConstant(7);  // stale targets must be cleared
  gather(data, std::vector<int>{0, 3}, 4, x, y);
  EXPECT_EQ(x.data(), x_memory);
  EXPECT_EQ(y.data(), y_memory);
  EXPECT_EQ(y.sum(), TypeParam(2));
  EXPECT_EQ(y(2, 1), TypeParam(1));

  gather(data, std::vector<int>{0, 1, 2}, 4, x, y);  // a larger last batch resizes
  EXPECT_EQ(x.cols(), 3);
  EXPECT_EQ(y.cols(), 3);
}

TYPED_TEST(Gather, BadIndexOrLabelIsAnError) {
  const Dataset data = small_dataset();
  Matrix<TypeParam> x;
  Matrix<TypeParam> y;
  EXPECT_THROW(gather(data, std::vector<int>{5}, 4, x, y), Error);
  EXPECT_THROW(gather(data, std::vector<int>{-1}, 4, x, y), Error);
  EXPECT_THROW(gather(data, std::vector<int>{4}, 3, x, y), InputError);  // label 3, 3 outputs
}

// The same images held as bytes and as the floats they stand for (byte /
// 255): every way of reading the inputs, slices, gathered mini-batches and
// predictions give the same numbers.
TEST(Dataset, PixelsReadAsTheFloatsTheyStandFor) {
  Dataset bytes;
  bytes.pixels.resize(6, 40);
  Rng rng(9);
  for (Eigen::Index i = 0; i < bytes.pixels.size(); ++i) {
    bytes.pixels.data()[i] = static_cast<std::uint8_t>(rng.below(256));
  }
  bytes.labels.resize(40);
  for (int& label : bytes.labels) label = static_cast<int>(rng.below(3));
  bytes.classes = 3;
  Dataset floats = bytes;
  floats.pixels.resize(0, 0);
  floats.values = bytes.pixels.cast<float>() / 255.0f;
  ASSERT_TRUE(bytes.holds_pixels());
  ASSERT_FALSE(floats.holds_pixels());
  EXPECT_EQ(bytes.features(), 6);
  EXPECT_EQ(bytes.input(4, 33), floats.values(4, 33));
  EXPECT_EQ(bytes.input_columns(0, 40), floats.values);
  EXPECT_EQ(bytes.slice(7, 9).input_columns(0, 9), floats.values.middleCols(7, 9));
  EXPECT_EQ(bytes.slice(40, 0).features(), 6);  // an empty slice keeps its shape

  const std::vector<int> order{39, 0, 17, 17, 5};
  Matrix<float> x_bytes, y_bytes, x_floats, y_floats;
  gather(bytes, std::span<const int>(order), 3, x_bytes, y_bytes);
  gather(floats, std::span<const int>(order), 3, x_floats, y_floats);
  EXPECT_EQ(x_bytes, x_floats);
  EXPECT_EQ(y_bytes, y_floats);

  Network<float> network(
      NetworkSpec{{6, 8, 3}, {Activation::sigmoid, Activation::softmax}, Cost::log_likelihood});
  initialize(network, Initialization::large, rng);
  const std::vector<int> predicted = predict_classes(network, bytes, 16);
  EXPECT_EQ(predicted.size(), 40U);
  EXPECT_EQ(predicted, predict_classes(network, floats, 16));
  EXPECT_EQ(predicted, predict_classes(network, floats.values, 7));
}

TEST(CheckFits, AcceptsMatchingNetwork) {
  EXPECT_NO_THROW(check_fits(small_dataset(), 3, 4));
  EXPECT_NO_THROW(check_fits(small_dataset(), 3, 10));
}

TEST(CheckFits, WrongInputCount) {
  EXPECT_EQ(input_error(small_dataset(), 784, 10),
            "the network takes 784 inputs but small.idx has 3 features per example; make the "
            "first layer 3 wide");
}

TEST(CheckFits, LabelOutsideTheOutputs) {
  const std::string message = input_error(small_dataset(), 3, 3);
  EXPECT_NE(
      message.find("label 3 of example 4 in small.idx is outside the 3 outputs of the network"),
      std::string::npos)
      << message;
}

}  // namespace
}  // namespace backprop
