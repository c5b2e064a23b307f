// How `backprop train` shows its epochs: plain lines into a file or pipe, a
// live bar on a terminal, JSON objects with --json, nothing with --quiet.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "backprop/model_file.hpp"
#include "cli_run.hpp"
#include "shapes.hpp"
#include "temp_dir.hpp"

namespace backprop::test {
namespace {

class Progress : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    write_shapes(*dir_ / "train", 300, 1);
    write_shapes(*dir_ / "test", 60, 2);
  }
  static void TearDownTestSuite() { delete dir_; }
  static CliResult train(const std::string& flags) {
    return run_cli("train --layers 784,10,4 --epochs 3 --eta 1 --validation-size 60" + flags +
                       shapes_data_flags(dir_->path()),
                   dir_->path());
  }
  static TempDir* dir_;
};

TempDir* Progress::dir_ = nullptr;

TEST_F(Progress, PlainEpochLinesWhenNotATerminal) {
  const CliResult result = train("");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("Epoch 0: "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Epoch 2: "), std::string::npos) << result.out;
  // No bar: no carriage returns, no rates, in either stream.
  EXPECT_EQ((result.out + result.err).find('\r'), std::string::npos);
  EXPECT_EQ((result.out + result.err).find("ex/s"), std::string::npos);
}

TEST_F(Progress, JsonPrintsOneObjectPerEpochAndNothingElse) {
  const CliResult result =
      train(" --json --monitor training,validation,test --save " + (*dir_ / "m.bpm").string());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::istringstream lines(result.out);
  std::string line;
  int epoch = 0;
  std::string run;
  while (std::getline(lines, line)) {
    const nlohmann::json object = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(object.is_object()) << "not a JSON object: " << line;
    EXPECT_EQ(object.at("epoch"), epoch++);
    for (const char* set : {"training", "validation", "test"}) {
      const double accuracy = object.at(std::string(set) + "_accuracy");
      EXPECT_GE(accuracy, 0.0);
      EXPECT_LE(accuracy, 1.0);
      EXPECT_GT(object.at(std::string(set) + "_cost").get<double>(), 0.0);
    }
    if (run.empty()) run = object.at("run");
    EXPECT_EQ(object.at("run"), run);
  }
  EXPECT_EQ(epoch, 3) << result.out;
  // The other messages went to stderr; the run is the one saved in the model.
  EXPECT_NE(result.err.find("Training [784,10,4]"), std::string::npos) << result.err;
  EXPECT_EQ(read_model_file(*dir_ / "m.bpm").settings.at("run"), run);
}

TEST_F(Progress, QuietPrintsNothing) {
  const CliResult result = train(" --quiet --save " + (*dir_ / "quiet.bpm").string());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "");
  EXPECT_TRUE(std::filesystem::exists(*dir_ / "quiet.bpm"));
}

TEST_F(Progress, QuietStillReportsErrors) {
  const CliResult result = train(" --quiet --eta -1");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("--eta"), std::string::npos) << result.err;
}

TEST_F(Progress, LiveBarOnATerminal) {
  // util-linux's `script` runs the command on a pseudo-terminal.
  if (std::system("command -v script >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "util-linux `script` is not installed: cannot fake a terminal";
  }
  const std::string command = std::string(BACKPROP_CLI) +
                              " train --layers 784,10,4 --epochs 3 --eta 1 --validation-size 60" +
                              shapes_data_flags(dir_->path());
  const std::filesystem::path typescript = *dir_ / "terminal.txt";
  const std::string shell =
      "script -qfec '" + command + "' " + typescript.string() + " >/dev/null 2>&1 </dev/null";
  ASSERT_EQ(std::system(shell.c_str()), 0);
  const std::string screen = read_text(typescript);
  // The bar redraws in place and shows progress, speed, time left and cost.
  EXPECT_NE(screen.find("\r\033[KEpoch 0/3 ["), std::string::npos) << screen;
  EXPECT_NE(screen.find("] 240/240"), std::string::npos) << screen;
  EXPECT_NE(screen.find(" ex/s  ETA "), std::string::npos) << screen;
  EXPECT_NE(screen.find("  cost "), std::string::npos) << screen;
  // Each epoch still ends with the book's line, written over the cleared bar.
  EXPECT_NE(screen.find("\r\033[KEpoch 2: "), std::string::npos) << screen;
}

}  // namespace
}  // namespace backprop::test
