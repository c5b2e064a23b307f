// Pictures of digits prepared as MNIST was (apps/digit_image.cpp), and
// `backprop predict` on PNG and JPEG files.
#include "digit_image.hpp"

#include <gtest/gtest.h>
#include <stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <numbers>
#include <sstream>

#include "backprop/error.hpp"
#include "backprop/idx.hpp"
#include "cli_run.hpp"
#include "shapes.hpp"
#include "temp_dir.hpp"

namespace backprop::test {
namespace {

namespace fs = std::filesystem;

using cli::GrayImage;
using cli::mnist_digit;

// A 28 x 28 shape as a picture (0 black .. 1 white), white on black.
GrayImage shape_picture(int shape, std::uint64_t seed) {
  Rng rng(seed);
  const std::vector<std::uint8_t> pixels = draw_shape(shape, rng);
  GrayImage image{28, 28, {}};
  for (std::uint8_t p : pixels) image.pixels.push_back(p / 255.0f);
  return image;
}

// Bilinear enlargement by `factor`, optionally inverted (dark on light),
// inside a margin of background: a photo-like version of a small picture.
GrayImage enlarge(const GrayImage& small, double factor, bool invert, int margin) {
  const int width = static_cast<int>(small.width * factor) + 2 * margin;
  const int height = static_cast<int>(small.height * factor) + 2 * margin;
  GrayImage large{width, height, {}};
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const double sx = std::clamp((x - margin + 0.5) / factor - 0.5, 0.0, small.width - 1.0);
      const double sy = std::clamp((y - margin + 0.5) / factor - 0.5, 0.0, small.height - 1.0);
      const int x0 = static_cast<int>(sx);
      const int y0 = static_cast<int>(sy);
      const int x1 = std::min(x0 + 1, small.width - 1);
      const int y1 = std::min(y0 + 1, small.height - 1);
      const double fx = sx - x0;
      const double fy = sy - y0;
      const bool inside = x >= margin && y >= margin && x < width - margin && y < height - margin;
      double v = inside ? (1 - fy) * ((1 - fx) * small.at(x0, y0) + fx * small.at(x1, y0)) +
                              fy * ((1 - fx) * small.at(x0, y1) + fx * small.at(x1, y1))
                        : 0.0;
      large.pixels.push_back(static_cast<float>(invert ? 1 - v : v));
    }
  }
  return large;
}

struct Moments {
  double mass = 0;
  double x = 0;  // centre of mass, in pixel indices
  double y = 0;
  int left = 28, right = -1, top = 28, bottom = -1;  // box of ink >= 0.1
};

Moments moments(const std::vector<float>& field) {
  Moments m;
  for (int r = 0; r < 28; ++r) {
    for (int c = 0; c < 28; ++c) {
      const double v = field[static_cast<std::size_t>(r * 28 + c)];
      m.mass += v;
      m.x += v * c;
      m.y += v * r;
      if (v >= 0.1) {
        m.left = std::min(m.left, c);
        m.right = std::max(m.right, c);
        m.top = std::min(m.top, r);
        m.bottom = std::max(m.bottom, r);
      }
    }
  }
  m.x /= m.mass;
  m.y /= m.mass;
  return m;
}

TEST(DigitImage, FitsTheBoxInto20x20KeepingItsAspectAndCentresTheMass) {
  // A 2:1 filled ellipse off in a corner of a 300 x 200 picture.
  GrayImage picture{300, 200, std::vector<float>(300 * 200, 0.0f)};
  for (int y = 0; y < 200; ++y) {
    for (int x = 0; x < 300; ++x) {
      const double u = (x + 0.5 - 60) / 40;
      const double v = (y + 0.5 - 150) / 20;
      if (u * u + v * v <= 1) picture.pixels[static_cast<std::size_t>(y * 300 + x)] = 1;
    }
  }
  const Moments m = moments(mnist_digit(picture, "ellipse"));
  EXPECT_NEAR(m.right - m.left + 1, 20, 1);  // the long side fills the 20-pixel box
  EXPECT_NEAR(m.bottom - m.top + 1, 10, 1);  // the short side keeps the 2:1 ratio
  EXPECT_NEAR(m.x, 14, 0.5);                 // whole-pixel shifts put the mass within half a pixel
  EXPECT_NEAR(m.y, 14, 0.5);
  // The filled inside is full ink, as MNIST's strokes are.
  EXPECT_NEAR(m.mass, std::numbers::pi * 10 * 5, 0.1 * std::numbers::pi * 10 * 5);
}

TEST(DigitImage, DarkOnLightReadsAsLightOnDark) {
  const GrayImage picture = enlarge(shape_picture(3, 4), 3.0, false, 5);
  GrayImage inverted = picture;
  for (float& v : inverted.pixels) v = 1 - v;
  const std::vector<float> a = mnist_digit(picture, "light on dark");
  const std::vector<float> b = mnist_digit(inverted, "dark on light");
  ASSERT_EQ(a.size(), 784u);
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5) << "pixel " << i;
}

// Mean |a - b| over the field, with b moved by (dx, dy) pixels.
double mean_difference(const std::vector<float>& a, const std::vector<float>& b, int dx, int dy) {
  double sum = 0;
  for (int r = 0; r < 28; ++r) {
    for (int c = 0; c < 28; ++c) {
      const int sr = r - dy;
      const int sc = c - dx;
      const float moved = sr >= 0 && sr < 28 && sc >= 0 && sc < 28 ? b[sr * 28 + sc] : 0.0f;
      sum += std::abs(a[r * 28 + c] - moved);
    }
  }
  return sum / 784;
}

TEST(DigitImage, AnEnlargedInvertedDigitComesBackAsTheOriginal) {
  // Preparing a prepared digit, or a big dark-on-light copy of it, gives
  // nearly the same 28 x 28 input: mean |difference| below 0.05 (0.01 to
  // 0.041 seen), where these shapes' strokes moved by one pixel cost 0.07
  // to 0.14. (The faint tips of thin strokes make the bounding boxes
  // differ by up to a pixel.) Where the centre of mass
  // lies near a half pixel, rounding may place the two a whole pixel
  // apart, so the best of the nine whole-pixel alignments is compared;
  // each is centred within half a pixel on its own.
  for (int shape = 0; shape < kShapeClasses; ++shape) {
    const GrayImage small = shape_picture(shape, 10 + shape);
    const std::vector<float> reference = mnist_digit(small, "small");
    for (const double factor : {2.5, 4.0, 7.3}) {
      const std::vector<float> large = mnist_digit(enlarge(small, factor, true, 17), "large");
      double best = 1;
      for (int dy = -1; dy <= 1; ++dy) {
        for (int dx = -1; dx <= 1; ++dx) {
          best = std::min(best, mean_difference(reference, large, dx, dy));
        }
      }
      EXPECT_LT(best, 0.05) << "shape " << shape << ", factor " << factor;
      const Moments m = moments(large);
      EXPECT_NEAR(m.x, 14, 0.5);
      EXPECT_NEAR(m.y, 14, 0.5);
    }
  }
}

TEST(DigitImage, ABlankPictureIsRefused) {
  const GrayImage white{40, 30, std::vector<float>(40 * 30, 1.0f)};
  EXPECT_THROW(mnist_digit(white, "white.png"), InputError);
  // Faint noise is not a digit either.
  GrayImage gray{40, 30, std::vector<float>(40 * 30, 0.5f)};
  gray.pixels[100] = 0.53f;
  EXPECT_THROW(mnist_digit(gray, "gray.png"), InputError);
}

TEST(DigitImage, ReadsColourAndTransparency) {
  TempDir dir;
  // Red ink on an opaque white background, and black ink on a transparent one.
  std::vector<unsigned char> rgb;
  std::vector<unsigned char> rgba;
  for (int i = 0; i < 4; ++i) {
    const bool ink = i == 1;
    rgb.insert(rgb.end(), {255, static_cast<unsigned char>(ink ? 0 : 255),
                           static_cast<unsigned char>(ink ? 0 : 255)});
    rgba.insert(rgba.end(), {0, 0, 0, static_cast<unsigned char>(ink ? 255 : 0)});
  }
  ASSERT_NE(stbi_write_png((dir / "red.png").c_str(), 2, 2, 3, rgb.data(), 6), 0);
  ASSERT_NE(stbi_write_png((dir / "clear.png").c_str(), 2, 2, 4, rgba.data(), 8), 0);
  ASSERT_NE(stbi_write_jpg((dir / "red.jpg").c_str(), 2, 2, 3, rgb.data(), 95), 0);
  const GrayImage red = cli::read_image(dir / "red.png");
  EXPECT_EQ(red.width, 2);
  EXPECT_NEAR(red.at(1, 0), 0.299, 1e-3);  // Rec. 601 luminance of pure red
  EXPECT_NEAR(red.at(0, 0), 1.0, 1e-6);
  const GrayImage clear = cli::read_image(dir / "clear.png");
  EXPECT_NEAR(clear.at(0, 0), 1.0, 1e-6);  // transparent shows as white
  EXPECT_NEAR(clear.at(1, 0), 0.0, 1e-6);
  EXPECT_TRUE(cli::is_image_file(dir / "red.png"));
  EXPECT_TRUE(cli::is_image_file(dir / "red.jpg"));
  EXPECT_EQ(cli::read_image(dir / "red.jpg").height, 2);
  std::ofstream(dir / "text.png") << "not a picture\n";
  EXPECT_FALSE(cli::is_image_file(dir / "text.png"));
  EXPECT_THROW(cli::read_image(dir / "text.png"), InputError);
  EXPECT_THROW(cli::read_image(dir / "missing.png"), InputError);
}

// `backprop predict` on pictures, with a network trained on the shapes.
class PredictPictures : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    write_shapes(*dir_ / "train", 600, 1);
    write_shapes(*dir_ / "test", 40, 2);
    const CliResult trained = run_cli(
        "train --layers 784,20,4 --cost cross-entropy --init scaled --eta 0.5 --epochs 6 "
        "--validation-size 100 --save " +
            (*dir_ / "shapes.bpm").string() + shapes_data_flags(dir_->path()),
        dir_->path());
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
  }
  static void TearDownTestSuite() { delete dir_; }

  // The predicted class on each line of predict's output, by its first word.
  static std::map<std::string, int> classes(const std::string& out) {
    std::map<std::string, int> found;
    std::istringstream lines(out);
    std::string name;
    std::string rest;
    while (lines >> name) {
      int predicted = -1;
      if (name != "#") lines >> predicted;
      std::getline(lines, rest);
      if (name != "#") found[name] = predicted;
    }
    return found;
  }

  static TempDir* dir_;
};

TempDir* PredictPictures::dir_ = nullptr;

TEST_F(PredictPictures, AnEnlargedInvertedTestImageGetsTheOriginalsClass) {
  const std::string model = (*dir_ / "shapes.bpm").string();
  const CliResult original = run_cli(
      "predict " + model + " --images " + (*dir_ / "test-images.idx").string(), dir_->path());
  ASSERT_EQ(original.exit_code, 0) << original.err;
  const std::map<std::string, int> expected = classes(original.out);
  ASSERT_EQ(expected.size(), 40u);
  // The network has learnt the shapes, so agreeing with it means something.
  const IdxArray labels = read_idx(*dir_ / "test-labels.idx");
  int correct = 0;
  for (int i = 0; i < 40; ++i) correct += expected.at(std::to_string(i)) == labels.data[i];
  ASSERT_GE(correct, 36) << original.out;

  // Each test image, 3.6 times larger, dark on light, with a margin: as
  // gray PNG, as colour PNG and as JPEG in turn.
  const IdxArray images = read_idx(*dir_ / "test-images.idx");
  std::string files;
  for (int i = 0; i < 40; ++i) {
    GrayImage small{28, 28, {}};
    for (int k = 0; k < 784; ++k) small.pixels.push_back(images.data[i * 784 + k] / 255.0f);
    const GrayImage large = enlarge(small, 3.6, true, 12);
    const int channels = i % 3 == 0 ? 1 : 3;
    std::vector<unsigned char> bytes;
    for (float v : large.pixels) {
      for (int c = 0; c < channels; ++c)
        bytes.push_back(static_cast<unsigned char>(std::lround(255 * v)));
    }
    const bool jpeg = i % 3 == 2;
    const fs::path file = *dir_ / ("digit" + std::to_string(i) + (jpeg ? ".jpg" : ".png"));
    const int written =
        jpeg ? stbi_write_jpg(file.c_str(), large.width, large.height, channels, bytes.data(), 95)
             : stbi_write_png(file.c_str(), large.width, large.height, channels, bytes.data(),
                              large.width * channels);
    ASSERT_NE(written, 0);
    files += " " + file.string();
  }
  const CliResult pictures = run_cli("predict " + model + " --images" + files, dir_->path());
  ASSERT_EQ(pictures.exit_code, 0) << pictures.err;
  const std::map<std::string, int> found = classes(pictures.out);
  ASSERT_EQ(found.size(), 40u) << pictures.out;
  for (int i = 0; i < 40; ++i) {
    const std::string name =
        (*dir_ / ("digit" + std::to_string(i) + (i % 3 == 2 ? ".jpg" : ".png"))).string();
    EXPECT_EQ(found.at(name), expected.at(std::to_string(i))) << name;
  }
}

TEST_F(PredictPictures, UnreadableOrNonImageFilesAreRefusedOnOneLine) {
  std::ofstream(*dir_ / "notes.png") << "these are notes\n";
  std::ofstream(*dir_ / "notes.txt") << "these are notes\n";
  {
    // A PNG cut off after its header.
    std::vector<unsigned char> gray(16 * 16, 128);
    ASSERT_NE(stbi_write_png((*dir_ / "whole.png").c_str(), 16, 16, 1, gray.data(), 16), 0);
    const std::string bytes = read_text(*dir_ / "whole.png");
    std::ofstream(*dir_ / "cut.png", std::ios::binary) << bytes.substr(0, 40);
  }
  const std::string model = (*dir_ / "shapes.bpm").string();
  for (const std::string file : {"notes.png", "notes.txt", "cut.png", "missing.png"}) {
    const CliResult result =
        run_cli("predict " + model + " --images " + (*dir_ / file).string(), dir_->path());
    EXPECT_EQ(result.exit_code, 2) << file << ": " << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    EXPECT_NE(result.err.find(file), std::string::npos) << result.err;
    EXPECT_EQ(result.out, "") << file;
  }
}

}  // namespace
}  // namespace backprop::test
