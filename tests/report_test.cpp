// The HTML training report: written by `train --report` and by `backprop
// report`, refused for another run's metrics, and drawn without errors by
// headless Chromium (the Debian package `chromium`).
//
// With $BACKPROP_DATA/mnist present the run is on 10,000 MNIST images, else
// on shapes drawn here. The Chromium test keeps its report, the DOM Chromium
// made of it and its screenshot in BACKPROP_REPORT_TEST_DIR
// (docs/report-screenshot.png is such a screenshot).
#include <gtest/gtest.h>
#include <stb_image.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "backprop/metrics_log.hpp"
#include "cli_run.hpp"
#include "shapes.hpp"

namespace backprop::test {
namespace {

namespace fs = std::filesystem;

// The JSON the program put in the page.
nlohmann::json report_data(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"report-data\">";
  const std::size_t first = html.find(open);
  const std::size_t last = html.find("</script>", first);
  if (first == std::string::npos || last == std::string::npos) return nullptr;
  return nlohmann::json::parse(html.substr(first + open.size(), last - first - open.size()));
}

class Report : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // ctest runs each test in its own process: each trains in its own folder.
    dir_ = fs::path(BACKPROP_REPORT_TEST_DIR) / ("run-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    const char* data = std::getenv("BACKPROP_DATA");
    if (data != nullptr && fs::exists(fs::path(data) / "mnist" / "t10k-images-idx3-ubyte")) {
      data_flags_ = " --dataset mnist --data-dir " + std::string(data) + " --validation-size 50000";
      layers_ = "784,30,10";
    } else {
      write_shapes(dir_ / "train", 500, 1);
      write_shapes(dir_ / "test", 200, 2);
      data_flags_ = shapes_data_flags(dir_) + " --validation-size 100";
      layers_ = "784,12,4";
    }
    const CliResult first =
        run_cli("train --layers " + layers_ +
                    " --epochs 4 --eta 1 --monitor training,validation,test" + " --metrics " +
                    (dir_ / "run.jsonl").string() + " --save " + (dir_ / "model.bpm").string() +
                    " --report " + (dir_ / "report.html").string() + data_flags_,
                dir_);
    ASSERT_EQ(first.exit_code, 0) << first.err;
    const CliResult other = run_cli("train --layers " + layers_ + " --epochs 1 --metrics " +
                                        (dir_ / "other.csv").string() + data_flags_,
                                    dir_);
    ASSERT_EQ(other.exit_code, 0) << other.err;
  }

  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static fs::path dir_;
  static std::string data_flags_;
  static std::string layers_;
};

fs::path Report::dir_;
std::string Report::data_flags_;
std::string Report::layers_;

TEST_F(Report, HoldsTheRunsCurvesConfusionMatrixAndPictures) {
  const std::string html = read_text(dir_ / "report.html");
  const nlohmann::json data = report_data(html);
  ASSERT_TRUE(data.is_object());
  const std::vector<MetricsRow> metrics = read_metrics(dir_ / "run.jsonl");
  ASSERT_EQ(metrics.size(), 4u);
  ASSERT_EQ(data["epochs"].size(), 4u);
  for (std::size_t e = 0; e < 4; ++e) {
    EXPECT_EQ(data["epochs"][e]["epoch"], metrics[e].epoch);
    EXPECT_DOUBLE_EQ(data["epochs"][e]["cost"]["training"].get<double>(), *metrics[e].cost[0]);
    EXPECT_DOUBLE_EQ(data["epochs"][e]["accuracy"]["test"].get<double>(), *metrics[e].accuracy[2]);
  }
  // The confusion matrix is of the final network: its diagonal is the last
  // epoch's test accuracy, its sum the test set.
  long correct = 0;
  long total = 0;
  const auto& confusion = data["confusion"];
  for (std::size_t i = 0; i < confusion.size(); ++i) {
    for (std::size_t j = 0; j < confusion.size(); ++j) {
      total += confusion[i][j].get<long>();
      if (i == j) correct += confusion[i][j].get<long>();
    }
  }
  EXPECT_EQ(total, data["test"]["total"].get<long>());
  EXPECT_EQ(correct, data["test"]["correct"].get<long>());
  EXPECT_NEAR(static_cast<double>(correct) / total, *metrics.back().accuracy[2], 1e-12);
  EXPECT_EQ(data["misclassified"]["count"].get<long>(), total - correct);
  for (const auto& wrong : data["misclassified"]["shown"]) {
    EXPECT_NE(wrong["label"], wrong["predicted"]);
  }
  const int hidden = std::stoi(layers_.substr(4, layers_.rfind(',') - 4));
  EXPECT_EQ(data["weights"]["images"].size(), static_cast<std::size_t>(hidden));
  EXPECT_EQ(data["settings"]["layers"], layers_);
  EXPECT_EQ(data["run"], metrics.front().run);
  // Self-contained: every picture inline, nothing to fetch.
  EXPECT_FALSE(std::regex_search(html, std::regex(R"((src|href)\s*=\s*["']?(https?:|//))")));
  EXPECT_EQ(html.find("url(http"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
}

TEST_F(Report, CommandMakesTheSameReportFromTheMetricsFileAndModel) {
  const fs::path page = dir_ / "from-command.html";
  const CliResult result =
      run_cli("report " + (dir_ / "model.bpm").string() + " --metrics " +
                  (dir_ / "run.jsonl").string() + " -o " + page.string() + data_flags_,
              dir_);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  nlohmann::json made = report_data(read_text(page));
  nlohmann::json trained = report_data(read_text(dir_ / "report.html"));
  ASSERT_TRUE(made.is_object());
  // The same run, seen from its files: only the timings' last digits could
  // differ, and they are read back exactly.
  EXPECT_EQ(made, trained);
}

TEST_F(Report, MetricsFromAnotherRunAreRefused) {
  const CliResult result = run_cli("report " + (dir_ / "model.bpm").string() + " --metrics " +
                                       (dir_ / "other.csv").string() + " -o " +
                                       (dir_ / "wrong.html").string() + data_flags_,
                                   dir_);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_NE(result.err.find("other.csv is from run "), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("give the --metrics file written by the same"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "wrong.html"));
}

TEST_F(Report, MetricsWithoutARunAreRefused) {
  // A metrics file from before runs were named.
  {
    std::ofstream old(dir_ / "old.csv");
    old << "epoch,seconds,learning_rate,training_cost,training_accuracy,validation_cost,"
           "validation_accuracy,test_cost,test_accuracy\n0,0.5,1,,,,,0.2,0.9\n";
  }
  const CliResult result = run_cli("report " + (dir_ / "model.bpm").string() + " --metrics " +
                                       (dir_ / "old.csv").string() + data_flags_,
                                   dir_);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("is from run (none named)"), std::string::npos) << result.err;
}

TEST_F(Report, RendersInHeadlessChromium) {
  const char* chosen = std::getenv("CHROMIUM");
  const std::string chromium = chosen != nullptr ? chosen : "chromium";
  if (std::system(("command -v " + chromium + " >/dev/null 2>&1").c_str()) != 0) {
    GTEST_SKIP() << "SKIPPED: headless Chromium (" << chromium
                 << ") is not installed; scripts/setup.sh installs the Debian package "
                    "`chromium`";
  }
  // --no-sandbox: Chromium's sandbox refuses to run as root, as in CI
  // containers. The virtual time budget lets the page's script finish
  // before the DOM is dumped or the picture taken.
  const fs::path kept = BACKPROP_REPORT_TEST_DIR;
  fs::copy_file(dir_ / "report.html", kept / "report.html", fs::copy_options::overwrite_existing);
  const std::string browser = chromium +
                              " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
                              "--no-first-run --user-data-dir=" +
                              (dir_ / "chromium-profile").string() +
                              " --virtual-time-budget=10000 --hide-scrollbars";
  const std::string url = "file://" + fs::absolute(kept / "report.html").string();
  const fs::path dom = kept / "report-dom.html";
  const fs::path log = kept / "chromium.log";
  // On a loaded machine the page may not have finished checking itself
  // when the budget runs out (its status still "pending"): dump it again.
  std::string page;
  for (int attempt = 0; attempt < 4; ++attempt) {
    ASSERT_EQ(
        std::system(
            (browser + " --dump-dom " + url + " >" + dom.string() + " 2>" + log.string()).c_str()),
        0)
        << read_text(log);
    page = read_text(dom);
    if (page.find("data-status=\"pending\"") == std::string::npos) break;
  }

  // The page checks itself: every picture decoded, both charts drawn, no
  // script error. It writes the verdict into #report-status.
  std::smatch status;
  ASSERT_TRUE(std::regex_search(page, status,
                                std::regex(R"(<div id="report-status"([^>]*)>([^<]*)</div>)")))
      << page.substr(0, 2000);
  const std::string attributes = status[1];
  EXPECT_NE(attributes.find("data-status=\"ok\""), std::string::npos) << status[2];
  EXPECT_NE(attributes.find("data-charts=\"2\""), std::string::npos) << attributes;
  const nlohmann::json data = report_data(read_text(kept / "report.html"));
  const std::size_t images =
      data["weights"]["images"].size() + data["misclassified"]["shown"].size();
  EXPECT_NE(attributes.find("data-images=\"" + std::to_string(images) + "\""), std::string::npos)
      << attributes;
  // The script built the tables: a confusion matrix row per class.
  const std::regex class_row("<tr><th>[0-9]+</th>");
  const std::ptrdiff_t rows = std::distance(
      std::sregex_iterator(page.begin(), page.end(), class_row), std::sregex_iterator());
  EXPECT_EQ(rows, static_cast<std::ptrdiff_t>(data["confusion"].size()));

  // And a picture of it: a PNG of the window, not blank.
  const fs::path screenshot = kept / "report-screenshot.png";
  ASSERT_EQ(std::system((browser + " --window-size=1200,1900 --screenshot=" + screenshot.string() +
                         " " + url + " >>" + log.string() + " 2>&1")
                            .c_str()),
            0)
      << read_text(log);
  int width = 0;
  int height = 0;
  int channels = 0;
  const std::unique_ptr<unsigned char, void (*)(void*)> pixels(
      stbi_load(screenshot.c_str(), &width, &height, &channels, 3), stbi_image_free);
  ASSERT_TRUE(pixels) << "the screenshot is not a PNG: " << stbi_failure_reason();
  EXPECT_EQ(width, 1200);
  EXPECT_EQ(height, 1900);
  long inked = 0;
  for (long i = 0; i < static_cast<long>(width) * height; ++i) {
    const unsigned char* p = pixels.get() + 3 * i;
    if (p[0] + p[1] + p[2] < 600) ++inked;
  }
  // Charts, tables and pictures cover far more than 2 % of the page.
  EXPECT_GT(static_cast<double>(inked) / (static_cast<double>(width) * height), 0.02);
}

}  // namespace
}  // namespace backprop::test
