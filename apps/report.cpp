#include "report.hpp"

#include <openssl/evp.h>
#include <stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>

#include "backprop/atomic_file.hpp"
#include "backprop/error.hpp"
#include "backprop/evaluation.hpp"
#include "report_page.hpp"

namespace backprop::cli {
namespace {

constexpr int kMaxNeuronsShown = 100;
constexpr int kMaxMisclassifiedShown = 60;
constexpr const char* kSets[] = {"training", "validation", "test"};

// How an input vector is drawn: as a square image when its length is a
// square (784 = 28 x 28), else as one row.
struct Shape {
  int width;
  int height;
};

Shape image_shape(int features) {
  const int side = static_cast<int>(std::lround(std::sqrt(features)));
  return side * side == features ? Shape{side, side} : Shape{features, 1};
}

// Pixels (rows of width x channels bytes) as "data:image/png;base64,...".
std::string png_data_uri(const std::vector<unsigned char>& pixels, Shape shape, int channels) {
  std::string png;
  const auto append = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data),
                                               static_cast<std::size_t>(size));
  };
  if (stbi_write_png_to_func(append, &png, shape.width, shape.height, channels, pixels.data(),
                             shape.width * channels) == 0) {
    throw Error("encoding a report image as PNG failed");
  }
  std::string text((png.size() + 2) / 3 * 4 + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()),
                                     reinterpret_cast<const unsigned char*>(png.data()),
                                     static_cast<int>(png.size()));
  text.resize(static_cast<std::size_t>(length));
  return "data:image/png;base64," + text;
}

// A test image, dark ink on white as on paper (the data hold 0 for the
// background and 1 for full ink).
std::string input_image(const Dataset& data, long example, Shape shape) {
  std::vector<unsigned char> pixels(static_cast<std::size_t>(data.features()));
  for (int k = 0; k < data.features(); ++k) {
    const float ink = std::clamp(data.input(k, example), 0.0f, 1.0f);
    pixels[static_cast<std::size_t>(k)] = static_cast<unsigned char>(std::lround(255 * (1 - ink)));
  }
  return png_data_uri(pixels, shape, 1);
}

// Neuron j's incoming weights w_jk as an image: white at zero, red for
// positive, blue for negative, full colour at the neuron's largest |w_jk|.
template <typename T>
std::string weight_image(const MatrixMap<T>& weights, int j, Shape shape) {
  const double scale = std::max(1e-12, static_cast<double>(weights.row(j).cwiseAbs().maxCoeff()));
  std::vector<unsigned char> pixels;
  pixels.reserve(static_cast<std::size_t>(3 * weights.cols()));
  for (Eigen::Index k = 0; k < weights.cols(); ++k) {
    const double v = static_cast<double>(weights(j, k)) / scale;
    const auto fade = static_cast<unsigned char>(std::lround(255 * (1 - std::abs(v))));
    if (v >= 0) {
      pixels.insert(pixels.end(), {255, fade, fade});
    } else {
      pixels.insert(pixels.end(), {fade, fade, 255});
    }
  }
  return png_data_uri(pixels, shape, 3);
}

nlohmann::json optional_number(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

std::string describe(const NetworkSpec& spec) {
  std::ostringstream text;
  text << '[';
  for (std::size_t i = 0; i < spec.sizes.size(); ++i) text << (i ? "," : "") << spec.sizes[i];
  text << "] ";
  for (std::size_t l = 0; l < spec.activations.size(); ++l) {
    text << (l ? "," : "") << to_string(spec.activations[l]);
  }
  text << ", " << to_string(spec.cost) << " cost";
  return text.str();
}

}  // namespace

MetricsRow metrics_row(const EpochReport& report, const std::string& run) {
  MetricsRow row;
  row.run = run;
  row.epoch = report.epoch;
  row.seconds = report.training_seconds;
  row.learning_rate = report.learning_rate;
  const std::optional<Evaluation>* sets[] = {&report.training, &report.validation, &report.test};
  for (int set = 0; set < 3; ++set) {
    if (*sets[set]) {
      row.cost[set] = (*sets[set])->cost;
      row.accuracy[set] = (*sets[set])->accuracy();
    }
  }
  return row;
}

void check_same_run(const std::vector<MetricsRow>& metrics,
                    const std::filesystem::path& metrics_path, const Settings& settings,
                    const std::filesystem::path& model_path) {
  const auto found = settings.find("run");
  if (found == settings.end() || found->second.empty()) {
    throw InputError("the model " + model_path.string() +
                     " names no training run (it predates run identifiers, or was not saved by "
                     "`backprop train`): use `backprop train --report` instead");
  }
  if (metrics.empty()) {
    throw InputError("the metrics file " + metrics_path.string() + " holds no epochs");
  }
  for (const MetricsRow& row : metrics) {
    if (row.run != found->second) {
      throw InputError("the metrics file " + metrics_path.string() + " is from run " +
                       (row.run.empty() ? std::string("(none named)") : row.run) + " (epoch " +
                       std::to_string(row.epoch) + ") but the model " + model_path.string() +
                       " is from run " + found->second +
                       ": give the --metrics file written by the same `backprop train`");
    }
  }
}

template <typename T>
void write_report(const std::filesystem::path& path, Network<T>& network, const Dataset& test,
                  const std::vector<MetricsRow>& metrics, const Settings& settings) {
  check_fits(test, network.spec().inputs(), network.spec().outputs());
  nlohmann::json data;
  data["network"] = describe(network.spec());
  const auto run = settings.find("run");
  data["run"] = run == settings.end() ? "" : run->second;
  data["settings"] = settings;

  data["epochs"] = nlohmann::json::array();
  for (const MetricsRow& row : metrics) {
    nlohmann::json epoch{
        {"epoch", row.epoch}, {"seconds", row.seconds}, {"learning_rate", row.learning_rate}};
    for (int set = 0; set < 3; ++set) {
      epoch["cost"][kSets[set]] = optional_number(row.cost[set]);
      epoch["accuracy"][kSets[set]] = optional_number(row.accuracy[set]);
    }
    data["epochs"].push_back(epoch);
  }

  const std::vector<int> predicted = predict_classes(network, test);
  const int classes = network.spec().outputs();
  std::vector<std::vector<long>> confusion(static_cast<std::size_t>(classes),
                                           std::vector<long>(static_cast<std::size_t>(classes)));
  long correct = 0;
  nlohmann::json shown = nlohmann::json::array();
  const Shape input_shape = image_shape(test.features());
  for (std::size_t i = 0; i < predicted.size(); ++i) {
    const int label = test.labels[i];
    ++confusion[static_cast<std::size_t>(label)][static_cast<std::size_t>(predicted[i])];
    if (label == predicted[i]) {
      ++correct;
    } else if (shown.size() < kMaxMisclassifiedShown) {
      shown.push_back({{"index", i},
                       {"label", label},
                       {"predicted", predicted[i]},
                       {"image", input_image(test, static_cast<long>(i), input_shape)}});
    }
  }
  data["confusion"] = confusion;
  data["test"] = {{"correct", correct}, {"total", test.size()}, {"source", test.source}};
  data["misclassified"] = {{"count", test.size() - correct}, {"shown", shown}};

  const auto& first = network.layer(0);
  nlohmann::json images = nlohmann::json::array();
  for (int j = 0; j < std::min(first.outputs(), kMaxNeuronsShown); ++j) {
    images.push_back(weight_image(first.weights, j, input_shape));
  }
  data["weights"] = {{"neurons", first.outputs()},
                     {"inputs", first.inputs()},
                     {"width", input_shape.width},
                     {"height", input_shape.height},
                     {"images", images}};

  // "</" inside the script block would end it; JSON allows "<\/" for it.
  std::string json = data.dump();
  for (std::size_t at = json.find("</"); at != std::string::npos; at = json.find("</", at)) {
    json.replace(at, 2, "<\\/");
  }
  std::string page(kReportPage);
  const std::string_view marker = "/*REPORT_DATA*/";
  const std::size_t at = page.find(marker);
  if (at == std::string::npos) throw Error("the report page lacks its data marker");
  page.replace(at, marker.size(), json);
  atomic_write(path, page);
}

template void write_report<float>(const std::filesystem::path&, Network<float>&, const Dataset&,
                                  const std::vector<MetricsRow>&, const Settings&);
template void write_report<double>(const std::filesystem::path&, Network<double>&, const Dataset&,
                                   const std::vector<MetricsRow>&, const Settings&);

}  // namespace backprop::cli
