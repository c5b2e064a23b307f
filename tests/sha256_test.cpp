// SHA-256 of files, against the FIPS 180-2 test vectors.
#include "backprop/sha256.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "backprop/error.hpp"
#include "temp_dir.hpp"

namespace backprop {
namespace {

std::string sha256_of(const std::string& content) {
  test::TempDir dir;
  std::ofstream(dir / "file", std::ios::binary) << content;
  return sha256_file(dir / "file");
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_of(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, MillionAsSpanningManyReads) {
  EXPECT_EQ(sha256_of(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, MissingFileNamesIt) {
  test::TempDir dir;
  try {
    sha256_file(dir / "absent-file");
    FAIL() << "hashed a missing file";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("absent-file"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace backprop
