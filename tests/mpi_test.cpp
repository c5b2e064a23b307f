// Data-parallel `backprop train` under Open MPI's mpirun, end to end, on a
// small IDX data set made here. Built only with BACKPROP_MPI.
//
// Every job runs with --oversubscribe (CI has 2 cores, some tests start 3
// ranks) and under `timeout`, so a hang fails the test instead of stalling
// it. Open MPI refuses to start as root unless told: the environment says
// so, which a non-root user's mpirun ignores. The one process of the
// "ranks 0" runs is plain `backprop`, without mpirun.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "backprop/idx.hpp"
#include "backprop/model_file.hpp"
#include "backprop/rng.hpp"
#include "cli_run.hpp"
#include "quadrant_images.hpp"
#include "temp_dir.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;

using Result = test::CliResult;
using test::read_text;

// The worst element difference relative to the largest weight.
double relative_difference(const Vector<double>& a, const Vector<double>& b) {
  return (a - b).cwiseAbs().maxCoeff() / a.cwiseAbs().maxCoeff();
}

Vector<double> parameters(const fs::path& model) { return read_model_file(model).parameters; }

class Mpi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir;
    Rng rng(1);
    for (const auto& [name, count] : {std::pair{"train", 240}, std::pair{"test", 40}}) {
      std::vector<std::uint8_t> labels;
      IdxArray pictures = test::quadrant_images(count, rng, labels);
      write_idx(path(std::string(name) + "-images.idx"), pictures);
      write_idx(path(std::string(name) + "-labels.idx"),
                IdxArray{{static_cast<std::uint32_t>(count)}, labels});
      // The same images for rank 0 (under two names), and for rank 1 with
      // one pixel changed.
      if (std::string(name) == "train") {
        write_idx(path("train-images-0.idx"), pictures);
        write_idx(path("train-images-00.idx"), pictures);
        pictures.data[1000] ^= 1;
        write_idx(path("train-images-1.idx"), pictures);
      }
    }
  }
  static void TearDownTestSuite() { delete dir_; }

  static fs::path path(const std::string& name) { return *dir_ / name; }

  static std::string data_flags(const std::string& training_images = "train-images.idx") {
    return " --train-images " + path(training_images).string() + " --train-labels " +
           path("train-labels.idx").string() + " --test-images " +
           path("test-images.idx").string() + " --test-labels " + path("test-labels.idx").string() +
           " --validation-size 40";
  }

  // Under AddressSanitizer (scripts/sanitize.sh), the ranks check memory
  // errors but not leaks: Open MPI leaves its own allocations to the exit,
  // which LeakSanitizer would report as a failure of every rank.
  static std::string mpirun(int ranks) {
    return "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
           "ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\" timeout "
           "60 " BACKPROP_MPIRUN " --oversubscribe --bind-to none -np " +
           std::to_string(ranks) + " " BACKPROP_PER_RANK " " BACKPROP_CLI " ";
  }

  // `backprop arguments` as one process (ranks 0) or as an MPI job.
  static Result run(int ranks, const std::string& arguments) {
    if (ranks == 0) return test::run_cli(arguments, dir_->path());
    return test::run_shell(mpirun(ranks) + arguments, dir_->path());
  }

  // Bad input across ranks: mpirun exits 2, and of all the ranks only rank
  // 0 printed, one line, containing `phrase`.
  static void expect_rejected(int ranks, const std::string& arguments, const std::string& phrase) {
    const Result result = run(ranks, arguments);
    EXPECT_EQ(result.exit_code, 2) << arguments << "\n" << result.err;
    std::istringstream lines(result.err);
    int ours = 0;
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with("backprop:")) {
        ++ours;
        EXPECT_NE(line.find(phrase), std::string::npos) << "lacks '" << phrase << "':\n"
                                                        << result.err;
      }
    }
    EXPECT_EQ(ours, 1) << result.err;
  }

  static test::TempDir* dir_;
};

test::TempDir* Mpi::dir_ = nullptr;

// Mini-batches of 9 do not split evenly over 2 or 3 ranks (9 = 5 + 4 =
// 3 + 3 + 3, and the last, of 240 - 26 * 9 = 6, is 3 + 3 and 2 + 2 + 2),
// and L2 and momentum are applied once to the summed gradient: a wrong
// share, weight or order would move the weights far more than rounding.
const std::string kRun =
    "train --layers 16,12,4 --mini-batch 9 --lambda 0.5 --optimizer momentum "
    "--momentum 0.5 --monitor none";

TEST_F(Mpi, RanksGiveTheWeightsOfOneProcessAfterAnEpoch) {
  const std::string arguments =
      kRun + " --eta 2 --seed 3 --epochs 1 --precision double" + data_flags();
  ASSERT_EQ(run(0, arguments + " --save " + path("one.bpm").string()).exit_code, 0);
  const Vector<double> one = parameters(path("one.bpm"));
  for (int ranks : {2, 3}) {
    const fs::path saved = path("ranks" + std::to_string(ranks) + ".bpm");
    const Result result = run(ranks, arguments + " --save " + saved.string());
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.out.find("on each of " + std::to_string(ranks) + " ranks"), std::string::npos)
        << result.out;
    const double difference = relative_difference(one, parameters(saved));
    std::cout << ranks << " ranks vs 1 process: worst relative difference " << difference << "\n";
    EXPECT_LT(difference, 1e-6);
  }
  // And the epoch moved the weights, so the comparison means something.
  ASSERT_EQ(run(0, kRun + " --seed 3 --epochs 1 --precision double --eta 1e-9" + data_flags() +
                       " --save " + path("still.bpm").string())
                .exit_code,
            0);
  EXPECT_GT(relative_difference(one, parameters(path("still.bpm"))), 1e-2);
}

TEST_F(Mpi, TwoRankRunsWithOneSeedAreBitwiseIdentical) {
  // Dropout too: each rank's masks come from its own generator.
  const std::string arguments = kRun + " --eta 2 --epochs 3 --dropout 0.2" + data_flags();
  ASSERT_EQ(run(2, arguments + " --seed 3 --save " + path("first.bpm").string()).exit_code, 0);
  ASSERT_EQ(run(2, arguments + " --seed 3 --save " + path("second.bpm").string()).exit_code, 0);
  const Vector<double> first = parameters(path("first.bpm"));
  EXPECT_EQ(relative_difference(first, parameters(path("second.bpm"))), 0.0);
  ASSERT_EQ(run(2, arguments + " --seed 4 --save " + path("other.bpm").string()).exit_code, 0);
  EXPECT_GT(relative_difference(first, parameters(path("other.bpm"))), 0.0);
}

TEST_F(Mpi, ARankThatDiesFailsTheJobAndTheRunResumesFromItsCheckpoint) {
  // Rank 1 is killed (SIGKILL) once the first checkpoint is written, in a
  // run that would otherwise go on for an hour.
  const fs::path checkpoint = path("dies.ckpt");
  const fs::path exit_file = path("dies.exit");
  const std::string arguments = kRun + " --eta 2" + data_flags() +
                                " --checkpoint-every 1 --checkpoint " + checkpoint.string();
  const std::string job = "(BACKPROP_TEST_PID_DIR=" + dir_->path().string() + " " + mpirun(2) +
                          arguments + " --epochs 1000000 >" + path("dies.out").string() + " 2>" +
                          path("dies.err").string() + " </dev/null; echo $? >" +
                          exit_file.string() + ") &";
  ASSERT_EQ(std::system(job.c_str()), 0);
  const auto wait_for = [](const fs::path& file) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!fs::exists(file) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return fs::exists(file);
  };
  ASSERT_TRUE(wait_for(checkpoint) && wait_for(path("rank1.pid"))) << read_text(path("dies.err"));
  const pid_t rank1 = std::stoi(read_text(path("rank1.pid")));
  ASSERT_EQ(::kill(rank1, SIGKILL), 0);
  // The job ends (before `timeout` would end it, with 124), failing.
  ASSERT_TRUE(wait_for(exit_file));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the exit code is written
  const int exit_code = std::stoi(read_text(exit_file));
  const std::string err = read_text(path("dies.err"));
  EXPECT_NE(exit_code, 0) << err;
  EXPECT_NE(exit_code, 124) << "the job hung: " << err;
  EXPECT_NE(err.find("rank 1"), std::string::npos) << err;
  EXPECT_NE(err.find("signal 9"), std::string::npos) << err;

  // Resumed for two more epochs, the run ends with the weights of one
  // that was never interrupted.
  const int epochs = read_model_file(checkpoint).state->epochs_completed + 2;
  const Result resumed =
      run(2, "train --resume " + checkpoint.string() + " --epochs " + std::to_string(epochs) +
                 " --save " + path("resumed.bpm").string());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("Resuming"), std::string::npos) << resumed.out;
  const Result whole = run(2, arguments + " --epochs " + std::to_string(epochs) + " --save " +
                                  path("whole.bpm").string());
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  EXPECT_EQ(relative_difference(parameters(path("whole.bpm")), parameters(path("resumed.bpm"))),
            0.0);
}

TEST_F(Mpi, RanksReadingDifferentDataAreRefused) {
  expect_rejected(2, kRun + " --eta 2 --epochs 1" + data_flags("train-images-@RANK@.idx"),
                  "the training data differs between rank 0 and rank 1");
  // Rank 1 cannot read its file at all (train-images-11.idx does not
  // exist): every rank stops, and rank 0 says why.
  expect_rejected(2, kRun + " --eta 2 --epochs 1" + data_flags("train-images-@RANK@@RANK@.idx"),
                  "on rank 1: ");
}

TEST_F(Mpi, RanksStartingFromDifferentModelsAreRefused) {
  for (int seed : {0, 1}) {
    ASSERT_EQ(run(0, kRun + " --eta 2 --epochs 1 --seed " + std::to_string(seed) + data_flags() +
                         " --save " + path("start-" + std::to_string(seed) + ".bpm").string())
                  .exit_code,
              0);
  }
  expect_rejected(
      2,
      "train --epochs 1 --monitor none --load " + path("start-@RANK@.bpm").string() + data_flags(),
      "the starting model differs between rank 0 and rank 1");
}

}  // namespace
}  // namespace backprop
