#include "backprop/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "backprop/error.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const fs::path& path, const std::string& step, int error) {
  throw Error(path.string() + ": cannot save: " + step + ": " + std::strerror(error) +
              "; check that the folder exists, is writable and has free space");
}

// The process's umask, read without umask(2), which would have to set it and
// so race with other threads creating files.
mode_t current_umask() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Umask:", 0) == 0) {
      return static_cast<mode_t>(std::strtoul(line.c_str() + 6, nullptr, 8) & 0777);
    }
  }
  return 022;  // the usual default, where /proc does not say
}

// mkstemp creates the file as 0600; a saved model should get the permissions
// any other new file would, or keep those of the file it replaces.
mode_t target_mode(const fs::path& path) {
  struct stat existing {};
  if (stat(path.c_str(), &existing) == 0 && S_ISREG(existing.st_mode)) {
    return existing.st_mode & 07777;
  }
  return 0666 & ~current_umask();
}

// The temporary file: closed and removed unless it was renamed into place.
class TempFile {
 public:
  explicit TempFile(const fs::path& target)
      : target_(target), name_(target.string() + ".tmp.XXXXXX") {
    fd_ = mkstemp(name_.data());
    if (fd_ < 0) fail(target_, "cannot create a temporary file beside it", errno);
  }
  ~TempFile() {
    if (fd_ >= 0) close(fd_);
    if (!renamed_) unlink(name_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  void set_mode(mode_t mode) {
    if (fchmod(fd_, mode) != 0) fail(target_, "cannot set its permissions", errno);
  }

  void write_all(std::string_view bytes) {
    while (!bytes.empty()) {
      const std::size_t chunk = std::min<std::size_t>(bytes.size(), std::size_t{1} << 30);
      const ssize_t written = ::write(fd_, bytes.data(), chunk);
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) fail(target_, "cannot write", written < 0 ? errno : EIO);
      bytes.remove_prefix(static_cast<std::size_t>(written));
    }
  }

  // The data must be on disk before the rename makes it the file, or a
  // crash could leave the new name pointing at missing data.
  void sync_and_close() {
    if (fsync(fd_) != 0) fail(target_, "cannot flush it to disk", errno);
    const int fd = fd_;
    fd_ = -1;
    if (close(fd) != 0) fail(target_, "cannot close it", errno);
  }

  void rename_over_target() {
    if (std::rename(name_.c_str(), target_.c_str()) != 0) {
      fail(target_, "cannot replace it", errno);
    }
    renamed_ = true;
  }

 private:
  fs::path target_;
  std::string name_;
  int fd_ = -1;
  bool renamed_ = false;
};

// Makes the rename itself durable. Some file systems cannot fsync a folder
// (EINVAL); the rename is then as durable as they allow.
void sync_folder(const fs::path& folder, const fs::path& path) {
  const int fd = open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail(path, "cannot open its folder to flush it", errno);
  const int result = fsync(fd);
  const int error = errno;
  close(fd);
  if (result != 0 && error != EINVAL) fail(path, "cannot flush its folder to disk", error);
}

}  // namespace

void atomic_write(const fs::path& path, std::string_view bytes) {
  if (path.filename().empty()) {
    throw Error(path.string() + ": cannot save: the path names a folder; give a file name");
  }
  const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
  TempFile temp(path);
  temp.set_mode(target_mode(path));
  temp.write_all(bytes);
  temp.sync_and_close();
  temp.rename_over_target();
  sync_folder(folder, path);
}

}  // namespace backprop
