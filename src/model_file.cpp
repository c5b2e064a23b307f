// The binary model format; docs/file-formats.md has it byte by byte.
//
//   "BACKPROP", uint32 format version, then sections, each a 4-byte tag, a
//   uint64 payload length and the payload; the last, "END ", holds the
//   CRC-32 of every byte before it.
//
// Numbers are little-endian and are assembled byte by byte, so that the
// host's byte order never matters. A file is read whole and every length in
// it is checked against the bytes that are really there before anything is
// allocated: a damaged or hostile file costs at most its own size.
#include "backprop/model_file.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <string_view>
#include <system_error>
#include <type_traits>

#include "backprop/atomic_file.hpp"
#include "backprop/error.hpp"
#include "model_file_internal.hpp"

namespace backprop {

namespace detail {

namespace fs = std::filesystem;

void fail(const fs::path& path, const std::string& problem, std::string_view fix) {
  throw InputError(path.string() + ": " + problem + "; " + std::string(fix));
}

std::string read_whole_file(const fs::path& path, std::uint64_t max_bytes, std::string_view kind) {
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (!fs::exists(status)) fail(path, "no such file", "check the path");
  if (fs::is_directory(status)) {
    fail(path, "is a folder, not a " + std::string(kind), "name the file itself");
  }
  const std::uintmax_t size = fs::file_size(path, error);
  if (error) fail(path, "cannot read: " + error.message(), "give a regular file");
  if (size > max_bytes) {
    fail(path,
         "holds " + std::to_string(size) + " bytes, more than the limit of " +
             std::to_string(max_bytes) + " for a " + std::string(kind),
         "check that this is a " + std::string(kind));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fail(path, "cannot open: " + std::generic_category().message(errno), "check permissions");
  }
  std::string bytes(size, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (static_cast<std::uintmax_t>(in.gcount()) != size) {
    fail(path, "truncated: the file shrank while being read", "read it again");
  }
  return bytes;
}

std::int64_t parameter_count(const NetworkSpec& spec) {
  // Each term is below 2^62 + 2^31 (sizes are ints) and the total is
  // checked against 2^62 after each, so nothing overflows.
  constexpr std::int64_t limit = std::int64_t{1} << 62;
  std::int64_t total = 0;
  for (std::size_t l = 0; l + 1 < spec.sizes.size(); ++l) {
    total += std::int64_t{spec.sizes[l + 1]} * spec.sizes[l] + spec.sizes[l + 1];
    if (total > limit) return -1;
  }
  return total;
}

std::string sizes_text(const NetworkSpec& spec) {
  std::string text = "[";
  for (std::size_t i = 0; i < spec.sizes.size(); ++i) {
    text += (i ? ", " : "") + std::to_string(spec.sizes[i]);
  }
  return text + "]";
}

std::string describe_parameter(const NetworkSpec& spec, std::int64_t index) {
  for (std::size_t l = 0; l + 1 < spec.sizes.size(); ++l) {
    const std::int64_t rows = spec.sizes[l + 1];
    const std::int64_t weights = rows * spec.sizes[l];
    const std::string layer = std::to_string(l + 1);
    if (index < weights) {
      // Column-major: consecutive indices run down a column.
      return "W^" + layer + " row " + std::to_string(index % rows) + ", column " +
             std::to_string(index / rows);
    }
    if (index < weights + rows) return "b^" + layer + " entry " + std::to_string(index - weights);
    index -= weights + rows;
  }
  return "beyond the last layer";
}

void check_spec_and_count(const ModelFile& model, const std::string& where, std::string_view fix) {
  try {
    model.spec.validate();
  } catch (const InputError& error) {
    throw InputError(where + ": invalid network: " + error.what());
  }
  const std::int64_t have = model.parameters.size();
  const std::int64_t need = parameter_count(model.spec);
  if (need != have) {
    throw InputError(where + ": " + std::to_string(have) + " parameters, but the network " +
                     sizes_text(model.spec) + " needs " +
                     (need < 0 ? "more than 2^62" : std::to_string(need)) + "; " +
                     std::string(fix));
  }
}

void check_finite(const ModelFile& model, const std::string& where) {
  for (Eigen::Index i = 0; i < model.parameters.size(); ++i) {
    if (!std::isfinite(model.parameters[i])) {
      throw InputError(where + ": parameter " + std::to_string(i) + " (" +
                       describe_parameter(model.spec, i) + ") is " +
                       std::to_string(model.parameters[i]) +
                       ": the training diverged; lower the learning rate, or use an earlier "
                       "checkpoint");
    }
  }
}

void check_model(const ModelFile& model, const std::string& where, std::string_view fix) {
  check_spec_and_count(model, where, fix);
  check_finite(model, where);
}

}  // namespace detail

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMagic = "BACKPROP";
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kHeaderBytes = 12;         // magic + version
constexpr std::size_t kSectionHeaderBytes = 12;  // tag + payload length
constexpr std::size_t kEndBytes = kSectionHeaderBytes + 4;
// Sixteen gigabytes: two billion double parameters, far beyond what this
// library trains, yet a size a damaged length cannot get past.
constexpr std::uint64_t kMaxFileBytes = std::uint64_t{1} << 34;
constexpr std::string_view kResave = "re-save it or use an earlier checkpoint";
constexpr std::array<std::string_view, 4> kKnownSections{"SPEC", "PARM", "SETS", "STAT"};

std::uint32_t crc32_of(std::string_view bytes) {
  return static_cast<std::uint32_t>(
      crc32_z(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

std::string hex32(std::uint32_t value) {
  char text[11];
  std::snprintf(text, sizeof text, "0x%08X", value);
  return text;
}

// A tag as it can be printed: a damaged one may hold any bytes.
std::string printable(std::string_view tag) {
  std::string text;
  for (const char c : tag) text += (c >= 0x20 && c < 0x7F) ? c : '?';
  return "'" + text + "'";
}

// Precision::float32 if every value survives the trip through float bit for
// bit, so optimizer state is stored compactly only when that loses nothing.
Precision lossless_precision(const Vector<double>& values) {
  for (const double value : values) {
    const double back = static_cast<float>(value);
    if (std::bit_cast<std::uint64_t>(back) != std::bit_cast<std::uint64_t>(value)) {
      return Precision::float64;
    }
  }
  return Precision::float32;
}

// ---------------------------------------------------------------- writing

class ByteWriter {
 public:
  void raw(std::string_view bytes) { bytes_ += bytes; }
  void u8(std::uint8_t value) { bytes_ += static_cast<char>(value); }
  void u32(std::uint32_t value) { little_endian(value, 4); }
  void u64(std::uint64_t value) { little_endian(value, 8); }
  void text(std::string_view text) {
    if (text.size() > UINT32_MAX) throw Error("cannot save a text of 4 GiB or more");
    u32(static_cast<std::uint32_t>(text.size()));
    raw(text);
  }
  // A precision byte (4 or 8), a count, then the values in that precision.
  void values(const Vector<double>& values, Precision precision) {
    u8(precision == Precision::float32 ? 4 : 8);
    u64(static_cast<std::uint64_t>(values.size()));
    for (const double value : values) {
      if (precision == Precision::float32) {
        u32(std::bit_cast<std::uint32_t>(static_cast<float>(value)));
      } else {
        u64(std::bit_cast<std::uint64_t>(value));
      }
    }
  }
  void section(std::string_view tag, const ByteWriter& payload) {
    raw(tag);
    u64(payload.bytes_.size());
    raw(payload.bytes_);
  }
  const std::string& bytes() const { return bytes_; }

 private:
  void little_endian(std::uint64_t value, int count) {
    for (int i = 0; i < count; ++i) bytes_ += static_cast<char>((value >> (8 * i)) & 0xFF);
  }

  std::string bytes_;
};

// Names, not enum values: the enums may be reordered, the names are stable.
ByteWriter encode_spec(const NetworkSpec& spec) {
  ByteWriter out;
  out.u32(static_cast<std::uint32_t>(spec.sizes.size()));
  for (const int size : spec.sizes) out.u32(static_cast<std::uint32_t>(size));
  out.u32(static_cast<std::uint32_t>(spec.activations.size()));
  for (const Activation activation : spec.activations) out.text(to_string(activation));
  out.text(to_string(spec.cost));
  return out;
}

ByteWriter encode_settings(const std::map<std::string, std::string>& settings) {
  ByteWriter out;
  out.u32(static_cast<std::uint32_t>(settings.size()));
  for (const auto& [key, value] : settings) {
    out.text(key);
    out.text(value);
  }
  return out;
}

ByteWriter encode_state(const TrainingState& state) {
  ByteWriter out;
  out.u64(static_cast<std::uint64_t>(state.epochs_completed));
  out.text(state.rng_state);
  out.values(state.optimizer_state, lossless_precision(state.optimizer_state));
  out.values(state.best_parameters, lossless_precision(state.best_parameters));
  out.u32(static_cast<std::uint32_t>(state.scalars.size()));
  for (const auto& [name, value] : state.scalars) {
    out.text(name);
    out.u64(std::bit_cast<std::uint64_t>(value));
  }
  return out;
}

std::string encode(const ModelFile& model) {
  ByteWriter parameters;
  parameters.values(model.parameters, model.precision);
  ByteWriter out;
  out.raw(kMagic);
  out.u32(kVersion);
  out.section("SPEC", encode_spec(model.spec));
  out.section("PARM", parameters);
  out.section("SETS", encode_settings(model.settings));
  if (model.state) out.section("STAT", encode_state(*model.state));
  ByteWriter end;
  end.u32(crc32_of(out.bytes()));
  out.section("END ", end);
  return out.bytes();
}

// A float32 file must hold what the network holds: refuse values that
// overflow float rather than write infinities.
void check_fits_float(const ModelFile& model, const fs::path& path) {
  if (model.precision != Precision::float32) return;
  for (Eigen::Index i = 0; i < model.parameters.size(); ++i) {
    if (!std::isfinite(static_cast<float>(model.parameters[i]))) {
      throw InputError(path.string() + ": cannot save: parameter " + std::to_string(i) + " (" +
                       detail::describe_parameter(model.spec, i) + ") is " +
                       std::to_string(model.parameters[i]) +
                       ", too large for float32; save with double precision");
    }
  }
}

// ---------------------------------------------------------------- reading

[[noreturn]] void truncated(const fs::path& path, const std::string& detail) {
  detail::fail(path, "truncated: " + detail, kResave);
}

// Reads one section's payload; every read is bounds-checked.
class ByteReader {
 public:
  ByteReader(std::string_view payload, const fs::path& path, std::string_view tag)
      : bytes_(payload), path_(path), tag_(tag) {}

  std::size_t remaining() const { return bytes_.size() - position_; }
  std::uint8_t u8() { return static_cast<std::uint8_t>(take(1)[0]); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(little_endian(4)); }
  std::uint64_t u64() { return little_endian(8); }
  std::string text() {
    const std::uint32_t size = u32();
    return std::string(take(size));
  }
  // A count of items each at least `item_bytes` long, checked against the
  // bytes left before anyone allocates room for them.
  std::size_t count(std::uint64_t declared, std::size_t item_bytes, const char* what) {
    if (declared > remaining() / item_bytes) {
      corrupt("declares " + std::to_string(declared) + " " + what + " but holds only " +
              std::to_string(remaining()) + " more bytes");
    }
    return static_cast<std::size_t>(declared);
  }
  Vector<double> values(const char* what, Precision* precision = nullptr) {
    const std::uint8_t width = u8();
    if (width != 4 && width != 8) {
      corrupt("gives " + std::to_string(width) + " bytes per value for " + what +
              " (expected 4 or 8)");
    }
    if (precision) *precision = width == 4 ? Precision::float32 : Precision::float64;
    Vector<double> values(static_cast<Eigen::Index>(count(u64(), width, what)));
    for (double& value : values) {
      value = width == 4 ? std::bit_cast<float>(u32()) : std::bit_cast<double>(u64());
    }
    return values;
  }
  // A known section must hold exactly its fields: the checksum was right, so
  // anything else means the writer was broken.
  void expect_end() {
    if (remaining() != 0) {
      corrupt("has " + std::to_string(remaining()) + " unexpected bytes after its fields");
    }
  }
  [[noreturn]] void corrupt(const std::string& problem) const {
    detail::fail(path_, "corrupt: section " + printable(tag_) + " " + problem, kResave);
  }

 private:
  std::string_view take(std::size_t size) {
    if (size > remaining()) corrupt("ends in the middle of a field");
    const std::string_view bytes = bytes_.substr(position_, size);
    position_ += size;
    return bytes;
  }
  std::uint64_t little_endian(int size) {
    const std::string_view bytes = take(static_cast<std::size_t>(size));
    std::uint64_t value = 0;
    for (int i = size - 1; i >= 0; --i) value = value << 8 | static_cast<std::uint8_t>(bytes[i]);
    return value;
  }

  std::string_view bytes_;
  std::size_t position_ = 0;
  const fs::path& path_;
  std::string_view tag_;
};

std::uint64_t little_endian_at(std::string_view bytes, std::size_t offset, int size) {
  std::uint64_t value = 0;
  for (int i = size - 1; i >= 0; --i) {
    value = value << 8 | static_cast<std::uint8_t>(bytes[offset + i]);
  }
  return value;
}

void check_header(std::string_view file, const fs::path& path) {
  if (file.empty()) detail::fail(path, "the file is empty", kResave);
  const std::size_t shown = std::min(file.size(), kMagic.size());
  if (file.substr(0, shown) != kMagic.substr(0, shown)) {
    detail::fail(path, "not a backprop model file (it does not start with \"BACKPROP\")",
                 "give a model saved by backprop, or a network2 JSON file");
  }
  if (file.size() < kHeaderBytes) {
    truncated(path, "the file holds only " + std::to_string(file.size()) +
                        " bytes, less than the 12-byte header");
  }
  const std::uint64_t version = little_endian_at(file, kMagic.size(), 4);
  if (version > kVersion) {
    detail::fail(path,
                 "was written by a newer backprop (format version " + std::to_string(version) +
                     "); this one reads up to " + std::to_string(kVersion),
                 "upgrade backprop");
  }
  if (version == 0) detail::fail(path, "corrupt: format version 0 does not exist", kResave);
}

struct Section {
  std::string_view tag;
  std::string_view payload;
};

// Checks the END section at `offset`, the last thing in the file, and the
// checksum it holds over everything before it.
void check_end(std::string_view file, std::size_t offset, std::string_view payload,
               const fs::path& path) {
  if (payload.size() != 4) {
    detail::fail(path,
                 "corrupt: the END section is " + std::to_string(payload.size()) +
                     " bytes long instead of 4",
                 kResave);
  }
  const std::size_t after = file.size() - offset - kEndBytes;
  if (after != 0) {
    detail::fail(path,
                 "corrupt: " + std::to_string(after) + " unexpected bytes after the END section",
                 kResave);
  }
  const auto stored = static_cast<std::uint32_t>(little_endian_at(payload, 0, 4));
  const std::uint32_t computed = crc32_of(file.substr(0, offset));
  if (stored != computed) {
    detail::fail(path,
                 "corrupt: checksum mismatch (the file says " + hex32(stored) +
                     ", its bytes give " + hex32(computed) + ")",
                 kResave);
  }
}

// The sections before END, after checking that each lies inside the file
// and that the checksum holds.
std::vector<Section> split_sections(std::string_view file, const fs::path& path) {
  std::vector<Section> sections;
  std::size_t offset = kHeaderBytes;
  while (true) {
    const std::size_t left = file.size() - offset;
    if (left == 0) {
      truncated(path,
                "the file ends at byte " + std::to_string(offset) + " without its END section");
    }
    if (left < kSectionHeaderBytes) {
      truncated(path, "the file ends inside a section header at byte " + std::to_string(offset));
    }
    const std::string_view tag = file.substr(offset, 4);
    const std::uint64_t length = little_endian_at(file, offset + 4, 8);
    if (length > left - kSectionHeaderBytes) {
      truncated(path, "section " + printable(tag) + " at byte " + std::to_string(offset) +
                          " declares " + std::to_string(length) + " bytes but only " +
                          std::to_string(left - kSectionHeaderBytes) + " follow");
    }
    const std::string_view payload = file.substr(offset + kSectionHeaderBytes, length);
    if (tag == "END ") {
      check_end(file, offset, payload, path);
      return sections;
    }
    sections.push_back({tag, payload});
    offset += kSectionHeaderBytes + length;
  }
}

// Runs `parse` and puts the file's name before any InputError it throws.
template <typename Parse>
auto in_file(const fs::path& path, Parse parse) {
  try {
    return parse();
  } catch (const InputError& error) {
    throw InputError(path.string() + ": invalid network: " + error.what());
  }
}

NetworkSpec decode_spec(ByteReader& in, const fs::path& path) {
  NetworkSpec spec;
  spec.sizes.resize(in.count(in.u32(), 4, "layer sizes"));
  for (int& size : spec.sizes) {
    const std::uint32_t value = in.u32();
    if (value > INT_MAX) in.corrupt("gives a layer size of " + std::to_string(value));
    size = static_cast<int>(value);
  }
  spec.activations.resize(in.count(in.u32(), 4, "activations"));
  for (Activation& activation : spec.activations) {
    const std::string name = in.text();
    activation = in_file(path, [&] { return parse_activation(name); });
  }
  const std::string cost = in.text();
  spec.cost = in_file(path, [&] { return parse_cost(cost); });
  return spec;
}

std::map<std::string, std::string> decode_settings(ByteReader& in) {
  std::map<std::string, std::string> settings;
  const std::size_t count = in.count(in.u32(), 8, "settings");
  for (std::size_t i = 0; i < count; ++i) {
    std::string key = in.text();
    std::string value = in.text();
    if (!settings.emplace(std::move(key), std::move(value)).second) {
      in.corrupt("gives a setting twice");
    }
  }
  return settings;
}

TrainingState decode_state(ByteReader& in) {
  TrainingState state;
  const std::uint64_t epochs = in.u64();
  if (epochs > INT_MAX) in.corrupt("gives " + std::to_string(epochs) + " epochs completed");
  state.epochs_completed = static_cast<int>(epochs);
  state.rng_state = in.text();
  state.optimizer_state = in.values("optimizer state");
  state.best_parameters = in.values("best parameters");
  const std::size_t count = in.count(in.u32(), 12, "scalars");
  for (std::size_t i = 0; i < count; ++i) {
    std::string name = in.text();
    const auto value = std::bit_cast<double>(in.u64());
    if (!state.scalars.emplace(std::move(name), value).second) in.corrupt("gives a scalar twice");
  }
  return state;
}

}  // namespace

std::string to_string(Precision precision) {
  return precision == Precision::float32 ? "float" : "double";
}

Precision parse_precision(std::string_view name) {
  if (name == "float") return Precision::float32;
  if (name == "double") return Precision::float64;
  throw InputError("unknown precision '" + std::string(name) + "': use float or double");
}

template <typename T>
ModelFile ModelFile::from(const Network<T>& network) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
  ModelFile model;
  model.spec = network.spec();
  model.precision = std::is_same_v<T, float> ? Precision::float32 : Precision::float64;
  // The network's one buffer has the file's layout: W^l column by column,
  // then b^l, layer by layer.
  model.parameters = network.parameters().template cast<double>();
  return model;
}

template <typename T>
Network<T> ModelFile::to_network() const {
  detail::check_spec_and_count(*this, "cannot build a network from the model",
                               "give parameters saved from a network of this shape");
  Network<T> network(spec);
  network.parameters() = parameters.cast<T>();
  return network;
}

template ModelFile ModelFile::from<float>(const Network<float>&);
template ModelFile ModelFile::from<double>(const Network<double>&);
template Network<float> ModelFile::to_network<float>() const;
template Network<double> ModelFile::to_network<double>() const;

void write_model_file(const fs::path& path, const ModelFile& model) {
  detail::check_model(model, path.string() + ": cannot save",
                      "save the network the parameters came from");
  check_fits_float(model, path);
  atomic_write(path, encode(model));
}

ModelFile read_model_file(const fs::path& path) {
  const std::string file = detail::read_whole_file(path, kMaxFileBytes, "backprop model file");
  check_header(file, path);
  ModelFile model;
  std::set<std::string_view> seen;
  for (const Section& section : split_sections(file, path)) {
    ByteReader in(section.payload, path, section.tag);
    const bool known = std::ranges::find(kKnownSections, section.tag) != kKnownSections.end();
    if (known && !seen.insert(section.tag).second) {
      in.corrupt("appears twice");
    }
    if (section.tag == "SPEC") {
      model.spec = decode_spec(in, path);
    } else if (section.tag == "PARM") {
      model.parameters = in.values("parameters", &model.precision);
    } else if (section.tag == "SETS") {
      model.settings = decode_settings(in);
    } else if (section.tag == "STAT") {
      model.state = decode_state(in);
    } else {
      continue;  // added by a later version-1 writer: skipped by its length
    }
    in.expect_end();
  }
  for (const std::string_view required : {"SPEC", "PARM"}) {
    if (!seen.contains(required)) {
      detail::fail(path, "corrupt: the file has no '" + std::string(required) + "' section",
                   kResave);
    }
  }
  detail::check_model(model, path.string(), kResave);
  return model;
}

ModelFile read_any_model(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char bom[3] = {};
  // Skip a UTF-8 byte order mark, which some editors put before JSON.
  in.read(bom, 3);
  const bool has_bom = in.gcount() == 3 && std::string_view(bom, 3) == "\xEF\xBB\xBF";
  in.clear();
  if (!has_bom) in.seekg(0);
  char c;
  while (in.get(c)) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;  // JSON's white space
    if (c == '{') return read_network2_json(path);
    break;
  }
  // Also where a missing or empty file gets its message.
  return read_model_file(path);
}

}  // namespace backprop
