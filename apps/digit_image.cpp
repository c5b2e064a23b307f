#include "digit_image.hpp"

#include <stb_image.h>
#include <stb_image_resize.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <memory>

#include "backprop/error.hpp"

namespace backprop::cli {
namespace {

// Ink below this (after the background is taken out) is noise, not digit,
// when finding the bounding box: JPEG ringing, paper texture.
constexpr float kInkThreshold = 0.1f;

float median(std::vector<float> values) {
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

}  // namespace

bool is_image_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::array<unsigned char, 8> head{};
  in.read(reinterpret_cast<char*>(head.data()), head.size());
  const std::array<unsigned char, 8> png{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  const bool is_png = in.gcount() == 8 && head == png;
  const bool is_jpeg = in.gcount() >= 3 && head[0] == 0xff && head[1] == 0xd8 && head[2] == 0xff;
  return is_png || is_jpeg;
}

GrayImage read_image(const std::filesystem::path& path) {
  int width = 0;
  int height = 0;
  int channels = 0;
  // Always as RGBA: stb converts gray, gray+alpha, RGB and 16-bit to it.
  const std::unique_ptr<unsigned char, void (*)(void*)> rgba(
      stbi_load(path.c_str(), &width, &height, &channels, 4), stbi_image_free);
  if (!rgba) {
    throw InputError("cannot read the image " + path.string() + ": " + stbi_failure_reason() +
                     " (give a PNG or JPEG file, or an IDX file of images)");
  }
  GrayImage image;
  image.width = width;
  image.height = height;
  image.pixels.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height));
  for (std::size_t i = 0; i < image.pixels.size(); ++i) {
    const unsigned char* p = rgba.get() + 4 * i;
    const float luminance = (0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2]) / 255.0f;
    const float alpha = p[3] / 255.0f;
    image.pixels[i] = alpha * luminance + (1 - alpha);
  }
  return image;
}

std::vector<float> mnist_digit(const GrayImage& image, const std::string& source) {
  const int w = image.width;
  const int h = image.height;
  // The background is the border's typical level; a light one means a dark
  // digit, which MNIST's convention turns into white on black.
  std::vector<float> border;
  for (int x = 0; x < w; ++x) border.insert(border.end(), {image.at(x, 0), image.at(x, h - 1)});
  for (int y = 0; y < h; ++y) border.insert(border.end(), {image.at(0, y), image.at(w - 1, y)});
  const float background_level = median(border);
  const bool dark_on_light = background_level > 0.5f;
  const float background = dark_on_light ? 1 - background_level : background_level;
  if (background > 0.95f) throw InputError(source + " holds no digit: the picture is one colour");

  // Ink: 0 for the background, 1 for the strongest stroke colour.
  std::vector<float> ink(image.pixels.size());
  for (std::size_t i = 0; i < ink.size(); ++i) {
    const float v = dark_on_light ? 1 - image.pixels[i] : image.pixels[i];
    ink[i] = std::clamp((v - background) / (1 - background), 0.0f, 1.0f);
  }

  // The digit's bounding box.
  int left = w;
  int right = -1;
  int top = h;
  int bottom = -1;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      if (ink[static_cast<std::size_t>(y) * w + x] >= kInkThreshold) {
        left = std::min(left, x);
        right = std::max(right, x);
        top = std::min(top, y);
        bottom = std::max(bottom, y);
      }
    }
  }
  if (right < 0) throw InputError(source + " holds no digit: nothing stands out of the background");
  const int box_width = right - left + 1;
  const int box_height = bottom - top + 1;

  // Fit the box into 20 x 20, keeping the aspect ratio, with stb's filtered
  // (anti-aliased) resampling; outside the box counts as background.
  const double scale = static_cast<double>(kMnistBox) / std::max(box_width, box_height);
  const int fit_width = std::clamp(static_cast<int>(std::lround(box_width * scale)), 1, kMnistBox);
  const int fit_height =
      std::clamp(static_cast<int>(std::lround(box_height * scale)), 1, kMnistBox);
  std::vector<float> fitted(static_cast<std::size_t>(fit_width) * fit_height);
  const float* corner = ink.data() + static_cast<std::size_t>(top) * w + left;
  if (stbir_resize_float_generic(corner, box_width, box_height, w * static_cast<int>(sizeof(float)),
                                 fitted.data(), fit_width, fit_height,
                                 fit_width * static_cast<int>(sizeof(float)), 1,
                                 STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_ZERO, STBIR_FILTER_DEFAULT,
                                 STBIR_COLORSPACE_LINEAR, nullptr) == 0) {
    throw Error("resizing " + source + " failed (out of memory?)");
  }
  // Cubic filters overshoot a little at sharp edges.
  for (float& v : fitted) v = std::clamp(v, 0.0f, 1.0f);

  // Centre of mass, in pixel indices.
  double mass = 0;
  double moment_x = 0;
  double moment_y = 0;
  for (int y = 0; y < fit_height; ++y) {
    for (int x = 0; x < fit_width; ++x) {
      const double v = fitted[static_cast<std::size_t>(y) * fit_width + x];
      mass += v;
      moment_x += v * x;
      moment_y += v * y;
    }
  }
  if (mass <= 0) throw InputError(source + " holds no digit: it vanished when fitted to 20 x 20");
  // Shift by whole pixels so the centre of mass lands on pixel (14, 14),
  // keeping the whole box inside the field. That is where MNIST's digits
  // have theirs: over its first 300 test digits, 0.51 pixels right of and
  // 0.49 below the field's geometric centre (14, 14 in pixel edges) on
  // average, i.e. at the centre of pixel 14.
  const int offset_x = std::clamp(static_cast<int>(std::lround(kMnistCentre - moment_x / mass)), 0,
                                  kMnistSide - fit_width);
  const int offset_y = std::clamp(static_cast<int>(std::lround(kMnistCentre - moment_y / mass)), 0,
                                  kMnistSide - fit_height);
  std::vector<float> field(kMnistSide * kMnistSide, 0.0f);
  for (int y = 0; y < fit_height; ++y) {
    for (int x = 0; x < fit_width; ++x) {
      field[static_cast<std::size_t>(y + offset_y) * kMnistSide + (x + offset_x)] =
          fitted[static_cast<std::size_t>(y) * fit_width + x];
    }
  }
  return field;
}

}  // namespace backprop::cli
