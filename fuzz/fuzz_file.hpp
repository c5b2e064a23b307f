// The parsers read files, so a harness hands them its input as one: a file
// of this process's own, on /dev/shm where there is one (memory, not disk),
// rewritten for every input and removed at exit.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace backprop::fuzz {

class FuzzFile {
 public:
  // `name` tells the files of different harnesses apart; it ends the file name,
  // so an extension in it (".json") stays one.
  explicit FuzzFile(const std::string& name) {
    const std::filesystem::path shm = "/dev/shm";
    const std::filesystem::path folder =
        std::filesystem::is_directory(shm) ? shm : std::filesystem::temp_directory_path();
    path_ = folder / ("backprop-fuzz-" + std::to_string(::getpid()) + "-" + name);
  }
  ~FuzzFile() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  FuzzFile(const FuzzFile&) = delete;
  FuzzFile& operator=(const FuzzFile&) = delete;

  // Replaces the file's contents with `bytes` and returns its path.
  const std::filesystem::path& write(std::string_view bytes) const {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) std::abort();  // the harness itself is broken: stop, do not fuzz nothing
    return path_;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace backprop::fuzz
