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
  Sha256 digest;
  std::vector<unsigned char> buffer(std::size_t{1} << 16);
  std::size_t got = 0;
  while ((got = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0) {
    digest.update(std::as_bytes(std::span(buffer).first(got)));
  }
  if (std::ferror(file.get())) throw cannot("read");
  return digest.hex();
}

Sha256::Sha256() : context_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
  if (!context_ || EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr) != 1) {
    throw Error("cannot set up SHA-256 in OpenSSL (libcrypto)");
  }
}

void Sha256::update(std::span<const std::byte> bytes) {
  EVP_DigestUpdate(context_.get(), bytes.data(), bytes.size());
}

std::string Sha256::hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context_.get(), digest, &length);
  return hex_digits(digest, length);
}

std::string sha256_bytes(std::string_view bytes) {
  Sha256 digest;
  digest.update(std::as_bytes(std::span(bytes.data(), bytes.size())));
  return digest.hex();
}

}  // namespace backprop
