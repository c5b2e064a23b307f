// The command line's newer surface end to end: config files, CSV data
// (classification and regression), the settings saved in model files, shell
// completion and --version.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "backprop/rng.hpp"
#include "backprop/version.hpp"
#include "cli_run.hpp"
#include "temp_dir.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;

using Result = test::CliResult;
using test::read_text;

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// Rows of three features in [-1, 1] and a target: the class
// [a + b > 0] + 2 [c > 0.3] (four classes), or for regression the linear
// function 0.5 a - 0.3 b + 0.2 c + 0.1.
std::string csv_rows(int count, bool regression, Rng& rng) {
  std::ostringstream text;
  text << "a,b,c,y\n";
  for (int i = 0; i < count; ++i) {
    const double a = 2 * rng.uniform() - 1;
    const double b = 2 * rng.uniform() - 1;
    const double c = 2 * rng.uniform() - 1;
    text << a << ',' << b << ',' << c << ',';
    if (regression) {
      text << 0.5 * a - 0.3 * b + 0.2 * c + 0.1 << '\n';
    } else {
      text << (a + b > 0 ? 1 : 0) + (c > 0.3 ? 2 : 0) << '\n';
    }
  }
  return text.str();
}

class CliPackage : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir;
    Rng rng(5);
    write_text(*dir_ / "classes-train.csv", csv_rows(600, false, rng));
    write_text(*dir_ / "classes-test.csv", csv_rows(100, false, rng));
    write_text(*dir_ / "values-train.csv", csv_rows(600, true, rng));
    write_text(*dir_ / "values-test.csv", csv_rows(100, true, rng));
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static std::string path(const std::string& name) { return (*dir_ / name).string(); }

  static std::string classes() {
    return " --train-csv " + path("classes-train.csv") + " --test-csv " + path("classes-test.csv");
  }
  static std::string values() {
    return " --train-csv " + path("values-train.csv") + " --test-csv " + path("values-test.csv") +
           " --regression";
  }

  static Result run(const std::string& arguments) { return test::run_cli(arguments, dir_->path()); }

  // Runs a shell command line, capturing what it prints.
  static Result shell(const std::string& line) { return test::run_shell(line, dir_->path()); }

  // Bad input: exit code 2, nothing on stdout, one line on stderr holding
  // every phrase.
  static void expect_rejected(const std::string& arguments,
                              const std::vector<std::string>& phrases) {
    const Result result = run(arguments);
    EXPECT_EQ(result.exit_code, 2) << arguments << "\n" << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    for (const std::string& phrase : phrases) {
      EXPECT_NE(result.err.find(phrase), std::string::npos)
          << "stderr of `" << arguments << "` lacks '" << phrase << "':\n"
          << result.err;
    }
  }

  // The `key = value` lines `inspect` prints for a model's settings.
  static std::map<std::string, std::string> settings_of(const std::string& model) {
    const Result result = run("inspect " + model);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    std::map<std::string, std::string> settings;
    const std::regex line(R"(^    (\w+) = (.*)$)");
    std::istringstream lines(result.out);
    std::string text;
    std::smatch match;
    while (std::getline(lines, text)) {
      if (std::regex_match(text, match, line)) settings[match[1]] = match[2];
    }
    return settings;
  }

  static test::TempDir* dir_;
};

test::TempDir* CliPackage::dir_ = nullptr;

const std::string kClassifier = " --layers 3,10,4 --cost cross-entropy --init scaled";

TEST_F(CliPackage, TomlConfigSetsFlagsAndTheCommandLineWins) {
  write_text(*dir_ / "run.toml",
             "# an experiment\n"
             "layers = [3, 10, 4]\n"
             "cost = \"cross-entropy\"\n"
             "init = \"scaled\"\n"
             "eta = 0.75\n"
             "epochs = 3\n"
             "mini_batch = 20\n"
             "dropout = 0.1\n"
             "monitor = [\"validation\", \"test\"]\n"
             "no-shuffle = true\n");
  const Result result = run("train --config " + path("run.toml") + " --epochs 2 --save " +
                            path("toml.bpm") + classes());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("eta 0.75, mini-batch 20, 2 epochs"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("| validation cost"), std::string::npos) << result.out;

  const auto settings = settings_of(path("toml.bpm"));
  EXPECT_EQ(settings.at("eta"), "0.75");
  EXPECT_EQ(settings.at("epochs"), "2");  // the command line won over the file's 3
  EXPECT_EQ(settings.at("mini_batch"), "20");
  EXPECT_EQ(settings.at("dropout"), "0.1,0");
  EXPECT_EQ(settings.at("no_shuffle"), "true");
  EXPECT_EQ(settings.at("cost"), "cross-entropy");
  EXPECT_EQ(settings.at("config"), path("run.toml"));
}

TEST_F(CliPackage, JsonConfigSetsFlagsAndTheCommandLineWins) {
  write_text(*dir_ / "run.json",
             R"({"train-csv": ")" + path("values-train.csv") + R"(", "test_csv": ")" +
                 path("values-test.csv") +
                 R"(", "regression": true, "layers": [3, 8, 1], "activations": ["tanh",
                 "identity"], "eta": 0.05, "epochs": 2, "seed": 7})");
  const Result result =
      run("train --config " + path("run.json") + " --seed 9 --save " + path("json.bpm"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto settings = settings_of(path("json.bpm"));
  EXPECT_EQ(settings.at("seed"), "9");
  EXPECT_EQ(settings.at("eta"), "0.05");
  EXPECT_EQ(settings.at("activations"), "tanh,identity");
  EXPECT_EQ(settings.at("regression"), "true");
  EXPECT_EQ(settings.at("train_csv"), path("values-train.csv"));
}

TEST_F(CliPackage, ConfigErrorsNameTheFileTheKeyAndTheType) {
  const auto rejected = [&](const std::string& name, const std::string& text,
                            const std::vector<std::string>& phrases) {
    write_text(*dir_ / name, text);
    std::vector<std::string> all{path(name)};
    all.insert(all.end(), phrases.begin(), phrases.end());
    expect_rejected("train --config " + path(name) + classes(), all);
  };
  rejected("unknown.toml", "eta = 1\netta = 2\n", {"unknown key 'etta'"});
  rejected("unknown.json", R"({"epochs": 1, "learning_rate": 2})", {"unknown key 'learning_rate'"});
  rejected("type.json", R"({"eta": "fast"})", {"key 'eta' should be a number"});
  rejected("type.toml", "epochs = 2.5\n", {"key 'epochs' should be an integer"});
  rejected("list.toml", "layers = [3, \"ten\", 4]\n",
           {"key 'layers' should be an integer or a list of integers"});
  rejected("flag.json", R"({"no-shuffle": "yes"})", {"key 'no-shuffle' should be true or false"});
  rejected("seed.toml", "seed = -3\n", {"key 'seed' should be a whole number >= 0"});
  rejected("range.toml", "threads = 5000\n", {"key 'threads'", "not in range"});
  rejected("member.toml", "precision = \"half\"\n", {"key 'precision'", "half"});
  rejected("twice.json", R"({"eta": 1, "eta": 2})", {"key 'eta' is given twice"});
  rejected("both.json", R"({"mini_batch": 1, "mini-batch": 2})", {"both set --mini-batch"});
  rejected("syntax.toml", "eta = [1\n", {"not valid TOML at line 1"});
  rejected("syntax.json", "{\"eta\": 1,}", {"not valid JSON"});
  rejected("config.yaml", "eta: 1\n", {".json (JSON) or .toml (TOML)"});
  expect_rejected("train --config " + path("missing.toml"), {"missing.toml", "cannot open"});
}

TEST_F(CliPackage, TheModelKeepsEveryFlagsResolvedValue) {
  const Result trained =
      run("train" + kClassifier + " --epochs 1 --save " + path("all.bpm") + classes());
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  const auto settings = settings_of(path("all.bpm"));
  // Every flag `train --help` lists, as its key (dashes become underscores),
  // but those that only say where output goes or how many threads compute
  // it: a resumed run may change them and still equal an uninterrupted one.
  const std::set<std::string> not_kept{
      "help",   "save",    "metrics", "checkpoint", "checkpoint-every",
      "resume", "threads", "report",  "quiet",      "json"};
  const Result help = run("train --help");
  const std::regex flag(R"(^\s+(?:-\w, )?--([\w-]+))");
  std::istringstream lines(help.out);
  std::string line;
  std::smatch match;
  int flags = 0;
  while (std::getline(lines, line)) {
    if (!std::regex_search(line, match, flag) || not_kept.count(match[1])) continue;
    std::string key = match[1];
    std::replace(key.begin(), key.end(), '-', '_');
    EXPECT_TRUE(settings.count(key)) << "the model's settings lack --" << match[1];
    ++flags;
  }
  EXPECT_GE(flags, 35);  // the help was parsed: train has some 40 such flags
  EXPECT_EQ(settings.at("layers"), "3,10,4");
  EXPECT_EQ(settings.at("activations"), "sigmoid,sigmoid");  // one name, resolved per layer
  EXPECT_EQ(settings.at("target"), "");
  EXPECT_EQ(settings.at("csv_header"), "detect");
}

TEST_F(CliPackage, TrainsAndEvaluatesAClassifierOnCsv) {
  const Result trained =
      run("train" + kClassifier + " --eta 1 --epochs 10 --save " + path("classes.bpm") + classes());
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  const std::regex last(R"(Epoch 9: (\d+) / 100 )");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(trained.out, match, last)) << trained.out;
  EXPECT_GE(std::stoi(match[1]), 85) << trained.out;  // 25 would be chance

  const Result evaluated = run("eval " + path("classes.bpm") + classes());
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.err;
  EXPECT_NE(evaluated.out.find("test: " + std::string(match[1]) + " / 100 correct"),
            std::string::npos)
      << evaluated.out;
  EXPECT_NE(evaluated.out.find("confusion matrix"), std::string::npos);
}

TEST_F(CliPackage, TrainsAndEvaluatesARegressionOnCsv) {
  const Result trained =
      run("train --layers 3,8,1 --activations tanh,identity --init scaled "
          "--eta 0.05 --epochs 20 --metrics " +
          path("values.jsonl") + " --save " + path("values.bpm") + values());
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  const std::regex last(R"(Epoch 19: RMSE ([0-9.e-]+) )");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(trained.out, match, last)) << trained.out;
  // The metrics file has the RMSE, and no accuracy, for a regression.
  std::ifstream metrics(path("values.jsonl"));
  std::string record, last_record;
  while (std::getline(metrics, record)) last_record = record;
  EXPECT_NE(last_record.find("\"test_accuracy\": null, \"test_rmse\": " +
                             std::string(match[1]).substr(0, 5)),
            std::string::npos)
      << last_record;
  // The targets spread with a standard deviation of about 0.35: predicting
  // their mean would score that; the linear function is learned far better.
  EXPECT_LT(std::stod(match[1]), 0.08) << trained.out;

  const Result evaluated = run("eval " + path("values.bpm") + values());
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.err;
  EXPECT_NE(evaluated.out.find("test: RMSE " + std::string(match[1]).substr(0, 5)),
            std::string::npos)
      << evaluated.out << " vs " << match[1];
  EXPECT_EQ(evaluated.out.find("confusion"), std::string::npos);

  // A classifier's output layer cannot take real-valued targets.
  expect_rejected("train --layers 3,8,4 --epochs 1" + values(), {"1 regression targets"});
}

TEST_F(CliPackage, BadCsvIsRejectedWithLineAndColumn) {
  write_text(*dir_ / "ragged.csv", "a,b,c,y\n1,2,3,0\n1,2,1\n");
  write_text(*dir_ / "word.csv", "a,b,c,y\n1,2,3,0\n1,two,3,1\n");
  const std::string test = " --test-csv " + path("classes-test.csv");
  expect_rejected("train --layers 3,4 --train-csv " + path("ragged.csv") + test,
                  {path("ragged.csv") + " line 3, column 4 (y): the row ends after 3 fields"});
  expect_rejected("train --layers 3,4 --train-csv " + path("word.csv") + test,
                  {path("word.csv") + " line 3, column 2 (b): 'two' is not a number"});
  expect_rejected("train --layers 3,4 --target price" + classes(),
                  {"no column named 'price'", "(its columns: a, b, c, y)"});
  expect_rejected("train --layers 3,4 --train-csv " + path("word.csv"), {"--test-csv"});
}

TEST_F(CliPackage, BashCompletesCommandsFlagsAndValues) {
  const Result script = run("completion bash");
  ASSERT_EQ(script.exit_code, 0) << script.err;
  write_text(*dir_ / "completion.bash", script.out);
  // Completes the words so far and prints the candidates, one per line.
  const auto complete = [&](const std::string& words) {
    write_text(*dir_ / "complete.sh",
               "source " + path("completion.bash") + "\nCOMP_WORDS=(" + words +
                   ")\nCOMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n_backprop\nprintf '%s\\n' "
                   "\"${COMPREPLY[@]}\"\n");
    const Result result = shell("bash " + path("complete.sh"));
    EXPECT_EQ(result.err, "");
    return result.out;
  };
  EXPECT_EQ(complete("backprop tr"), "train\n");
  EXPECT_EQ(complete("backprop train --ep"), "--epochs\n");
  EXPECT_EQ(complete("backprop train --layers 3,4 --precision d"), "double\n");
  EXPECT_EQ(complete("backprop eval model.bpm --csv-h"), "--csv-header\n");
  EXPECT_EQ(complete("backprop train --conf"), "--config\n");
  expect_rejected("completion zsh", {"zsh"});
}

TEST_F(CliPackage, VersionIsTheProjects) {
  const Result result = run("--version");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, std::string("backprop ") + BACKPROP_VERSION + "\n");
  EXPECT_EQ(std::string(BACKPROP_VERSION), std::to_string(BACKPROP_VERSION_MAJOR) + "." +
                                               std::to_string(BACKPROP_VERSION_MINOR) + "." +
                                               std::to_string(BACKPROP_VERSION_PATCH));
}

}  // namespace
}  // namespace backprop
