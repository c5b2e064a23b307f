// The `backprop` command end to end, on a small IDX data set made here.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "backprop/idx.hpp"
#include "backprop/rng.hpp"
#include "cli_run.hpp"
#include "quadrant_images.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;

using Result = test::CliResult;
using test::read_text;

class Cli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("backprop_cli_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    Rng rng(1);
    for (const auto& [name, count] : {std::pair{"train", 240}, std::pair{"test", 40}}) {
      std::vector<std::uint8_t> labels;
      write_idx(dir_ / (std::string(name) + "-images.idx"),
                test::quadrant_images(count, rng, labels));
      write_idx(dir_ / (std::string(name) + "-labels.idx.gz"),
                IdxArray{{static_cast<std::uint32_t>(count)}, labels}, true);
    }
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static std::string data_flags() {
    return " --train-images " + (dir_ / "train-images.idx").string() + " --train-labels " +
           (dir_ / "train-labels.idx.gz").string() + " --test-images " +
           (dir_ / "test-images.idx").string() + " --test-labels " +
           (dir_ / "test-labels.idx.gz").string();
  }

  static Result run(const std::string& arguments) { return test::run_cli(arguments, dir_); }

  // Bad input: exit code 2 and one line on stderr containing `phrase`.
  static void expect_rejected(const std::string& arguments, const std::string& phrase) {
    const Result result = run(arguments);
    EXPECT_EQ(result.exit_code, 2) << arguments << "\n" << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    EXPECT_NE(result.err.find(phrase), std::string::npos)
        << "stderr of `" << arguments << "` lacks '" << phrase << "':\n"
        << result.err;
  }

  static fs::path dir_;
};

fs::path Cli::dir_;

const std::string kSmallNetwork = " --layers 16,12,4 --epochs 3 --eta 2";

TEST_F(Cli, TrainPrintsTheBooksEpochLines) {
  const Result result = run("train" + kSmallNetwork + data_flags());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("Epoch 0: "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Epoch 2: "), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("Epoch 3"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find(" / 40 ("), std::string::npos) << result.out;
}

TEST_F(Cli, TrainIsReproducibleAndLearns) {
  const std::string arguments =
      "train --layers 16,12,4 --epochs 10 --eta 3 --seed 7 --monitor none" + data_flags();
  const Result first = run(arguments);
  const Result second = run(arguments);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  // Strip the timings: the rest (final test count) must match exactly.
  const auto tail = [](const std::string& out) { return out.substr(out.rfind("Test: ")); };
  EXPECT_EQ(tail(first.out), tail(second.out));
  int correct = 0;
  std::sscanf(tail(first.out).c_str(), "Test: %d", &correct);
  EXPECT_GE(correct, 36) << first.out;  // the quadrants are easy: >= 90 %
}

TEST_F(Cli, TrainInDoublePrecision) {
  const Result result = run("train --precision double" + kSmallNetwork + data_flags());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("double"), std::string::npos);
}

TEST_F(Cli, GradcheckPassesOnEachActivation) {
  for (const std::string activations : {"sigmoid", "tanh,softmax", "relu,sigmoid"}) {
    const std::string cost = activations == "tanh,softmax" ? "log-likelihood" : "cross-entropy";
    const Result result =
        run("gradcheck --layers 6,5,3 --activations " + activations + " --cost " + cost);
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    EXPECT_NE(result.out.find("gradient check passed"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("layer 2 (5 -> 3"), std::string::npos) << result.out;
  }
}

TEST_F(Cli, HelpExplainsEveryFlag) {
  const Result result = run("train --help");
  EXPECT_EQ(result.exit_code, 0);
  for (const char* flag : {"--layers", "--activations", "--cost", "--eta", "--mini-batch",
                           "--epochs", "--seed", "--dataset", "--train-images", "--precision"}) {
    EXPECT_NE(result.out.find(flag), std::string::npos) << flag;
  }
}

TEST_F(Cli, BadFlagsAreRejectedWithOneLine) {
  const std::string data = data_flags();
  expect_rejected("train --layers 16" + data, "no layers");
  expect_rejected("train --layers 10,8,4" + data, "16");
  expect_rejected("train --layers 16,8,4 --eta 0" + data, "--eta");
  expect_rejected("train --layers 16,8,4 --eta -1" + data, "--eta");
  expect_rejected("train --layers 16,8,4 --mini-batch 0" + data, "--mini-batch");
  expect_rejected("train --layers 16,8,4 --activations sigmod" + data, "unknown activation");
  expect_rejected("train --layers 16,8,4 --cost mse" + data, "unknown cost");
  expect_rejected("train --layers 16,8,4 --epochs many" + data, "--epochs");
  expect_rejected("train --layers 16,8,4 --no-such-flag" + data, "--no-such-flag");
  expect_rejected("train --layers 16,8,4 --activations relu --cost cross-entropy" + data,
                  "needs outputs in (0, 1)");
  expect_rejected("train --layers 16,8,4 --train-images " + (dir_ / "train-images.idx").string(),
                  "all four");
  expect_rejected("gradcheck --layers 4", "no layers");
  expect_rejected("frobnicate", "frobnicate");
}

TEST_F(Cli, BadDataFilesAreRejectedWithOneLine) {
  const fs::path missing = dir_ / "missing.idx";
  expect_rejected("train" + kSmallNetwork + " --train-images " + missing.string() +
                      " --train-labels " + (dir_ / "train-labels.idx.gz").string() +
                      " --test-images " + (dir_ / "test-images.idx").string() + " --test-labels " +
                      (dir_ / "test-labels.idx.gz").string(),
                  "missing.idx");

  // A truncated images file.
  const fs::path truncated = dir_ / "truncated.idx";
  fs::copy_file(dir_ / "train-images.idx", truncated, fs::copy_options::overwrite_existing);
  fs::resize_file(truncated, fs::file_size(truncated) - 5);
  expect_rejected("train" + kSmallNetwork + " --train-images " + truncated.string() +
                      " --train-labels " + (dir_ / "train-labels.idx.gz").string() +
                      " --test-images " + (dir_ / "test-images.idx").string() + " --test-labels " +
                      (dir_ / "test-labels.idx.gz").string(),
                  "truncated.idx");

  // Labels that the 4-output network cannot represent.
  std::vector<std::uint8_t> labels(240, 7);
  write_idx(dir_ / "sevens.idx", IdxArray{{240}, labels});
  expect_rejected("train" + kSmallNetwork + " --train-images " +
                      (dir_ / "train-images.idx").string() + " --train-labels " +
                      (dir_ / "sevens.idx").string() + " --test-images " +
                      (dir_ / "test-images.idx").string() + " --test-labels " +
                      (dir_ / "test-labels.idx.gz").string(),
                  "label 7");

  // Labels from the test set: 40 labels for 240 images.
  expect_rejected("train" + kSmallNetwork + " --train-images " +
                      (dir_ / "train-images.idx").string() + " --train-labels " +
                      (dir_ / "test-labels.idx.gz").string() + " --test-images " +
                      (dir_ / "test-images.idx").string() + " --test-labels " +
                      (dir_ / "test-labels.idx.gz").string(),
                  "240");
}

}  // namespace
}  // namespace backprop

namespace backprop {
namespace {

std::string bytes_of(const fs::path& path) { return read_text(path); }

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

class CliModels : public Cli {
 protected:
  static fs::path model() { return dir_ / "model.bpm"; }
  static void SetUpTestSuite() {
    Cli::SetUpTestSuite();
    const Result result =
        run("train" + kSmallNetwork + " --save " + model().string() + data_flags());
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
};

TEST_F(CliModels, SavedModelsInspectEvaluateAndPredict) {
  Result result = run("inspect " + model().string());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("layer 2: 12 -> 4, sigmoid"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("eta = 2"), std::string::npos) << result.out;

  result = run("eval " + model().string() + data_flags());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("test: "), std::string::npos);
  EXPECT_NE(result.out.find("confusion matrix"), std::string::npos);

  result = run("predict " + model().string() + " --images " + (dir_ / "test-images.idx").string());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(std::count(result.out.begin(), result.out.end(), '\n'), 41);  // header + 40 images
}

TEST_F(CliModels, Network2JsonSavesLoadsAndTrainsOn) {
  const fs::path json = dir_ / "model.json";
  Result result =
      run("train --cost cross-entropy" + kSmallNetwork + " --save " + json.string() + data_flags());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(bytes_of(json).find("CrossEntropyCost"), std::string::npos);
  result = run("train --epochs 1 --load " + json.string() + data_flags());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("Epoch 0: "), std::string::npos);
}

TEST_F(CliModels, ResumeEqualsAnUninterruptedRun) {
  const std::string common =
      " --layers 16,12,4 --optimizer momentum --eta 0.5 --dropout 0.1" + data_flags();
  const fs::path whole = dir_ / "whole.bpm";
  const fs::path resumed = dir_ / "resumed.bpm";
  const fs::path checkpoint = dir_ / "checkpoint.bpm";
  ASSERT_EQ(run("train --epochs 4 --save " + whole.string() + common).exit_code, 0);
  ASSERT_EQ(
      run("train --epochs 2 --checkpoint-every 2 --checkpoint " + checkpoint.string() + common)
          .exit_code,
      0);
  const Result result =
      run("train --resume " + checkpoint.string() + " --epochs 4 --save " + resumed.string());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("from epoch 2"), std::string::npos) << result.out;
  EXPECT_EQ(bytes_of(whole), bytes_of(resumed));
}

TEST_F(CliModels, ADivergingRunFailsWithWhereAndWhy) {
  const Result result =
      run("train --layers 16,12,4 --activations relu,identity --eta 1e6" + data_flags());
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("diverged in epoch"), std::string::npos) << result.err;
}

TEST_F(CliModels, BadModelFilesAreRejectedAndNothingIsOverwritten) {
  const std::string good = bytes_of(model());
  const fs::path target = dir_ / "keep.bpm";
  write_bytes(target, "precious");
  const auto rejected = [&](const std::string& name, const std::string& bytes,
                            const std::string& phrase) {
    const fs::path bad = dir_ / name;
    write_bytes(bad, bytes);
    expect_rejected(
        "train --epochs 1 --load " + bad.string() + " --save " + target.string() + data_flags(),
        phrase);
    expect_rejected("eval " + bad.string() + data_flags(), name);
    EXPECT_EQ(bytes_of(target), "precious") << name;
  };
  rejected("truncated.bpm", good.substr(0, good.size() / 2), "truncated.bpm");
  std::string magic = good;
  magic[0] = 'X';
  rejected("magic.bpm", magic, "magic.bpm");
  std::string future = good;
  future[8] = 9;  // format version 9
  rejected("future.bpm", future, "newer");
  std::string flipped = good;
  flipped[good.find("PARM") + 40] ^= 0x55;  // a weight: only the checksum can tell
  rejected("flipped.bpm", flipped, "checksum");
  rejected("shapes.json",
           R"({"sizes": [16, 12, 4], "weights": [[[1]]], "biases": [], "cost": "QuadraticCost"})",
           "shapes.json");
  rejected(
      "words.json",
      R"({"sizes": [1, 1], "weights": [[["one"]]], "biases": [[[0]]], "cost": "QuadraticCost"})",
      "words.json");

  // A sound model whose input layer does not fit the data.
  const fs::path wide = dir_ / "wide.bpm";
  ASSERT_EQ(
      run("train --layers 16,12,4 --epochs 1 --save " + wide.string() + data_flags()).exit_code, 0);
  write_idx(dir_ / "wide-images.idx", IdxArray{{240, 5, 5}, std::vector<std::uint8_t>(6000, 9)});
  expect_rejected("train --epochs 1 --load " + wide.string() + " --save " + target.string() +
                      " --train-images " + (dir_ / "wide-images.idx").string() +
                      " --train-labels " + (dir_ / "train-labels.idx.gz").string() +
                      " --test-images " + (dir_ / "wide-images.idx").string() + " --test-labels " +
                      (dir_ / "train-labels.idx.gz").string(),
                  "16 inputs");
  EXPECT_EQ(bytes_of(target), "precious");
}

}  // namespace
}  // namespace backprop
