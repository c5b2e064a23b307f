// Crash safety of the files training writes.
//
// Kill: training with a checkpoint every epoch is killed with SIGKILL many
// times, at random moments and at moments when it is writing a checkpoint
// (its temporary file has appeared). After every kill the checkpoint, if
// one was written yet, loads, and `--resume` from it finishes with a model
// file byte for byte the same as an uninterrupted run's.
//
// Full disk: --save and --checkpoint onto a full file system (a small
// tmpfs, which needs root) fail with one clear line and exit code 1, and
// the file already there keeps its bytes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "backprop/idx.hpp"
#include "backprop/model_file.hpp"
#include "backprop/rng.hpp"
#include "cli_run.hpp"
#include "temp_dir.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;
using Clock = std::chrono::steady_clock;

constexpr int kKills = 30;

Args operator+(Args a, const Args& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A small data set (4x4 images, four classes) and its four data flags.
Args make_data(const fs::path& dir) {
  Rng rng(9);
  Args args;
  for (const auto& [name, count] : {std::pair{"train", 300}, std::pair{"test", 20}}) {
    IdxArray images{{static_cast<std::uint32_t>(count), 4, 4}, {}};
    IdxArray labels{{static_cast<std::uint32_t>(count)}, {}};
    for (int i = 0; i < count; ++i) {
      labels.data.push_back(static_cast<std::uint8_t>(rng.below(4)));
      for (int p = 0; p < 16; ++p) images.data.push_back(static_cast<std::uint8_t>(rng.below(256)));
    }
    write_idx(dir / (std::string(name) + "-images.idx"), images);
    write_idx(dir / (std::string(name) + "-labels.idx"), labels);
    args = args + Args{"--" + std::string(name) + "-images",
                       (dir / (std::string(name) + "-images.idx")).string(),
                       "--" + std::string(name) + "-labels",
                       (dir / (std::string(name) + "-labels.idx")).string()};
  }
  return args;
}

bool has_temp_file(const fs::path& dir, const std::string& target) {
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind(target + ".tmp.", 0) == 0) return true;
  }
  return false;
}

TEST(CrashSafety, KilledTrainingAlwaysLeavesACheckpointThatResumesToTheSameWeights) {
  const test::TempDir dir;
  const Args data = make_data(dir.path());
  // Momentum and dropout: the checkpoint must carry velocities and the
  // generator's state for the resumed run to match.
  const Args run = Args{"train",        "--layers",  "16,400,4",    "--epochs",  "12",
                        "--mini-batch", "20",        "--optimizer", "momentum",  "--eta",
                        "0.5",          "--dropout", "0.2",         "--monitor", "none",
                        "--seed",       "4",         "--threads",   "1"} +
                   data;
  const fs::path reference = dir / "reference.bpm";
  const auto start = Clock::now();
  const test::CliResult whole =
      test::run_cli(BACKPROP_CLI, run + Args{"--save", reference.string()}, dir.path());
  const auto duration = Clock::now() - start;
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  const std::string expected = test::read_text(reference);

  const fs::path work = dir / "work";
  fs::create_directory(work);
  const fs::path checkpoint = work / "run.ckpt";
  const Args checkpointing =
      run + Args{"--checkpoint-every", "1", "--checkpoint", checkpoint.string()};
  std::mt19937_64 random(2024);
  int killed_while_writing = 0;
  int killed_before_first_checkpoint = 0;
  int resumed = 0;
  for (int kill = 0; kill < kKills; ++kill) {
    const fs::path out = dir / "killed.stdout";
    const fs::path err = dir / "killed.stderr";
    const pid_t pid = test::start_cli(BACKPROP_CLI, checkpointing, work, out, err);
    if (kill % 2 == 0) {
      // A random moment of the run.
      std::uniform_int_distribution<long> moment(
          0, std::chrono::duration_cast<std::chrono::microseconds>(duration).count());
      std::this_thread::sleep_for(std::chrono::microseconds(moment(random)));
    } else {
      // While a checkpoint is being written: as soon as its temporary file
      // appears (where fsync is instant, as on tmpfs, the write is brief), or a
      // random few hundred microseconds later.
      const auto give_up = Clock::now() + 2 * duration + std::chrono::seconds(2);
      while (!has_temp_file(work, "run.ckpt") && Clock::now() < give_up) {
      }
      if (kill % 4 == 3) {
        std::uniform_int_distribution<long> delay(0, 500);
        std::this_thread::sleep_for(std::chrono::microseconds(delay(random)));
      }
    }
    const bool writing = has_temp_file(work, "run.ckpt");
    ::kill(pid, SIGKILL);
    const test::CliResult killed = test::wait_cli(pid, out, err);
    if (killed.signal != SIGKILL) continue;  // it finished first: nothing to check
    killed_while_writing += writing ? 1 : 0;
    // A temporary file the kill left behind is not the checkpoint; clear it so the
    // next kill's temporary file can be seen.
    for (const auto& entry : fs::directory_iterator(work)) {
      if (entry.path() != checkpoint) fs::remove(entry.path());
    }
    if (!fs::exists(checkpoint)) {
      ++killed_before_first_checkpoint;
      continue;
    }
    // The checkpoint loads...
    ModelFile loaded;
    ASSERT_NO_THROW(loaded = read_model_file(checkpoint)) << "after kill " << kill;
    ASSERT_TRUE(loaded.state.has_value());
    // ... and the resumed run ends where the uninterrupted one did, bit for bit.
    const fs::path resumed_model = dir / "resumed.bpm";
    const test::CliResult result =
        test::run_cli(BACKPROP_CLI,
                      Args{"train", "--resume", checkpoint.string(), "--checkpoint-every", "0",
                           "--save", resumed_model.string(), "--threads", "1"},
                      dir.path());
    ASSERT_EQ(result.exit_code, 0) << "after kill " << kill << ": " << result.err;
    ASSERT_EQ(test::read_text(resumed_model), expected)
        << "resuming from epoch " << loaded.state->epochs_completed << " after kill " << kill;
    ++resumed;
  }
  std::cout << "  " << kKills << " kills: " << resumed << " resumed to identical weights, "
            << killed_while_writing << " while a checkpoint was being written, "
            << killed_before_first_checkpoint << " before the first checkpoint\n";
  EXPECT_GE(resumed, kKills / 2);
  EXPECT_GE(killed_while_writing, 1);
}

// A tmpfs of 256 KiB at `path`, unmounted at the end.
class SmallFileSystem {
 public:
  explicit SmallFileSystem(const fs::path& path) : path_(path) {
    fs::create_directory(path);
    mounted_ = ::mount("backprop-test", path.c_str(), "tmpfs", 0, "size=256k") == 0;
  }
  ~SmallFileSystem() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  SmallFileSystem(const SmallFileSystem&) = delete;
  SmallFileSystem& operator=(const SmallFileSystem&) = delete;
  bool mounted() const { return mounted_; }

  // Writes a file until the file system is full.
  void fill() const {
    std::ofstream filler(path_ / "filler", std::ios::binary);
    const std::string block(4096, 'x');
    while (filler.write(block.data(), static_cast<std::streamsize>(block.size()))) {
      filler.flush();
    }
  }

 private:
  fs::path path_;
  bool mounted_ = false;
};

TEST(CrashSafety, AFullDiskGivesAClearErrorAndKeepsTheOldFile) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
  const test::TempDir dir;
  const SmallFileSystem disk(dir / "disk");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (no CAP_SYS_ADMIN)";
  const Args data = make_data(dir.path());
  const fs::path model = dir / "disk" / "model.bpm";
  const fs::path checkpoint = dir / "disk" / "run.ckpt";
  const Args run =
      Args{"train", "--layers", "16,40,4", "--epochs", "2", "--monitor", "none"} + data;
  ASSERT_EQ(test::run_cli(BACKPROP_CLI,
                          run + Args{"--save", model.string(), "--checkpoint-every", "1",
                                     "--checkpoint", checkpoint.string()},
                          dir.path())
                .exit_code,
            0);
  const std::string old_model = test::read_text(model);
  const std::string old_checkpoint = test::read_text(checkpoint);
  disk.fill();

  for (const Args& output :
       {Args{"--save", model.string()},
        Args{"--checkpoint-every", "1", "--checkpoint", checkpoint.string()}}) {
    const test::CliResult result =
        test::run_cli(BACKPROP_CLI, run + Args{"--seed", "2"} + output, dir.path());
    EXPECT_EQ(result.exit_code, 1) << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    EXPECT_NE(result.err.find("No space left on device"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find(output.back()), std::string::npos) << result.err;
    std::cout << "  " << result.err;
  }
  EXPECT_EQ(test::read_text(model), old_model);
  EXPECT_EQ(test::read_text(checkpoint), old_checkpoint);
  EXPECT_NO_THROW(read_model_file(checkpoint));
  // Nothing is left behind: the temporary files were removed.
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir / "disk")) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"filler", "model.bpm", "run.ckpt"}));
}

}  // namespace
}  // namespace backprop
