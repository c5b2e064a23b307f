// SHA-256 of a file, streamed through OpenSSL's EVP interface.
#include "backprop/sha256.hpp"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "backprop/error.hpp"

namespace backprop {
namespace {

std::string hex_digits(const unsigned char* digest, unsigned int length) {
  constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kDigits[digest[i] >> 4];
    hex += kDigits[digest[i] & 0xF];
  }
  return hex;
}

}  // namespace

std::string sha256_file(const std::filesystem::path& path) {
  auto cannot = [&](const std::string& what) {
    return Error(path.string() + ": cannot " + what + ": " + std::strerror(errno) +
                 "; check that it exists and is readable");
  };
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             std::fclose);
  if (!file) throw cannot("open");
  const std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> context(EVP_MD_CTX_new(),
                                                                   EVP_MD_CTX_free);
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) {
    throw Error("cannot set up SHA-256 in OpenSSL (libcrypto)");
  }
  std::vector<unsigned char> buffer(std::size_t{1} << 16);
  std::size_t got = 0;
  while ((got = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0) {
    EVP_DigestUpdate(context.get(), buffer.data(), got);
  }
  if (std::ferror(file.get())) throw cannot("read");

  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context.get(), digest, &length);
  return hex_digits(digest, length);
}

std::string sha256_bytes(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw Error("cannot compute SHA-256 in OpenSSL (libcrypto)");
  }
  return hex_digits(digest, length);
}

}  // namespace backprop
