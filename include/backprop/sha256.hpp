// SHA-256 of a file or of bytes in memory, as lowercase hex (OpenSSL's
// implementation).
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

// OpenSSL's digest context (EVP_MD_CTX), kept out of this header.
struct evp_md_ctx_st;

namespace backprop {

// Throws Error naming the file if it cannot be read.
std::string sha256_file(const std::filesystem::path& path);

// SHA-256 of bytes in memory, as lowercase hex.
std::string sha256_bytes(std::string_view bytes);

// The digest of everything passed to update(), in order.
class Sha256 {
 public:
  Sha256();  // throws Error if OpenSSL cannot set up SHA-256
  void update(std::span<const std::byte> bytes);
  std::string hex();  // finishes the digest

 private:
  std::unique_ptr<evp_md_ctx_st, void (*)(evp_md_ctx_st*)> context_;
};

}  // namespace backprop
