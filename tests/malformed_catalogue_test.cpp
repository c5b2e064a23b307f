// The catalogue of malformed inputs: data files (IDX and CSV), model files,
// network2 JSON, config files and flags, each given to the `backprop` command as a user would.
// Every case must end the same way: exit code 2, exactly one line on stderr that names the problem,
// no output file created or changed (a model already at the --save path keeps its bytes and its
// time stamp), and memory bounded (a file claiming gigabytes is refused before they are allocated).
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "backprop/idx.hpp"
#include "backprop/model_file.hpp"
#include "backprop/rng.hpp"
#include "cli_run.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;

// Peak memory allowed to any case. The command itself needs some 20 MiB here
// (more under AddressSanitizer); the bombs in the catalogue claim gigabytes
// to exabytes.
constexpr long kMaxRssKib = 512 * 1024;

const fs::path& root() {
  static const fs::path path =
      fs::temp_directory_path() / ("backprop_catalogue_" + std::to_string(::getpid()));
  return path;
}
fs::path shared(const std::string& name) { return root() / "shared" / name; }

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::string idx_header(std::vector<std::uint32_t> dims, std::uint8_t type = 0x08) {
  std::string header{0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (const std::uint32_t dim : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) header += static_cast<char>(dim >> shift);
  }
  return header;
}

std::string gzip(const std::string& bytes) {
  uLongf size = compressBound(static_cast<uLong>(bytes.size())) + 32;
  std::string out(size, '\0');
  z_stream stream{};
  // windowBits 15 + 16: a gzip wrapper, as gzip(1) and write_idx write.
  deflateInit2(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(size);
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

// A model file's END section is its last 16 bytes: "END ", length 4, CRC-32
// of everything before it. Patching bytes and then this makes a file whose
// checksum holds, so the damage is found by the check behind it.
std::string with_checksum(std::string bytes) {
  const std::size_t end = bytes.size() - 16;
  const auto crc = static_cast<std::uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(end)));
  for (int i = 0; i < 4; ++i) bytes[bytes.size() - 4 + i] = static_cast<char>(crc >> (8 * i));
  return bytes;
}

void put_u64(std::string& bytes, std::size_t offset, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) bytes[offset + i] = static_cast<char>(value >> (8 * i));
}

std::string model_bytes() { return test::read_text(shared("model.bpm")); }

// The good checkpoint, changed by `edit` and saved (with a sound checksum) at `path`.
void edited_checkpoint(const fs::path& path, const std::function<void(ModelFile&)>& edit) {
  ModelFile model = read_model_file(shared("checkpoint.bpm"));
  edit(model);
  write_model_file(path, model);
}

// The four data flags, with the file of `which` (e.g. "--train-images") replaced.
Args data(const std::string& which = "", const std::string& file = "") {
  Args args;
  for (const auto& [flag, name] : {std::pair{"--train-images", "train-images.idx"},
                                   {"--train-labels", "train-labels.idx.gz"},
                                   {"--test-images", "test-images.idx"},
                                   {"--test-labels", "test-labels.idx.gz"}}) {
    args.push_back(flag);
    args.push_back(flag == which ? file : shared(name).string());
  }
  return args;
}

Args operator+(Args a, const Args& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

struct Case {
  std::string name;    // also the case's folder
  Args args;           // "$DIR" in an argument is the case's folder
  std::string phrase;  // must appear in the line on stderr
  std::function<void(const fs::path& dir)> setup = nullptr;
};

std::ostream& operator<<(std::ostream& out, const Case& c) { return out << c.name; }

const std::string kNetwork = "16,12,4";

// train with a small network and every kind of output: a model already at
// --save, and metrics and checkpoints that must not appear.
Args train(const Args& args) {
  return Args{"train",        "--epochs",           "1",
              "--save",       "$DIR/keep.bpm",      "--metrics",
              "$DIR/new.csv", "--checkpoint-every", "1",
              "--checkpoint", "$DIR/new.ckpt"} +
         args;
}
Args train_new(const Args& args) { return train(Args{"--layers", kNetwork} + args); }

std::vector<Case> data_cases() {
  const auto file = [](const std::string& bytes) {
    return [bytes](const fs::path& dir) { write_bytes(dir / "bad", bytes); };
  };
  // Read when a case is set up, after the suite has written the shared files.
  const auto good_images = [] { return test::read_text(shared("train-images.idx")); };
  return {
      {"images_missing", train_new(data("--train-images", "$DIR/missing.idx")), "no such file"},
      {"images_is_a_folder", train_new(data("--train-images", "$DIR/folder")), "directory",
       [](const fs::path& dir) { fs::create_directory(dir / "folder"); }},
      {"images_empty", train_new(data("--train-images", "$DIR/bad")), "empty", file("")},
      {"images_header_cut", train_new(data("--train-images", "$DIR/bad")), "truncated header",
       file(std::string("\0\0\x08", 3))},
      {"images_not_idx", train_new(data("--train-images", "$DIR/bad")), "not an IDX file",
       file("\x89PNG\r\n\x1a\n")},
      {"images_float_type", train_new(data("--train-images", "$DIR/bad")),
       "unsupported IDX type 0x0D", file(idx_header({1, 4, 4}, 0x0D) + std::string(64, '\0'))},
      {"images_no_dims", train_new(data("--train-images", "$DIR/bad")), "no dimensions",
       file(idx_header({}))},
      {"images_zero_dim", train_new(data("--train-images", "$DIR/bad")), "is zero",
       file(idx_header({0, 4, 4}))},
      {"images_claim_exabytes", train_new(data("--train-images", "$DIR/bad")),
       "more than the limit", file(idx_header({0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}))},
      {"images_claim_beyond_file", train_new(data("--train-images", "$DIR/bad")),
       "truncated: the header declares 3136000000 bytes",
       file(idx_header({4000000, 28, 28}) + std::string(10, '\1'))},
      {"images_extra_bytes", train_new(data("--train-images", "$DIR/bad")), "extra bytes",
       [good_images](const fs::path& dir) { write_bytes(dir / "bad", good_images() + "\x01"); }},
      {"images_gzip_cut", train_new(data("--train-images", "$DIR/bad")), "truncated",
       [good_images](const fs::path& dir) {
         const std::string whole = gzip(good_images());
         write_bytes(dir / "bad", whole.substr(0, whole.size() / 2));
       }},
      {"images_gzip_corrupt", train_new(data("--train-images", "$DIR/bad")), "corrupt gzip",
       [good_images](const fs::path& dir) {
         std::string whole = gzip(good_images());
         whole[whole.size() - 6] ^= 0x5A;  // the CRC-32 of the data
         write_bytes(dir / "bad", whole);
       }},
      {"labels_gzip_claim_gigabytes", train_new(data("--train-labels", "$DIR/bad")),
       "truncated: the header declares 4000000000 bytes",
       file(gzip(idx_header({4000000000U}) + std::string(100, '\1')))},
      {"labels_two_dimensional", train_new(data("--train-labels", "$DIR/bad")), "one-dimensional",
       file(idx_header({240, 1}) + std::string(240, '\1'))},
      {"labels_fewer_than_images", train_new(data("--train-labels", "$DIR/bad")),
       "holds 240 images but", file(idx_header({100}) + std::string(100, '\1'))},
      {"labels_beyond_outputs", train_new(data("--train-labels", "$DIR/bad")), "label 7",
       file(idx_header({240}) + std::string(240, '\7'))},
      {"images_too_wide_for_network",
       train_new(Args{"--train-images", "$DIR/bad", "--train-labels",
                      shared("train-labels.idx.gz").string(), "--test-images", "$DIR/bad-test",
                      "--test-labels", shared("test-labels.idx.gz").string()}),
       "takes 16 inputs",
       [](const fs::path& dir) {
         write_bytes(dir / "bad", idx_header({240, 5, 5}) + std::string(240 * 25, '\1'));
         write_bytes(dir / "bad-test", idx_header({40, 5, 5}) + std::string(40 * 25, '\1'));
       }},
      {"test_images_other_size", train_new(data("--test-images", "$DIR/bad")), "bad",
       file(idx_header({40, 5, 5}) + std::string(40 * 25, '\1'))},
      {"predict_images_other_size",
       Args{"predict", shared("model.bpm").string(), "--images", "$DIR/bad"}, "pixels per image",
       file(idx_header({3, 5, 5}) + std::string(75, '\1'))},
  };
}

std::vector<Case> model_cases() {
  const auto model = [](const std::function<std::string(std::string)>& change) {
    return [change](const fs::path& dir) { write_bytes(dir / "bad.bpm", change(model_bytes())); };
  };
  const Args load = train(Args{"--load", "$DIR/bad.bpm"} + data());
  // Offsets in a model file: the header is 12 bytes, SPEC's tag and length
  // follow, and its payload starts with the count of sizes.
  return {
      {"model_missing", load, "no such file"},
      {"model_empty", load, "empty", model([](const std::string&) { return ""; })},
      {"model_not_a_model", load, "not a backprop model file",
       model([](const std::string&) { return std::string("GIF89a") + std::string(40, '\0'); })},
      {"model_cut_in_half", load, "truncated",
       model([](const std::string& b) { return b.substr(0, b.size() / 2); })},
      {"model_newer_version", load, "newer backprop", model([](std::string b) {
         b[8] = 7;
         return b;
       })},
      {"model_version_zero", load, "version 0", model([](std::string b) {
         b[8] = 0;
         return b;
       })},
      {"model_one_bit_flipped", load, "checksum mismatch", model([](std::string b) {
         b[b.size() / 2] ^= 0x10;
         return b;
       })},
      {"model_section_claims_exabytes", load, "declares", model([](std::string b) {
         put_u64(b, 16, std::uint64_t{1} << 60);
         return b;
       })},
      {"model_parameters_claim_exabytes", load, "declares 2305843009213693952 parameters",
       model([](std::string b) {
         const std::size_t parm = b.find("PARM");
         put_u64(b, parm + 12 + 1, std::uint64_t{1} << 61);  // after the width byte
         return with_checksum(b);
       })},
      {"model_unknown_activation", load, "unknown activation 'sigmoix'", model([](std::string b) {
         b[b.find("sigmoid") + 6] = 'x';
         return with_checksum(b);
       })},
      {"model_softmax_hidden_layer", load, "softmax is only allowed on the output layer",
       model([](std::string b) {
         b.replace(b.find("sigmoid"), 7, "softmax");  // the same length
         return with_checksum(b);
       })},
      {"model_nan_parameter", load, "is nan", model([](std::string b) {
         const std::size_t first = b.find("PARM") + 12 + 9;  // the first float32
         const float nan = std::numeric_limits<float>::quiet_NaN();
         std::memcpy(b.data() + first, &nan, 4);
         return with_checksum(b);
       })},
      {"eval_model_cut", Args{"eval", "$DIR/bad.bpm"} + data(), "truncated",
       model([](const std::string& b) { return b.substr(0, 30); })},
      {"inspect_model_missing", Args{"inspect", "$DIR/missing.bpm"}, "no such file"},
      {"predict_model_not_a_model",
       Args{"predict", "$DIR/bad.bpm", "--images", shared("test-images.idx").string()},
       "not a backprop model file", model([](const std::string&) { return "hello"; })},
  };
}

std::vector<Case> checkpoint_cases() {
  const Args resume = train(Args{"--resume", "$DIR/bad.bpm"});
  const auto edit = [](const std::function<void(ModelFile&)>& change) {
    return [change](const fs::path& dir) { edited_checkpoint(dir / "bad.bpm", change); };
  };
  return {
      {"resume_model_without_state", train(Args{"--resume", shared("model.bpm").string()}),
       "no training state"},
      {"resume_eta_not_a_number", resume, "'eta' is 'fast', not a number",
       edit([](ModelFile& m) { m.settings["eta"] = "fast"; })},
      {"resume_dropout_not_a_number", resume, "'dropout' is 'x', not a number",
       edit([](ModelFile& m) { m.settings["dropout"] = "0.1,x"; })},
      {"resume_seed_not_a_number", resume, "'seed' is '-7'",
       edit([](ModelFile& m) { m.settings["seed"] = "-7"; })},
      {"resume_epochs_overflow", resume, "'epochs' is '1e300'",
       edit([](ModelFile& m) { m.settings["epochs"] = "1e300"; })},
      {"resume_setting_missing", resume, "lack 'mini_batch'",
       edit([](ModelFile& m) { m.settings.erase("mini_batch"); })},
      {"resume_random_state_garbage", resume, "random generator state",
       edit([](ModelFile& m) { m.state->rng_state = "not a Mersenne twister"; })},
      {"resume_optimizer_state_wrong_size", resume, "optimizer state holds 3 numbers",
       edit([](ModelFile& m) { m.state->optimizer_state = Vector<double>::Ones(3); })},
      {"resume_best_parameters_wrong_size", resume, "best parameters hold 3 numbers",
       edit([](ModelFile& m) { m.state->best_parameters = Vector<double>::Ones(3); })},
      {"resume_count_not_a_count", resume, "not a count", edit([](ModelFile& m) {
         m.state->scalars["early_stopping_epochs_without_improvement"] = 1e300;
       })},
      {"resume_with_new_layers",
       train(Args{"--resume", shared("checkpoint.bpm").string(), "--layers", "16,4"}),
       "drop --layers"},
      {"load_with_new_layers",
       train(Args{"--load", shared("model.bpm").string(), "--layers", "16,4"} + data()),
       "drop --layers"},
  };
}

std::vector<Case> json_cases() {
  const auto json = [](const std::string& text) {
    return [text](const fs::path& dir) { write_bytes(dir / "bad.json", text); };
  };
  const Args load = train(Args{"--load", "$DIR/bad.json"} + data());
  const std::string biases = R"("biases": [[[0]], [[0]]], "cost": "QuadraticCost"})";
  return {
      {"json_cut_short", load, "bad.json", json(R"({"sizes": [16, 12, )")},
      {"json_weight_shapes", load, "bad.json",
       json(
           R"({"sizes": [16, 12, 4], "weights": [[[1]]], "biases": [], "cost": "QuadraticCost"})")},
      {"json_weights_are_words", load, "the string \"one\"",
       json(
           R"({"sizes": [1, 1], "weights": [[["one"]]], "biases": [[[0]]], "cost": "QuadraticCost"})")},
      {"json_unknown_cost", load, "HingeCost",
       json(R"({"sizes": [1, 1], "weights": [[[1]]], "biases": [[[0]]], "cost": "HingeCost"})")},
      {"json_number_overflows", load, "bad.json",
       json(
           R"({"sizes": [1, 1], "weights": [[[1e999]]], "biases": [[[0]]], "cost": "QuadraticCost"})")},
      {"json_biases_missing", load, "biases",
       json(R"({"sizes": [1, 1], "weights": [[[1]]], "cost": "QuadraticCost"})")},
      {"json_layer_of_size_zero", load, "bad.json",
       json(R"({"sizes": [1, 0], "weights": [[]], "biases": [[]], "cost": "QuadraticCost"})")},
      {"json_sizes_claim_billions", load, "bad.json",
       json(
           R"({"sizes": [4000000000, 4000000000], "weights": [], "biases": [], "cost": "QuadraticCost"})")},
      {"json_nested_a_million_deep", load, "bad.json",
       json(R"({"sizes": )" + std::string(1000000, '[') + std::string(1000000, ']') + "}")},
      {"json_byte_order_mark_then_junk", load, "bad.json", json("\xEF\xBB\xBF{ sizes: 1 }")},
      {"json_duplicate_key_layers", load, "bad.json",
       json(R"({"sizes": [1, 1], "sizes": [2, 2], "weights": [[[1]]], )" + biases)},
  };
}

std::vector<Case> config_cases() {
  const auto config = [](const std::string& name, const std::string& text) {
    return [name, text](const fs::path& dir) { write_bytes(dir / name, text); };
  };
  const auto with = [](const std::string& name) {
    return train(Args{"--config", "$DIR/" + name} + data());
  };
  return {
      {"config_missing", with("missing.toml"), "cannot open the config file"},
      {"config_json_cut_short", with("bad.json"), "not valid JSON",
       config("bad.json", R"({"eta": )")},
      {"config_toml_broken", with("bad.toml"), "not valid TOML", config("bad.toml", "eta = = 3\n")},
      {"config_unknown_key", with("bad.json"), "unknown key 'etta'",
       config("bad.json", R"({"etta": 3})")},
      {"config_wrong_type", with("bad.toml"), "key 'eta' should be",
       config("bad.toml", "eta = \"fast\"\n")},
      {"config_number_overflows", with("bad.json"), "beyond a double's range",
       config("bad.json", R"({"eta": 1e999})")},
      {"config_key_given_twice", with("bad.json"), "given twice",
       config("bad.json", R"({"eta": 1, "eta": 2})")},
      {"config_not_an_object", with("bad.json"), "one JSON object", config("bad.json", "[1, 2]")},
      {"config_value_out_of_range", with("bad.toml"), "threads",
       config("bad.toml", "threads = -1\n")},
      {"config_unknown_extension", with("bad.yaml"), "must end in .json",
       config("bad.yaml", "eta: 3\n")},
  };
}

std::vector<Case> csv_cases() {
  const auto csv = [](const std::string& text) {
    return [text](const fs::path& dir) {
      write_bytes(dir / "bad.csv", text);
      write_bytes(dir / "good.csv", "0.1,0.2,0\n0.3,0.4,1\n");
    };
  };
  const Args files{"--train-csv", "$DIR/bad.csv", "--test-csv", "$DIR/good.csv"};
  return {
      {"csv_missing", train(Args{"--layers", "2,2"} + files), "bad.csv"},
      {"csv_ragged_row", train(Args{"--layers", "2,2"} + files), "bad.csv",
       csv("0.1,0.2,0\n0.3,1\n")},
      {"csv_not_a_number", train(Args{"--layers", "2,2"} + files), "bad.csv",
       csv("0.1,0.2,0\n0.3,zero,1\n")},
      {"csv_class_not_whole", train(Args{"--layers", "2,2"} + files), "bad.csv",
       csv("0.1,0.2,0\n0.3,0.4,1.5\n")},
      // 1e39 is a finite double but an infinite float, as the data set holds it.
      {"csv_number_beyond_float", train(Args{"--layers", "2,2"} + files), "'1e39'",
       csv("0.1,0.2,0\n0.3,1e39,1\n")},
      {"csv_only_a_header", train(Args{"--layers", "2,2"} + files), "bad.csv", csv("x,y,label\n")},
  };
}

std::vector<Case> flag_cases() {
  return {
      {"flag_eta_nan", train(Args{"--layers", kNetwork, "--eta", "nan"} + data()), "--eta"},
      {"flag_eta_infinite", train(Args{"--layers", kNetwork, "--eta", "inf"} + data()), "--eta"},
      {"flag_epochs_negative", train(Args{"--layers", kNetwork, "--epochs", "-1"} + data()),
       "--epochs"},
      {"flag_layer_of_width_zero", train(Args{"--layers", "16,0,4"} + data()), "at least 1"},
      {"flag_layer_width_overflows", train(Args{"--layers", "16,99999999999,4"} + data()),
       "--layers"},
      {"flag_network_of_a_trillion_weights",
       train(Args{"--layers", "16,1000000,1000000,4"} + data()), "parameters"},
      {"flag_dropout_above_one", train(Args{"--layers", kNetwork, "--dropout", "1.5"} + data()),
       "--dropout"},
      {"flag_threads_negative", train(Args{"--layers", kNetwork, "--threads", "-1"} + data()),
       "--threads"},
      {"flag_monitor_unknown",
       train(Args{"--layers", kNetwork, "--monitor", "everything"} + data()), "--monitor"},
      {"flag_precision_half", train(Args{"--layers", kNetwork, "--precision", "half"} + data()),
       "--precision"},
      {"flag_dataset_unknown", train(Args{"--layers", kNetwork, "--dataset", "imagenet"}),
       "--dataset"},
      {"flag_validation_larger_than_data",
       train(Args{"--layers", kNetwork, "--validation-size", "1000"} + data()), "validation"},
      {"flag_checkpoint_every_negative",
       train(Args{"--layers", kNetwork, "--checkpoint-every", "-2"} + data()),
       "--checkpoint-every"},
      {"flag_mini_batch_words", train(Args{"--layers", kNetwork, "--mini-batch", "ten"} + data()),
       "--mini-batch"},
      {"flag_predict_limit_negative",
       Args{"predict", shared("model.bpm").string(), "--images", shared("test-images.idx").string(),
            "--limit", "-1"},
       "--limit"},
      {"command_unknown", Args{"tran", "--layers", kNetwork}, "unknown command 'tran'"},
  };
}

std::vector<Case> catalogue() {
  std::vector<Case> all;
  for (auto part : {data_cases(), model_cases(), checkpoint_cases(), json_cases(), config_cases(),
                    csv_cases(), flag_cases()}) {
    all.insert(all.end(), part.begin(), part.end());
  }
  return all;
}

// Every file under a folder: its bytes and modification time.
struct FileState {
  std::string bytes;
  fs::file_time_type modified;
  bool operator==(const FileState&) const = default;
};
std::map<std::string, FileState> snapshot(const fs::path& dir) {
  std::map<std::string, FileState> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    files[fs::relative(entry.path(), dir).string()] = {test::read_text(entry.path()),
                                                       entry.last_write_time()};
  }
  return files;
}

class Catalogue : public ::testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() {
    fs::create_directories(shared(""));
    Rng rng(5);
    for (const auto& [name, count] : {std::pair{"train", 240}, std::pair{"test", 40}}) {
      IdxArray images{{static_cast<std::uint32_t>(count), 4, 4}, {}};
      IdxArray labels{{static_cast<std::uint32_t>(count)}, {}};
      for (int i = 0; i < count; ++i) {
        const auto label = static_cast<std::uint8_t>(rng.below(4));
        labels.data.push_back(label);
        for (int p = 0; p < 16; ++p) {
          const bool lit = ((p / 4) / 2) * 2 + (p % 4) / 2 == label;
          images.data.push_back(static_cast<std::uint8_t>((lit ? 200 : 0) + rng.below(50)));
        }
      }
      write_idx(shared(std::string(name) + "-images.idx"), images);
      write_idx(shared(std::string(name) + "-labels.idx.gz"), labels, true);
    }
    const test::CliResult made =
        test::run_cli(BACKPROP_CLI,
                      Args{"train", "--layers", kNetwork, "--epochs", "2", "--optimizer",
                           "momentum", "--save", shared("model.bpm").string(), "--checkpoint-every",
                           "1", "--checkpoint", shared("checkpoint.bpm").string()} +
                          data(),
                      shared(""));
    ASSERT_EQ(made.exit_code, 0) << made.err;
  }
  static void TearDownTestSuite() { fs::remove_all(root()); }
};

TEST_P(Catalogue, IsRefusedWithOneLineAndExitCode2AndNothingWritten) {
  const Case& c = GetParam();
  const fs::path dir = root() / c.name;
  fs::create_directories(dir);
  // A model already where --save points: it must keep its bytes and time stamp.
  write_bytes(dir / "keep.bpm", "a model saved earlier");
  fs::last_write_time(dir / "keep.bpm", fs::file_time_type::clock::now() - std::chrono::hours(24));
  if (c.setup) c.setup(dir);
  Args args = c.args;
  for (std::string& arg : args) {
    for (std::size_t at; (at = arg.find("$DIR")) != std::string::npos;) {
      arg.replace(at, 4, dir.string());
    }
  }
  const auto before = snapshot(dir);

  const test::CliResult result = test::run_cli(BACKPROP_CLI, args, dir);

  EXPECT_EQ(result.exit_code, 2) << result.err << "signal " << result.signal;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_NE(result.err.find(c.phrase), std::string::npos)
      << "the message lacks '" << c.phrase << "':\n"
      << result.err;
  EXPECT_LT(result.max_rss_kib, kMaxRssKib);
  const auto after = snapshot(dir);
  EXPECT_TRUE(before == after) << "files were created or changed in " << dir;
  EXPECT_EQ(before.size(), after.size());
  // The one line, for the catalogue's reader.
  std::cout << "  " << c.name << ": " << result.err;
}

INSTANTIATE_TEST_SUITE_P(Inputs, Catalogue, ::testing::ValuesIn(catalogue()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace backprop
