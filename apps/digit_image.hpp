// Pictures of digits (PNG, JPEG) prepared the way MNIST's images were, so a
// network trained on MNIST can read a photo or a drawing.
//
// MNIST's recipe (LeCun et al.): the digit's bounding box is scaled, keeping
// its aspect ratio, to fit a 20 x 20 box with anti-aliasing, and placed in a
// 28 x 28 field so that its centre of mass is at the field's centre; the
// digit is white (1) on black (0).
#pragma once

#include <filesystem>
#include <vector>

namespace backprop::cli {

// A grayscale picture, row by row; 0 is black and 1 white.
struct GrayImage {
  int width = 0;
  int height = 0;
  std::vector<float> pixels;

  float at(int x, int y) const {
    return pixels[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) +
                  static_cast<std::size_t>(x)];
  }
};

// True if the file starts with a PNG or JPEG signature.
bool is_image_file(const std::filesystem::path& path);

// Reads a PNG or JPEG of any size, grayscale or colour (luminance by Rec.
// 601 weights; transparency is laid over white, as a viewer shows it).
// Throws InputError naming the file if it cannot be read or decoded.
GrayImage read_image(const std::filesystem::path& path);

constexpr int kMnistSide = 28;
constexpr int kMnistBox = 20;
constexpr int kMnistCentre = 14;  // the pixel the centre of mass goes to

// The 28 x 28 MNIST input (row by row, in [0, 1], 1 = ink) of a picture of
// one digit, dark on light or light on dark: which one is decided by the
// picture's border, taken to be background. Throws InputError (naming
// `source`) if the picture holds no ink at all.
std::vector<float> mnist_digit(const GrayImage& image, const std::string& source);

}  // namespace backprop::cli
