// Model files: exact round trips of networks, settings and training state,
// every damaged or hostile file refused with a one-line message naming the
// file, and atomic writes that never leave a half-written file behind.
#include "backprop/model_file.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <zlib.h>

#include <atomic>
#include <bit>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <new>
#include <set>
#include <string>

#include "backprop/atomic_file.hpp"
#include "backprop/error.hpp"
#include "backprop/initialization.hpp"
#include "backprop/rng.hpp"
#include "largest_allocation.hpp"
#include "temp_dir.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;

#define EXPECT_CONTAINS(text, phrase) \
  EXPECT_NE(std::string(text).find(phrase), std::string::npos) << (text)

// ---------------------------------------------------------------- helpers

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<long>(bytes.size()));
}

std::uint64_t get_le(const std::string& bytes, std::size_t offset, int size) {
  std::uint64_t value = 0;
  for (int i = size - 1; i >= 0; --i) {
    value = value << 8 | static_cast<std::uint8_t>(bytes[offset + i]);
  }
  return value;
}

void put_le(std::string& bytes, std::size_t offset, std::uint64_t value, int size) {
  for (int i = 0; i < size; ++i) bytes[offset + i] = static_cast<char>(value >> (8 * i));
}

std::string le(std::uint64_t value, int size) {
  std::string bytes(static_cast<std::size_t>(size), '\0');
  put_le(bytes, 0, value, size);
  return bytes;
}

std::string text(std::string_view value) { return le(value.size(), 4) + std::string(value); }

// Where a section's tag starts, walking the file as the format lays it out.
std::size_t section_offset(const std::string& bytes, std::string_view tag) {
  std::size_t offset = 12;
  while (offset + 12 <= bytes.size()) {
    if (bytes.compare(offset, 4, tag) == 0) return offset;
    offset += 12 + get_le(bytes, offset + 4, 8);
  }
  ADD_FAILURE() << "no section " << tag;
  return 0;
}

// The END section is always the last 16 bytes: recompute its CRC-32 of
// everything before it, so a crafted file passes the checksum and reaches
// the check under test.
std::string with_fixed_crc(std::string bytes) {
  const std::size_t end = bytes.size() - 16;
  EXPECT_EQ(bytes.compare(end, 4, "END "), 0);
  const auto crc = crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), end);
  put_le(bytes, bytes.size() - 4, crc, 4);
  return bytes;
}

std::string replace_section(const std::string& bytes, std::string_view tag,
                            const std::string& payload) {
  const std::size_t offset = section_offset(bytes, tag);
  const std::size_t old_length = get_le(bytes, offset + 4, 8);
  std::string out = bytes.substr(0, offset) + std::string(tag) + le(payload.size(), 8) + payload +
                    bytes.substr(offset + 12 + old_length);
  return with_fixed_crc(out);
}

std::string insert_before_end(const std::string& bytes, std::string_view tag,
                              const std::string& payload) {
  const std::size_t end = bytes.size() - 16;
  return with_fixed_crc(bytes.substr(0, end) + std::string(tag) + le(payload.size(), 8) + payload +
                        bytes.substr(end));
}

// The message of the InputError read_model_file throws, checked to be one
// line naming the file.
std::string load_error(const fs::path& path) {
  try {
    read_model_file(path);
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(path.filename().string()), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    return message;
  } catch (const std::exception& error) {
    ADD_FAILURE() << "not an InputError: " << error.what();
    return "";
  }
  ADD_FAILURE() << "read_model_file accepted " << path;
  return "";
}

template <typename T>
Network<T> random_network(const NetworkSpec& spec, std::uint64_t seed) {
  Network<T> network(spec);
  Rng rng(seed);
  initialize(network, Initialization::scaled, rng);
  return network;
}

NetworkSpec small_spec() {
  return {{5, 4, 3}, {Activation::tanh, Activation::softmax}, Cost::log_likelihood};
}

// [2, 3, 1]: 6 + 3 + 3 + 1 = 13 parameters.
NetworkSpec tiny_spec() {
  return {{2, 3, 1}, {Activation::sigmoid, Activation::sigmoid}, Cost::cross_entropy};
}

std::string tiny_file(const test::TempDir& dir) {
  write_model_file(dir / "tiny.model", ModelFile::from(random_network<double>(tiny_spec(), 1)));
  return read_bytes(dir / "tiny.model");
}

std::set<std::string> names_in(const fs::path& folder) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

template <typename T>
bool same_bits(Network<T>& a, Network<T>& b) {
  return a.parameter_count() == b.parameter_count() &&
         std::memcmp(a.parameters().data(), b.parameters().data(),
                     sizeof(T) * static_cast<std::size_t>(a.parameter_count())) == 0;
}

// ---------------------------------------------------------------- round trips

template <typename T>
class RoundTrip : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(RoundTrip, Types);

TYPED_TEST(RoundTrip, ParametersAndOutputsAreBitwiseEqual) {
  using T = TypeParam;
  test::TempDir dir;
  for (const NetworkSpec& spec :
       {small_spec(), tiny_spec(),
        NetworkSpec{{7, 6, 5, 4},
                    {Activation::relu, Activation::identity, Activation::sigmoid},
                    Cost::quadratic}}) {
    Network<T> original = random_network<T>(spec, 42);
    write_model_file(dir / "net.model", ModelFile::from(original));
    const ModelFile model = read_model_file(dir / "net.model");
    const Precision expected_precision =
        std::is_same_v<T, float> ? Precision::float32 : Precision::float64;
    EXPECT_EQ(model.precision, expected_precision);
    EXPECT_EQ(model.spec.sizes, spec.sizes);
    EXPECT_EQ(model.spec.activations, spec.activations);
    EXPECT_EQ(model.spec.cost, spec.cost);
    Network<T> loaded = model.to_network<T>();
    EXPECT_TRUE(same_bits(original, loaded));

    Rng rng(7);
    Matrix<T> x(spec.sizes.front(), 9);
    for (T& value : x.reshaped()) value = static_cast<T>(rng.normal());
    const Matrix<T> expected = original.feedforward(x);
    const Matrix<T> got = loaded.feedforward(x);
    EXPECT_TRUE((expected.array() == got.array()).all());
  }
}

TEST(ModelFile, FloatFileHoldsFourBytesPerParameter) {
  test::TempDir dir;
  const Network<float> small = random_network<float>(small_spec(), 3);
  write_model_file(dir / "f.model", ModelFile::from(small));
  write_model_file(dir / "d.model", ModelFile::from(random_network<double>(small_spec(), 3)));
  EXPECT_EQ(fs::file_size(dir / "d.model") - fs::file_size(dir / "f.model"),
            4u * static_cast<std::uintmax_t>(small.parameter_count()));
}

TEST(ModelFile, LayoutIsTheNetworksBuffer) {
  Network<double> network = random_network<double>(tiny_spec(), 5);
  const ModelFile model = ModelFile::from(network);
  ASSERT_EQ(model.parameters.size(), 13);
  // W^1 column-major (3 x 2), then b^1, then W^2 (1 x 3), then b^2.
  EXPECT_EQ(model.parameters[1], network.layer(0).weights(1, 0));
  EXPECT_EQ(model.parameters[3], network.layer(0).weights(0, 1));
  EXPECT_EQ(model.parameters[6], network.layer(0).biases[0]);
  EXPECT_EQ(model.parameters[10], network.layer(1).weights(0, 1));
  EXPECT_EQ(model.parameters[12], network.layer(1).biases[0]);
}

TEST(ModelFile, FloatModelBuildsADoubleNetworkAndBack) {
  Network<float> small = random_network<float>(small_spec(), 9);
  Network<double> wide = ModelFile::from(small).to_network<double>();
  Network<float> back = ModelFile::from(wide).to_network<float>();
  EXPECT_TRUE(same_bits(small, back));
}

TEST(ModelFile, SettingsAndTrainingStateRoundTrip) {
  test::TempDir dir;
  ModelFile model = ModelFile::from(random_network<float>(small_spec(), 11));
  model.settings = {{"eta", "0.5"}, {"layers", "5,4,3"}, {"empty", ""}, {"note", "λ = 5\n"}};
  Rng rng(2024);
  for (int i = 0; i < 1000; ++i) rng.normal();
  TrainingState state;
  state.epochs_completed = 17;
  state.rng_state = rng.state();
  state.optimizer_state = Vector<double>::LinSpaced(50, -1.0, 1.0 / 3.0);  // not float-exact
  state.best_parameters = model.parameters;                                // float-exact
  state.scalars = {{"eta", 0.1},
                   {"best_accuracy", 0.9731},
                   {"negative_zero", -0.0},
                   {"infinity", std::numeric_limits<double>::infinity()},
                   {"nan", std::numeric_limits<double>::quiet_NaN()},
                   {"denormal", std::numeric_limits<double>::denorm_min()}};
  model.state = state;
  write_model_file(dir / "checkpoint", model);

  const ModelFile read = read_model_file(dir / "checkpoint");
  EXPECT_EQ(read.settings, model.settings);
  ASSERT_TRUE(read.state.has_value());
  EXPECT_EQ(read.state->epochs_completed, 17);
  EXPECT_EQ(read.state->rng_state, state.rng_state);
  EXPECT_EQ(read.state->optimizer_state, state.optimizer_state);
  EXPECT_EQ(read.state->best_parameters, state.best_parameters);
  ASSERT_EQ(read.state->scalars.size(), state.scalars.size());
  for (const auto& [name, value] : state.scalars) {
    ASSERT_TRUE(read.state->scalars.contains(name)) << name;
    EXPECT_EQ(std::bit_cast<std::uint64_t>(read.state->scalars.at(name)),
              std::bit_cast<std::uint64_t>(value))
        << name;
  }
  // The generator continues exactly where it stopped.
  Rng resumed(0);
  resumed.set_state(read.state->rng_state);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(resumed.normal(), rng.normal());
}

TEST(ModelFile, NoStateMeansNoState) {
  test::TempDir dir;
  write_model_file(dir / "m", ModelFile::from(random_network<double>(tiny_spec(), 1)));
  const ModelFile model = read_model_file(dir / "m");
  EXPECT_FALSE(model.state.has_value());
  EXPECT_TRUE(model.settings.empty());
}

TEST(ModelFile, FileStartsWithMagicAndVersionAndEndsWithEnd) {
  test::TempDir dir;
  const std::string bytes = tiny_file(dir);
  EXPECT_EQ(bytes.substr(0, 8), "BACKPROP");
  EXPECT_EQ(get_le(bytes, 8, 4), 1u);
  EXPECT_EQ(bytes.substr(12, 4), "SPEC");
  EXPECT_EQ(bytes.substr(bytes.size() - 16, 4), "END ");
  EXPECT_EQ(get_le(bytes, bytes.size() - 12, 8), 4u);
}

TEST(ModelFile, UnknownFutureSectionIsSkipped) {
  test::TempDir dir;
  const std::string bytes = tiny_file(dir);
  write_bytes(dir / "future.model", insert_before_end(bytes, "FUTR", std::string(100, 'x')));
  const ModelFile model = read_model_file(dir / "future.model");
  EXPECT_EQ(model.parameters, read_model_file(dir / "tiny.model").parameters);
}

TEST(Precision, NamesRoundTrip) {
  EXPECT_EQ(to_string(Precision::float32), "float");
  EXPECT_EQ(to_string(Precision::float64), "double");
  EXPECT_EQ(parse_precision("float"), Precision::float32);
  EXPECT_EQ(parse_precision("double"), Precision::float64);
  EXPECT_THROW(parse_precision("half"), InputError);
}

TEST(ModelFile, ToNetworkRefusesAParameterCountMismatch) {
  ModelFile model = ModelFile::from(random_network<double>(tiny_spec(), 1));
  model.parameters.conservativeResize(12);
  try {
    model.to_network<double>();
    ADD_FAILURE() << "accepted";
  } catch (const InputError& error) {
    EXPECT_CONTAINS(error.what(), "12 parameters");
    EXPECT_CONTAINS(error.what(), "needs 13");
  }
}

// ---------------------------------------------------------------- bad files

TEST(ModelFileErrors, Missing) {
  test::TempDir dir;
  EXPECT_CONTAINS(load_error(dir / "absent.model"), "no such file");
}

TEST(ModelFileErrors, Folder) {
  test::TempDir dir;
  fs::create_directory(dir / "models");
  EXPECT_CONTAINS(load_error(dir / "models"), "folder");
}

TEST(ModelFileErrors, Empty) {
  test::TempDir dir;
  write_bytes(dir / "empty.model", "");
  EXPECT_CONTAINS(load_error(dir / "empty.model"), "empty");
}

TEST(ModelFileErrors, TruncatedAnywhereIsRefused) {
  test::TempDir dir;
  const std::string bytes = tiny_file(dir);
  for (std::size_t size = 1; size < bytes.size(); ++size) {
    write_bytes(dir / "cut.model", bytes.substr(0, size));
    const std::string message = load_error(dir / "cut.model");
    EXPECT_CONTAINS(message, "truncated") << "cut at " << size;
    EXPECT_CONTAINS(message, "re-save it or use an earlier checkpoint");
  }
}

TEST(ModelFileErrors, WrongMagic) {
  test::TempDir dir;
  write_bytes(dir / "picture.png", "\x89PNG\r\n\x1a\n and then some more bytes");
  EXPECT_CONTAINS(load_error(dir / "picture.png"), "not a backprop model file");
  write_bytes(dir / "net.json", R"({"sizes": [2, 1]})");
  EXPECT_CONTAINS(load_error(dir / "net.json"), "not a backprop model file");
}

TEST(ModelFileErrors, NewerVersionIsRefused) {
  test::TempDir dir;
  std::string bytes = tiny_file(dir);
  put_le(bytes, 8, 2, 4);
  write_bytes(dir / "v2.model", bytes);
  const std::string message = load_error(dir / "v2.model");
  EXPECT_CONTAINS(message, "newer backprop (format version 2)");
  EXPECT_CONTAINS(message, "reads up to 1");
  EXPECT_CONTAINS(message, "upgrade backprop");
}

TEST(ModelFileErrors, FlippedByteFailsTheChecksum) {
  test::TempDir dir;
  const std::string bytes = tiny_file(dir);
  const std::size_t parameters = section_offset(bytes, "PARM") + 12 + 9;
  for (const std::size_t offset : {std::size_t{16 + 12}, parameters, parameters + 50}) {
    std::string flipped = bytes;
    flipped[offset] ^= 0x01;
    write_bytes(dir / "flipped.model", flipped);
    EXPECT_CONTAINS(load_error(dir / "flipped.model"), "corrupt: checksum mismatch");
  }
}

TEST(ModelFileErrors, HugeSectionLengthRefusedWithoutAllocating) {
  test::TempDir dir;
  const std::string bytes = tiny_file(dir);
  std::string huge_section = bytes;
  put_le(huge_section, section_offset(bytes, "SETS") + 4, std::uint64_t{1} << 60, 8);
  write_bytes(dir / "huge-section.model", huge_section);
  // A PARM that declares 2^60 values inside a payload of the right length,
  // with a correct checksum: only the count is a lie.
  std::string huge_count = bytes;
  put_le(huge_count, section_offset(bytes, "PARM") + 12 + 1, std::uint64_t{1} << 60, 8);
  write_bytes(dir / "huge-count.model", with_fixed_crc(huge_count));

  largest_allocation = 0;
  const std::string section_message = load_error(dir / "huge-section.model");
  const std::string count_message = load_error(dir / "huge-count.model");
  EXPECT_LT(largest_allocation.load(), std::size_t{1} << 20);
  EXPECT_CONTAINS(section_message, "truncated");
  EXPECT_CONTAINS(section_message, "declares 1152921504606846976 bytes");
  EXPECT_CONTAINS(count_message, "corrupt");
  EXPECT_CONTAINS(count_message, "declares 1152921504606846976 parameters");
}

TEST(ModelFileErrors, ParameterCountNotMatchingTheSpec) {
  test::TempDir dir;
  std::string parameters = std::string(1, '\x08') + le(12, 8);
  for (int i = 0; i < 12; ++i) parameters += le(std::bit_cast<std::uint64_t>(0.25 * i), 8);
  write_bytes(dir / "short.model", replace_section(tiny_file(dir), "PARM", parameters));
  const std::string message = load_error(dir / "short.model");
  EXPECT_CONTAINS(message, "12 parameters");
  EXPECT_CONTAINS(message, "[2, 3, 1] needs 13");
}

TEST(ModelFileErrors, UnknownActivationName) {
  test::TempDir dir;
  const std::string spec = le(3, 4) + le(2, 4) + le(3, 4) + le(1, 4) + le(2, 4) + text("sigmoid") +
                           text("swish") + text("cross-entropy");
  write_bytes(dir / "swish.model", replace_section(tiny_file(dir), "SPEC", spec));
  const std::string message = load_error(dir / "swish.model");
  EXPECT_CONTAINS(message, "invalid network");
  EXPECT_CONTAINS(message, "unknown activation 'swish'");
}

TEST(ModelFileErrors, InvalidSpec) {
  test::TempDir dir;
  // Softmax on the hidden layer: every name is known, the architecture is not allowed.
  const std::string spec = le(3, 4) + le(2, 4) + le(3, 4) + le(1, 4) + le(2, 4) + text("softmax") +
                           text("sigmoid") + text("cross-entropy");
  write_bytes(dir / "softmax.model", replace_section(tiny_file(dir), "SPEC", spec));
  const std::string message = load_error(dir / "softmax.model");
  EXPECT_CONTAINS(message, "invalid network");
  EXPECT_CONTAINS(message, "softmax");
}

TEST(ModelFileErrors, NanParameter) {
  test::TempDir dir;
  std::string bytes = tiny_file(dir);
  // Parameter 4 is W^1 row 1, column 1 (3 rows, column-major).
  const std::size_t value = section_offset(bytes, "PARM") + 12 + 9 + 8 * 4;
  put_le(bytes, value, std::bit_cast<std::uint64_t>(std::numeric_limits<double>::quiet_NaN()), 8);
  write_bytes(dir / "nan.model", with_fixed_crc(bytes));
  const std::string message = load_error(dir / "nan.model");
  EXPECT_CONTAINS(message, "parameter 4 (W^1 row 1, column 1) is nan");
  EXPECT_CONTAINS(message, "diverged");
}

TEST(ModelFileErrors, ExtraBytesInAKnownSection) {
  test::TempDir dir;
  const std::string bytes = tiny_file(dir);
  const std::size_t offset = section_offset(bytes, "SETS");
  const std::string settings = bytes.substr(offset + 12, get_le(bytes, offset + 4, 8)) + "xyz";
  write_bytes(dir / "extra.model", replace_section(bytes, "SETS", settings));
  EXPECT_CONTAINS(load_error(dir / "extra.model"), "3 unexpected bytes");
}

TEST(ModelFileErrors, MissingParameters) {
  test::TempDir dir;
  std::string bytes = tiny_file(dir);
  const std::size_t offset = section_offset(bytes, "PARM");
  bytes.replace(offset, 4, "XXXX");  // now an unknown section, skipped
  write_bytes(dir / "no-parm.model", with_fixed_crc(bytes));
  EXPECT_CONTAINS(load_error(dir / "no-parm.model"), "no 'PARM' section");
}

TEST(ModelFileErrors, WriteRefusesNanAndMismatchedParameters) {
  test::TempDir dir;
  ModelFile model = ModelFile::from(random_network<double>(tiny_spec(), 1));
  model.parameters[12] = std::numeric_limits<double>::infinity();
  EXPECT_THROW(write_model_file(dir / "inf.model", model), InputError);
  model.parameters.conservativeResize(5);
  EXPECT_THROW(write_model_file(dir / "short.model", model), InputError);
  model = ModelFile::from(random_network<double>(tiny_spec(), 1));
  model.precision = Precision::float32;
  model.parameters[0] = 1e300;  // finite, but not as a float
  EXPECT_THROW(write_model_file(dir / "big.model", model), InputError);
  EXPECT_TRUE(names_in(dir.path()).empty());
}

// ---------------------------------------------------------------- atomic writes

TEST(AtomicWrite, MissingFolderFailsAndTouchesNothing) {
  test::TempDir dir;
  write_bytes(dir / "keep.model", "old");
  const ModelFile model = ModelFile::from(random_network<double>(tiny_spec(), 1));
  try {
    write_model_file(dir / "no-such-folder" / "keep.model", model);
    ADD_FAILURE() << "wrote into a missing folder";
  } catch (const InputError& error) {
    ADD_FAILURE() << "an I/O failure is not an InputError: " << error.what();
  } catch (const Error& error) {
    EXPECT_CONTAINS(error.what(), "no-such-folder");
    EXPECT_CONTAINS(error.what(), "No such file or directory");
    EXPECT_EQ(std::string(error.what()).find('\n'), std::string::npos);
  }
  EXPECT_EQ(names_in(dir.path()), std::set<std::string>{"keep.model"});
  EXPECT_EQ(read_bytes(dir / "keep.model"), "old");
}

TEST(AtomicWrite, ReplacesTheFileAndLeavesNoTemporaryFile) {
  test::TempDir dir;
  write_bytes(dir / "net.model", "old contents");
  chmod((dir / "net.model").c_str(), 0640);
  write_model_file(dir / "net.model", ModelFile::from(random_network<double>(tiny_spec(), 1)));
  EXPECT_EQ(names_in(dir.path()), std::set<std::string>{"net.model"});
  EXPECT_EQ(read_model_file(dir / "net.model").parameters.size(), 13);
  struct stat status {};
  ASSERT_EQ(stat((dir / "net.model").c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0640u);  // the replaced file's mode is kept
}

TEST(AtomicWrite, NewFileGetsTheUmasksMode) {
  test::TempDir dir;
  const mode_t old_mask = umask(027);
  atomic_write(dir / "new", "bytes");
  umask(old_mask);
  struct stat status {};
  ASSERT_EQ(stat((dir / "new").c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0640u);
  EXPECT_EQ(read_bytes(dir / "new"), "bytes");
}

TEST(AtomicWrite, RelativePathInTheCurrentFolder) {
  test::TempDir dir;
  const fs::path previous = fs::current_path();
  fs::current_path(dir.path());
  atomic_write("here.txt", "text");
  fs::current_path(previous);
  EXPECT_EQ(read_bytes(dir / "here.txt"), "text");
}

// A failed write (here: the file-size limit, standing in for a full disk)
// leaves the old file as it was and no temporary file behind.
TEST(AtomicWrite, FailedWriteKeepsTheOldFile) {
  test::TempDir dir;
  write_bytes(dir / "net.model", "old contents");
  const ModelFile model = ModelFile::from(random_network<double>(small_spec(), 1));
  std::signal(SIGXFSZ, SIG_IGN);  // so write() fails with EFBIG instead of killing us
  rlimit old_limit{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  rlimit small = old_limit;
  small.rlim_cur = 100;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string message;
  try {
    write_model_file(dir / "net.model", model);
  } catch (const Error& error) {
    message = error.what();
  }
  setrlimit(RLIMIT_FSIZE, &old_limit);
  EXPECT_CONTAINS(message, "net.model: cannot save: cannot write: File too large");
  EXPECT_EQ(names_in(dir.path()), std::set<std::string>{"net.model"});
  EXPECT_EQ(read_bytes(dir / "net.model"), "old contents");
}

// ---------------------------------------------------------------- either format

TEST(ReadAnyModel, DispatchesOnTheFirstByte) {
  test::TempDir dir;
  const ModelFile model = ModelFile::from(random_network<double>(tiny_spec(), 1));
  write_model_file(dir / "binary", model);
  write_network2_json(dir / "json", model);
  write_bytes(dir / "spaced", " \n\t" + read_bytes(dir / "json"));
  write_bytes(dir / "bom", "\xEF\xBB\xBF" + read_bytes(dir / "json"));
  EXPECT_EQ(read_any_model(dir / "binary").parameters, model.parameters);
  EXPECT_EQ(read_any_model(dir / "json").parameters, model.parameters);
  EXPECT_EQ(read_any_model(dir / "spaced").parameters, model.parameters);
  EXPECT_EQ(read_any_model(dir / "bom").parameters, model.parameters);
  EXPECT_THROW(read_any_model(dir / "absent"), InputError);
}

}  // namespace
}  // namespace backprop
