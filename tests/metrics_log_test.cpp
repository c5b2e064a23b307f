// Metrics files: what MetricsLog writes, read_metrics reads back exactly,
// in both formats; a malformed file is refused with its line named.
#include "backprop/metrics_log.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>

#include "backprop/error.hpp"
#include "temp_dir.hpp"

namespace backprop {
namespace {

EpochReport epoch(int number) {
  EpochReport report;
  report.epoch = number;
  report.training_seconds = 0.1 + number / 3.0;  // not a short decimal
  report.learning_rate = 0.5;
  report.test = Evaluation{7 + number, 13, 0.3 / (number + 1)};
  if (number % 2 == 1) report.training = Evaluation{1, 3, 2.0 / 3.0};
  return report;
}

void expect_round_trip(const std::filesystem::path& path) {
  {
    MetricsLog log(path, false, "00c0ffee12345678");
    log.write(epoch(0));
    log.write(epoch(1));
  }
  {
    MetricsLog resumed(path, true, "00c0ffee12345678");
    resumed.write(epoch(2));
  }
  const std::vector<MetricsRow> rows = read_metrics(path);
  ASSERT_EQ(rows.size(), 3u);
  for (int e = 0; e < 3; ++e) {
    const MetricsRow& row = rows[static_cast<std::size_t>(e)];
    const EpochReport report = epoch(e);
    EXPECT_EQ(row.run, "00c0ffee12345678");
    EXPECT_EQ(row.epoch, e);
    EXPECT_EQ(row.seconds, report.training_seconds);  // 17 digits read back exactly
    EXPECT_EQ(row.learning_rate, 0.5);
    EXPECT_EQ(row.cost[2], report.test->cost);
    EXPECT_EQ(row.accuracy[2], report.test->accuracy());
    EXPECT_FALSE(row.cost[1].has_value());
    EXPECT_EQ(row.accuracy[0].has_value(), e == 1);
    if (e == 1) EXPECT_EQ(*row.accuracy[0], 1.0 / 3.0);
  }
}

TEST(MetricsLog, JsonLinesReadBackExactly) {
  test::TempDir dir;
  expect_round_trip(dir / "run.jsonl");
}

TEST(MetricsLog, CsvReadsBackExactly) {
  test::TempDir dir;
  expect_round_trip(dir / "run.csv");
}

TEST(MetricsLog, TheRunIdentifierFingerprintsWhatDecidesTheWeights) {
  const std::map<std::string, std::string> settings{
      {"layers", "784,30,10"}, {"eta", "3"}, {"seed", "1"}, {"epochs", "30"}, {"monitor", "test"}};
  Vector<double> start(3);
  start << 0.5, -1.25, 2.0;
  const std::string id = run_id(settings, start);
  EXPECT_EQ(id.size(), 16u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  EXPECT_EQ(run_id(settings, start), id);  // the same run again

  // Running longer, or watching other sets, is the same course.
  auto longer = settings;
  longer["epochs"] = "60";
  longer["monitor"] = "training,test";
  EXPECT_EQ(run_id(longer, start), id);
  // Another seed, learning rate or starting weight is another run.
  for (const char* key : {"seed", "eta"}) {
    auto other = settings;
    other[key] = "2";
    EXPECT_NE(run_id(other, start), id) << key;
  }
  Vector<double> moved = start;
  moved(1) = std::nextafter(moved(1), 0.0);
  EXPECT_NE(run_id(settings, moved), id);
}

TEST(MetricsLog, MalformedFilesNameTheLine) {
  test::TempDir dir;
  const auto refused = [&](const std::string& name, const std::string& text,
                           const std::string& phrase) {
    std::ofstream(dir / name) << text;
    try {
      read_metrics(dir / name);
      ADD_FAILURE() << name << " was accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(phrase), std::string::npos) << e.what();
    }
  };
  refused("a.jsonl", "{\"epoch\": 0}\nnot json\n", "a.jsonl line 2 is not a JSON object");
  refused("b.jsonl", "{\"seconds\": 1}\n", "b.jsonl line 1 lacks the number 'epoch'");
  refused("c.jsonl", "{\"epoch\": 0, \"test_cost\": \"low\"}\n", "'test_cost' is not a number");
  refused("d.csv", "epoch,seconds,learning_rate\n0,1\n",
          "d.csv line 2: 2 fields, the header has 3");
  refused("e.csv", "epoch,seconds,learning_rate\n0,fast,1\n",
          "e.csv line 2: 'fast' is not a number");
  refused("f.csv", "when,what\n", "lacks the column 'epoch'");
  EXPECT_THROW(read_metrics(dir / "missing.csv"), InputError);
}

}  // namespace
}  // namespace backprop
