// network2.py's JSON model files: numbers land where the book's w_jk and
// b_j say, the network computes what the hand-worked formula does, writing
// and reading back is exact, the written file has network2's shape (and,
// where Python and numpy are installed, numpy computes the same outputs from
// it), and every malformed file is refused naming the file and the JSON path.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "backprop/error.hpp"
#include "backprop/initialization.hpp"
#include "backprop/model_file.hpp"
#include "backprop/rng.hpp"
#include "temp_dir.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;

#define EXPECT_CONTAINS(text, phrase) \
  EXPECT_NE(std::string(text).find(phrase), std::string::npos) << (text)

void write_text(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A [2, 3, 1] network as network2.py's save() would write it; each field can
// be replaced (or left out, with "") to make a bad file.
struct Fields {
  std::string sizes = "[2, 3, 1]";
  std::string weights = "[[[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]], [[0.7, -0.8, 0.9]]]";
  std::string biases = "[[[0.01], [-0.02], [0.03]], [[-0.04]]]";
  std::string cost = "\"CrossEntropyCost\"";
};

std::string json_text(const Fields& fields) {
  std::string text;
  for (const auto& [key, value] : {std::pair{"sizes", fields.sizes},
                                   {"weights", fields.weights},
                                   {"biases", fields.biases},
                                   {"cost", fields.cost}}) {
    if (value.empty()) continue;
    text += std::string(text.empty() ? "{" : ", ") + "\"" + key + "\": " + value;
  }
  return text + "}";
}

// The message of the InputError read_network2_json throws, checked to be
// one line naming the file.
std::string load_error(const fs::path& path, const std::string& text) {
  write_text(path, text);
  try {
    read_network2_json(path);
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(path.filename().string()), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    return message;
  }
  ADD_FAILURE() << "accepted " << text;
  return "";
}

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

TEST(Network2Json, NumbersLandWhereTheBookPutsThem) {
  test::TempDir dir;
  write_text(dir / "tiny.json", json_text({}));
  const ModelFile model = read_network2_json(dir / "tiny.json");
  EXPECT_EQ(model.spec.sizes, (std::vector<int>{2, 3, 1}));
  EXPECT_EQ(model.spec.activations,
            (std::vector<Activation>{Activation::sigmoid, Activation::sigmoid}));
  EXPECT_EQ(model.spec.cost, Cost::cross_entropy);
  EXPECT_EQ(model.precision, Precision::float64);

  Network<double> network = model.to_network<double>();
  // W^1(j, k) = weights[0][j][k], b^1(j) = biases[0][j][0].
  const auto& first = network.layer(0);
  EXPECT_EQ(first.weights(0, 0), 0.1);
  EXPECT_EQ(first.weights(0, 1), -0.2);
  EXPECT_EQ(first.weights(1, 0), 0.3);
  EXPECT_EQ(first.weights(2, 1), 0.6);
  EXPECT_EQ(first.biases(1), -0.02);
  EXPECT_EQ(network.layer(1).weights(0, 2), 0.9);
  EXPECT_EQ(network.layer(1).biases(0), -0.04);
  // In the one buffer: W^1 column by column, then b^1, then W^2, b^2.
  const std::vector<double> buffer{0.1,   0.3,  -0.5, -0.2, 0.4, 0.6,  0.01,
                                   -0.02, 0.03, 0.7,  -0.8, 0.9, -0.04};
  EXPECT_EQ(std::vector<double>(model.parameters.begin(), model.parameters.end()), buffer);
}

TEST(Network2Json, FeedforwardMatchesTheHandComputation) {
  test::TempDir dir;
  write_text(dir / "tiny.json", json_text({}));
  Network<double> network = read_network2_json(dir / "tiny.json").to_network<double>();
  const double w1[3][2] = {{0.1, -0.2}, {0.3, 0.4}, {-0.5, 0.6}};
  const double b1[3] = {0.01, -0.02, 0.03};
  const double w2[3] = {0.7, -0.8, 0.9};
  const double b2 = -0.04;
  Matrix<double> x(2, 3);
  x << 0.5, -1.0, 2.0,  //
      -1.5, 0.25, 1.0;
  const Matrix<double> a = network.feedforward(x);
  for (int example = 0; example < 3; ++example) {
    // a^1_j = sigma(sum_k w_jk x_k + b_j), a^2 = sigma(sum_j w_j a^1_j + b).
    double z2 = b2;
    for (int j = 0; j < 3; ++j) {
      const double z1 = w1[j][0] * x(0, example) + w1[j][1] * x(1, example) + b1[j];
      z2 += w2[j] * sigmoid(z1);
    }
    EXPECT_NEAR(a(0, example), sigmoid(z2), 1e-15) << "example " << example;
  }
}

Network<double> random_network(const NetworkSpec& spec) {
  Network<double> network(spec);
  Rng rng(31);
  initialize(network, Initialization::scaled, rng);
  return network;
}

NetworkSpec sigmoid_spec(Cost cost) {
  return {{4, 5, 3}, {Activation::sigmoid, Activation::sigmoid}, cost};
}

TEST(Network2Json, WriteThenReadIsExact) {
  test::TempDir dir;
  for (const Cost cost : {Cost::quadratic, Cost::cross_entropy}) {
    const ModelFile written = ModelFile::from(random_network(sigmoid_spec(cost)));
    write_network2_json(dir / "net.json", written);
    const ModelFile read = read_network2_json(dir / "net.json");
    EXPECT_EQ(read.spec.sizes, written.spec.sizes);
    EXPECT_EQ(read.spec.cost, cost);
    EXPECT_EQ(read.parameters, written.parameters);  // exact: every double round-trips
  }
}

TEST(Network2Json, WrittenFileHasNetwork2sShape) {
  test::TempDir dir;
  write_text(dir / "tiny.json", json_text({}));
  write_network2_json(dir / "out.json", read_network2_json(dir / "tiny.json"));
  const auto json = nlohmann::ordered_json::parse(read_text(dir / "out.json"));
  ASSERT_TRUE(json.is_object());
  std::vector<std::string> keys;
  for (const auto& item : json.items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"sizes", "weights", "biases", "cost"}));
  EXPECT_EQ(json["sizes"], nlohmann::ordered_json::parse("[2, 3, 1]"));
  EXPECT_TRUE(json["sizes"][0].is_number_integer());
  EXPECT_EQ(json["weights"], nlohmann::ordered_json::parse(Fields{}.weights));
  EXPECT_EQ(json["biases"], nlohmann::ordered_json::parse(Fields{}.biases));
  ASSERT_EQ(json["biases"][0].size(), 3u);
  EXPECT_TRUE(json["biases"][0][2].is_array());
  EXPECT_EQ(json["biases"][0][2].size(), 1u);
  EXPECT_EQ(json["cost"], "CrossEntropyCost");
}

TEST(Network2Json, AcceptsIntegersAndExtraKeys) {
  test::TempDir dir;
  Fields fields;
  fields.weights = "[[[1, 0], [0, -2], [3, 1e-3]], [[0, 1, 2.5E2]]]";
  fields.cost = "\"QuadraticCost\", \"eta\": 0.5";
  write_text(dir / "ints.json", json_text(fields));
  const ModelFile model = read_network2_json(dir / "ints.json");
  EXPECT_EQ(model.spec.cost, Cost::quadratic);
  EXPECT_EQ(model.parameters[4], -2.0);    // W^1 row 1, column 1
  EXPECT_EQ(model.parameters[11], 250.0);  // W^2 row 0, column 2
}

TEST(Network2JsonErrors, MalformedJson) {
  test::TempDir dir;
  const std::string message = load_error(dir / "cut.json", R"({"sizes": [2, 3,)");
  EXPECT_CONTAINS(message, "malformed JSON at byte 17");
  EXPECT_CONTAINS(message, "line 1, column 17");
  Fields huge;
  huge.biases = "[[[1e999], [0], [0]], [[0]]]";
  EXPECT_CONTAINS(load_error(dir / "huge.json", json_text(huge)),
                  "malformed JSON: number overflow");
}

TEST(Network2JsonErrors, MissingFileAndNotAnObject) {
  test::TempDir dir;
  EXPECT_THROW(read_network2_json(dir / "absent.json"), InputError);
  EXPECT_CONTAINS(load_error(dir / "list.json", "[1, 2]"), "not an object");
}

TEST(Network2JsonErrors, MissingKeys) {
  test::TempDir dir;
  for (const char* key : {"sizes", "weights", "biases", "cost"}) {
    Fields fields;
    if (key == std::string("sizes")) fields.sizes = "";
    if (key == std::string("weights")) fields.weights = "";
    if (key == std::string("biases")) fields.biases = "";
    if (key == std::string("cost")) fields.cost = "";
    const std::string message = load_error(dir / "missing.json", json_text(fields));
    EXPECT_CONTAINS(message, std::string(key) + " is missing");
  }
}

TEST(Network2JsonErrors, Sizes) {
  test::TempDir dir;
  Fields fields;
  fields.sizes = "[2]";
  EXPECT_CONTAINS(load_error(dir / "one.json", json_text(fields)),
                  "sizes must list at least two layer sizes");
  fields.sizes = "[2, 0, 1]";
  EXPECT_CONTAINS(load_error(dir / "zero.json", json_text(fields)),
                  "sizes[1] must be a positive integer, not 0");
  fields.sizes = "[2, 3.5, 1]";
  EXPECT_CONTAINS(load_error(dir / "half.json", json_text(fields)), "sizes[1]");
}

TEST(Network2JsonErrors, WrongShapes) {
  test::TempDir dir;
  Fields rows;
  rows.weights = "[[[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]], [[0.7, -0.8, 0.9], [1, 2, 3]]]";
  EXPECT_CONTAINS(load_error(dir / "rows.json", json_text(rows)),
                  "weights[1] must be a list of 1 rows of 3 numbers");
  Fields columns;
  columns.weights = "[[[0.1, -0.2], [0.3, 0.4], [-0.5]], [[0.7, -0.8, 0.9]]]";
  EXPECT_CONTAINS(load_error(dir / "columns.json", json_text(columns)),
                  "weights[0][2] must be a list of 2 numbers, not a list of 1");
  Fields layers;
  layers.weights = "[[[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]]]";
  EXPECT_CONTAINS(load_error(dir / "layers.json", json_text(layers)),
                  "weights must be a list of 2");
  Fields flat;
  flat.biases = "[[0.01, -0.02, 0.03], [-0.04]]";
  EXPECT_CONTAINS(load_error(dir / "flat.json", json_text(flat)),
                  "biases[0][0] must be a list of 1 number, not 0.01");
}

TEST(Network2JsonErrors, NotANumber) {
  test::TempDir dir;
  Fields fields;
  fields.weights = R"([[[0.1, -0.2], ["0.3", 0.4], [-0.5, 0.6]], [[0.7, -0.8, 0.9]]])";
  EXPECT_CONTAINS(load_error(dir / "string.json", json_text(fields)),
                  "weights[0][1][0] must be a number, not the string \"0.3\"");
  fields = {};
  fields.biases = "[[[0.01], [null], [0.03]], [[-0.04]]]";
  EXPECT_CONTAINS(load_error(dir / "null.json", json_text(fields)),
                  "biases[0][1][0] must be a number, not null");
}

TEST(Network2JsonErrors, UnknownCost) {
  test::TempDir dir;
  Fields fields;
  fields.cost = "\"LogLikelihoodCost\"";
  const std::string message = load_error(dir / "cost.json", json_text(fields));
  EXPECT_CONTAINS(message, "cost is the string \"LogLikelihoodCost\"");
  EXPECT_CONTAINS(message, "QuadraticCost and CrossEntropyCost");
}

TEST(Network2JsonErrors, WriteRefusesWhatNetwork2CannotRepresent) {
  test::TempDir dir;
  const NetworkSpec relu{{4, 5, 3}, {Activation::relu, Activation::sigmoid}, Cost::quadratic};
  const NetworkSpec softmax{
      {4, 5, 3}, {Activation::sigmoid, Activation::softmax}, Cost::log_likelihood};
  for (const NetworkSpec& spec : {relu, softmax}) {
    try {
      write_network2_json(dir / "net.json", ModelFile::from(random_network(spec)));
      ADD_FAILURE() << "wrote a network network2 cannot represent";
    } catch (const InputError& error) {
      EXPECT_CONTAINS(error.what(), "cannot save as network2 JSON");
      EXPECT_CONTAINS(error.what(), "save in backprop's own format instead");
    }
  }
  EXPECT_FALSE(fs::exists(dir / "net.json"));
}

// Cross-check against numpy: a few lines that do what network2.load() and
// Network.feedforward() do, run on a file backprop wrote.
constexpr char kNumpyFeedforward[] = R"(import json, sys
import numpy as np
with open(sys.argv[1]) as f:
    data = json.load(f)
weights = [np.array(w) for w in data["weights"]]
biases = [np.array(b) for b in data["biases"]]
with open(sys.argv[2]) as f:
    examples = json.load(f)
for x in examples:
    a = np.array(x).reshape(-1, 1)
    for w, b in zip(weights, biases):
        a = 1.0 / (1.0 + np.exp(-(np.dot(w, a) + b)))
    print(" ".join(repr(float(v)) for v in a.ravel()))
)";

TEST(Network2Json, NumpyComputesTheSameOutputs) {
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "needs /usr/bin/python3 with numpy (Debian: python3-numpy)";
  }
  test::TempDir dir;
  Network<double> network = random_network(sigmoid_spec(Cost::cross_entropy));
  write_network2_json(dir / "net.json", ModelFile::from(network));
  Rng rng(5);
  Matrix<double> x(4, 6);
  for (double& value : x.reshaped()) value = rng.normal();
  nlohmann::json examples = nlohmann::json::array();
  for (Eigen::Index i = 0; i < x.cols(); ++i) {
    examples.push_back(std::vector<double>(x.col(i).begin(), x.col(i).end()));
  }
  write_text(dir / "x.json", examples.dump());
  write_text(dir / "feedforward.py", kNumpyFeedforward);

  const std::string command = "/usr/bin/python3 '" + (dir / "feedforward.py").string() + "' '" +
                              (dir / "net.json").string() + "' '" + (dir / "x.json").string() + "'";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  while (const std::size_t got = std::fread(buffer, 1, sizeof buffer, pipe)) {
    output.append(buffer, got);
  }
  ASSERT_EQ(pclose(pipe), 0) << output;

  const Matrix<double> a = network.feedforward(x);
  std::istringstream lines(output);
  for (Eigen::Index example = 0; example < a.cols(); ++example) {
    for (Eigen::Index j = 0; j < a.rows(); ++j) {
      double value = 0;
      ASSERT_TRUE(lines >> value) << output;
      EXPECT_NEAR(value, a(j, example), 1e-12) << "example " << example << ", output " << j;
    }
  }
}

}  // namespace
}  // namespace backprop
