// Nielsen's network2.py model files (chapter 3): its save() writes
//
//   {"sizes": [784, 30, 10],
//    "weights": [w.tolist() for w in weights],   # w: n_l x n_{l-1}, a list of rows
//    "biases": [b.tolist() for b in biases],     # b: n_l x 1, so [[b_1], [b_2], ...]
//    "cost": "CrossEntropyCost"}                 # or "QuadraticCost"
//
// with sigmoid neurons everywhere. Row j, column k of w is w_jk, as in our
// W^l, so only the order changes: the parameter buffer holds W^l column by
// column, then b^l.
#include <climits>
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>

#include "backprop/atomic_file.hpp"
#include "backprop/error.hpp"
#include "backprop/model_file.hpp"
#include "model_file_internal.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// A network2 file holds each number as text, about 20 bytes: a gigabyte is
// some fifty million parameters, and the parsed tree takes several times that.
constexpr std::uint64_t kMaxJsonBytes = std::uint64_t{1} << 30;
constexpr std::string_view kFix = "give a file as network2.py's save() writes it";

// "weights[1][3]": where in the file a problem is.
std::string where(std::string_view key, std::initializer_list<std::size_t> indices) {
  std::string text(key);
  for (const std::size_t index : indices) {
    // Appended piece by piece: "[" + ... trips GCC 12's false -Wrestrict.
    text += '[';
    text += std::to_string(index);
    text += ']';
  }
  return text;
}

[[noreturn]] void bad(const fs::path& path, const std::string& at, const std::string& problem) {
  detail::fail(path, at + " " + problem, kFix);
}

// What was found instead, for messages: "the string \"0.5\"", "a list", ...
std::string found(const Json& value) {
  if (value.is_string()) {
    const std::string text = value.dump();
    return "the string " + (text.size() > 40 ? text.substr(0, 37) + "..." : text);
  }
  if (value.is_array()) return "a list of " + std::to_string(value.size());
  if (value.is_object()) return "an object";
  if (value.is_boolean()) return value.dump();
  if (value.is_null()) return "null";
  return value.dump();
}

// nlohmann's message without its "[json.exception.parse_error.101] " prefix,
// on one line.
std::string reason(const Json::exception& error) {
  std::string text = error.what();
  if (const auto end = text.find("] "); end != std::string::npos) text.erase(0, end + 2);
  for (char& c : text) c = c == '\n' ? ' ' : c;
  return text;
}

Json parse(const fs::path& path) {
  const std::string text = detail::read_whole_file(path, kMaxJsonBytes, "network2 JSON file");
  constexpr std::string_view fix = "fix the file or save it again";
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& error) {
    detail::fail(
        path, "malformed JSON at byte " + std::to_string(error.byte) + ": " + reason(error), fix);
  } catch (const Json::exception& error) {  // e.g. a number too large for a double
    detail::fail(path, "malformed JSON: " + reason(error), fix);
  }
}

const Json& member(const Json& root, const char* key, const fs::path& path) {
  const auto it = root.find(key);
  if (it == root.end()) {
    bad(path, key, "is missing (a network2 file has sizes, weights, biases and cost)");
  }
  return *it;
}

void check_list(const Json& value, std::size_t size, const std::string& at, const std::string& of,
                const fs::path& path) {
  if (!value.is_array() || value.size() != size) {
    bad(path, at, "must be a list of " + std::to_string(size) + " " + of + ", not " + found(value));
  }
}

void check_number(const Json& value, const std::string& at, const fs::path& path) {
  if (!value.is_number()) bad(path, at, "must be a number, not " + found(value));
}

NetworkSpec read_spec(const Json& root, const fs::path& path) {
  const Json& sizes = member(root, "sizes", path);
  if (!sizes.is_array() || sizes.size() < 2) {
    bad(path, "sizes",
        "must list at least two layer sizes, inputs first, e.g. [784, 30, 10], not " +
            found(sizes));
  }
  NetworkSpec spec;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const Json& size = sizes[i];
    if (!size.is_number_integer() || size.get<std::int64_t>() < 1 ||
        size.get<std::int64_t>() > INT_MAX) {
      bad(path, where("sizes", {i}), "must be a positive integer, not " + found(size));
    }
    spec.sizes.push_back(size.get<int>());
  }
  spec.activations.assign(spec.sizes.size() - 1, Activation::sigmoid);  // network2's only one
  const Json& cost = member(root, "cost", path);
  if (cost == "CrossEntropyCost") {
    spec.cost = Cost::cross_entropy;
  } else if (cost == "QuadraticCost") {
    spec.cost = Cost::quadratic;
  } else {
    bad(path, "cost", "is " + found(cost) + ": network2 knows QuadraticCost and CrossEntropyCost");
  }
  return spec;
}

// Checks every shape and type before anything is allocated: the sizes are
// only a claim until the lists are seen to hold that many numbers.
void check_shapes(const Json& weights, const Json& biases, const NetworkSpec& spec,
                  const fs::path& path) {
  const std::size_t layers = spec.sizes.size() - 1;
  check_list(weights, layers, "weights", "weight matrices (one per layer after the input)", path);
  check_list(biases, layers, "biases", "bias vectors (one per layer after the input)", path);
  for (std::size_t l = 0; l < layers; ++l) {
    const auto rows = static_cast<std::size_t>(spec.sizes[l + 1]);
    const auto columns = static_cast<std::size_t>(spec.sizes[l]);
    check_list(weights[l], rows, where("weights", {l}),
               "rows of " + std::to_string(columns) + " numbers (sizes[" + std::to_string(l + 1) +
                   "] x sizes[" + std::to_string(l) + "])",
               path);
    check_list(biases[l], rows, where("biases", {l}), "one-number lists [b]", path);
    for (std::size_t j = 0; j < rows; ++j) {
      check_list(weights[l][j], columns, where("weights", {l, j}), "numbers", path);
      for (std::size_t k = 0; k < columns; ++k) {
        check_number(weights[l][j][k], where("weights", {l, j, k}), path);
      }
      check_list(biases[l][j], 1, where("biases", {l, j}), "number", path);
      check_number(biases[l][j][0], where("biases", {l, j, 0}), path);
    }
  }
}

Vector<double> read_parameters(const Json& root, const NetworkSpec& spec, const fs::path& path) {
  const Json& weights = member(root, "weights", path);
  const Json& biases = member(root, "biases", path);
  check_shapes(weights, biases, spec, path);
  Vector<double> parameters(detail::parameter_count(spec));
  Eigen::Index offset = 0;
  for (std::size_t l = 0; l + 1 < spec.sizes.size(); ++l) {
    const Eigen::Index rows = spec.sizes[l + 1];
    const Eigen::Index columns = spec.sizes[l];
    for (Eigen::Index j = 0; j < rows; ++j) {
      const Json& row = weights[l][j];
      for (Eigen::Index k = 0; k < columns; ++k) {
        parameters[offset + k * rows + j] = row[k].get<double>();  // column-major
      }
      parameters[offset + rows * columns + j] = biases[l][j][0].get<double>();
    }
    offset += rows * columns + rows;
  }
  return parameters;
}

void check_representable(const NetworkSpec& spec, const fs::path& path) {
  const std::string cannot = path.string() + ": cannot save as network2 JSON: ";
  const std::string fix = "; save in backprop's own format instead";
  for (std::size_t l = 0; l < spec.activations.size(); ++l) {
    if (spec.activations[l] != Activation::sigmoid) {
      throw InputError(cannot + "layer " + std::to_string(l + 1) + " is " +
                       to_string(spec.activations[l]) + ", and network2 has only sigmoid layers" +
                       fix);
    }
  }
  if (spec.cost != Cost::quadratic && spec.cost != Cost::cross_entropy) {
    throw InputError(cannot + "the cost is " + to_string(spec.cost) +
                     ", and network2 has only the quadratic and cross-entropy costs" + fix);
  }
}

// Keys in network2's order. nlohmann writes each double in the shortest form
// that reads back to the same double, so the round trip is exact.
nlohmann::ordered_json to_json(const ModelFile& model) {
  const NetworkSpec& spec = model.spec;
  nlohmann::ordered_json weights = nlohmann::ordered_json::array();
  nlohmann::ordered_json biases = nlohmann::ordered_json::array();
  Eigen::Index offset = 0;
  for (std::size_t l = 0; l + 1 < spec.sizes.size(); ++l) {
    const Eigen::Index rows = spec.sizes[l + 1];
    const Eigen::Index columns = spec.sizes[l];
    nlohmann::ordered_json matrix = nlohmann::ordered_json::array();
    nlohmann::ordered_json vector = nlohmann::ordered_json::array();
    for (Eigen::Index j = 0; j < rows; ++j) {
      nlohmann::ordered_json row = nlohmann::ordered_json::array();
      for (Eigen::Index k = 0; k < columns; ++k)
        row.push_back(model.parameters[offset + k * rows + j]);
      matrix.push_back(std::move(row));
      vector.push_back(
          nlohmann::ordered_json::array({model.parameters[offset + rows * columns + j]}));
    }
    weights.push_back(std::move(matrix));
    biases.push_back(std::move(vector));
    offset += rows * columns + rows;
  }
  nlohmann::ordered_json root;
  root["sizes"] = spec.sizes;
  root["weights"] = std::move(weights);
  root["biases"] = std::move(biases);
  root["cost"] = spec.cost == Cost::cross_entropy ? "CrossEntropyCost" : "QuadraticCost";
  return root;
}

}  // namespace

ModelFile read_network2_json(const fs::path& path) {
  const Json root = parse(path);
  if (!root.is_object()) {
    detail::fail(path, "the JSON holds " + found(root) + ", not an object", kFix);
  }
  ModelFile model;
  model.precision = Precision::float64;  // Python's floats are doubles
  model.spec = read_spec(root, path);
  model.parameters = read_parameters(root, model.spec, path);
  detail::check_model(model, path.string(), kFix);  // JSON numbers may overflow to inf
  return model;
}

void write_network2_json(const fs::path& path, const ModelFile& model) {
  detail::check_model(model, path.string() + ": cannot save",
                      "save the network the parameters came from");
  check_representable(model.spec, path);
  atomic_write(path, to_json(model).dump());
}

}  // namespace backprop
