// SHA-256 of a file, as lowercase hex (OpenSSL's implementation).
#pragma once

#include <filesystem>
#include <string>

namespace backprop {

// Throws Error naming the file if it cannot be read.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace backprop
