// libFuzzer harness: `train --config` files (apps/config_file.hpp), JSON or
// TOML as the first byte chooses (even: .json, odd: .toml), the rest the
// file. The command is a small one with an option of each kind the real
// commands have (a number, a whole number in a range, a list, a name from a
// set, a flag), since the reader takes its keys and types from the
// command's own options. Every file must be applied or refused with
// InputError (or CLI11's own error for a value its checks reject).
#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "../apps/config_file.hpp"
#include "backprop/error.hpp"
#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const backprop::fuzz::FuzzFile json("config.json");
  static const backprop::fuzz::FuzzFile toml("config.toml");
  const auto& file = data[0] % 2 == 0 ? json : toml;
  const auto& path = file.write(backprop::fuzz::as_text(data + 1, size - 1));

  CLI::App command{"fuzz", "train"};
  double eta = 3.0;
  int threads = 0;
  std::vector<int> layers;
  std::string cost = "quadratic";
  bool no_shuffle = false;
  command.add_option("--eta", eta);
  command.add_option("--threads", threads)->check(CLI::Range(0, 1024));
  command.add_option("--layers", layers)->delimiter(',');
  command.add_option("--cost", cost)->check(CLI::IsMember({"quadratic", "cross-entropy"}));
  command.add_flag("--no-shuffle", no_shuffle);
  try {
    const std::vector<backprop::cli::ConfigEntry> entries =
        backprop::cli::read_config(path, command);
    backprop::cli::apply_config(path, entries, command);
  } catch (const backprop::InputError&) {
    return 0;  // refused with a message naming the file and the key
  } catch (const CLI::ParseError&) {
    return 0;  // a value CLI11's own checks refuse, as on the command line
  }
  if (threads < 0 || threads > 1024) std::abort();
  return 0;
}
