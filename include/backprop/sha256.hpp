// SHA-256 of a file, as lowercase hex (OpenSSL's implementation).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace backprop {

// Throws Error naming the file if it cannot be read.
std::string sha256_file(const std::filesystem::path& path);

// SHA-256 of bytes in memory, as lowercase hex.
std::string sha256_bytes(std::string_view bytes);

}  // namespace backprop
