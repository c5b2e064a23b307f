// Nielsen's split of an MNIST-format data set, on a small generated one.
#include "backprop/data_split.hpp"

#include <gtest/gtest.h>

#include <string>

#include "backprop/error.hpp"
#include "backprop/idx.hpp"
#include "temp_dir.hpp"

namespace backprop {
namespace {

// `count` images of 2 x 3 pixels, every pixel of image n equal to `first` + n,
// labelled n % 4, written under the standard names.
void write_part(const std::filesystem::path& images, const std::filesystem::path& labels,
                std::uint32_t count, std::uint8_t first, std::uint32_t rows = 2) {
  IdxArray image_array{{count, rows, 3}, {}};
  IdxArray label_array{{count}, {}};
  for (std::uint32_t n = 0; n < count; ++n) {
    image_array.data.insert(image_array.data.end(), rows * 3, static_cast<std::uint8_t>(first + n));
    label_array.data.push_back(static_cast<std::uint8_t>(n % 4));
  }
  write_idx(images, image_array);
  write_idx(labels, label_array, /*gzip=*/true);  // either form is read
}

class DataSplitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_part(files.training_images, files.training_labels, 12, 0);
    write_part(files.test_images, files.test_labels, 5, 100);
  }
  test::TempDir dir;
  IdxFiles files = IdxFiles::in_directory(dir.path());
};

TEST(IdxFiles, StandardNames) {
  const IdxFiles files = IdxFiles::in_directory("data/mnist");
  EXPECT_EQ(files.training_images, "data/mnist/train-images-idx3-ubyte");
  EXPECT_EQ(files.training_labels, "data/mnist/train-labels-idx1-ubyte");
  EXPECT_EQ(files.test_images, "data/mnist/t10k-images-idx3-ubyte");
  EXPECT_EQ(files.test_labels, "data/mnist/t10k-labels-idx1-ubyte");
}

TEST_F(DataSplitTest, LastExamplesValidate) {
  const DataSplit split = load_split(files, 4);
  ASSERT_EQ(split.training.size(), 8);
  ASSERT_EQ(split.validation.size(), 4);
  ASSERT_EQ(split.test.size(), 5);
  for (const Dataset* part : {&split.training, &split.validation, &split.test}) {
    EXPECT_EQ(part->features(), 6);
    EXPECT_EQ(part->classes, 4);
    EXPECT_EQ(part->pixels.cols(), part->size());
  }
  EXPECT_FLOAT_EQ(split.training.input(5, 7), 7.0f / 255.0f);
  EXPECT_FLOAT_EQ(split.validation.input(0, 0), 8.0f / 255.0f);
  EXPECT_FLOAT_EQ(split.validation.input(5, 3), 11.0f / 255.0f);
  EXPECT_FLOAT_EQ(split.test.input(0, 4), 104.0f / 255.0f);
  EXPECT_EQ(split.training.labels[7], 3);
  EXPECT_EQ(split.validation.labels[0], 0);
  EXPECT_NE(split.validation.source.find("train-images-idx3-ubyte (examples 8 to 11)"),
            std::string::npos)
      << split.validation.source;
}

TEST_F(DataSplitTest, NoValidation) {
  const DataSplit split = load_split(files, 0);
  EXPECT_EQ(split.training.size(), 12);
  EXPECT_EQ(split.validation.size(), 0);
}

TEST_F(DataSplitTest, ValidationSizeOutOfRange) {
  EXPECT_THROW(load_split(files, -1), InputError);
  EXPECT_THROW(load_split(files, 12), InputError);
}

TEST_F(DataSplitTest, TestSetOfAnotherShape) {
  write_part(files.test_images, files.test_labels, 5, 100, /*rows=*/4);
  try {
    load_split(files, 4);
    FAIL() << "accepted test images of another size";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("t10k-images-idx3-ubyte has 12 features"),
              std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace backprop
