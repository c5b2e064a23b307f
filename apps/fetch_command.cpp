// `backprop fetch [mnist|fashion-mnist] [--data-dir DIR]`: puts a known data
// set on disk, every file's SHA-256 checked, where `backprop train` looks.
#include <iostream>
#include <memory>
#include <string>

#include "backprop/fetch.hpp"
#include "commands.hpp"
#include "data_dir.hpp"

namespace backprop::cli {

void add_fetch_command(CLI::App& app) {
  struct FetchFlags {
    std::string dataset = "mnist";
    std::filesystem::path data_dir = default_data_dir();
  };
  auto flags = std::make_shared<FetchFlags>();
  CLI::App* fetch =
      app.add_subcommand("fetch", "Download a known data set and check its SHA-256 sums");
  fetch->add_option("dataset", flags->dataset, "Which data set: mnist or fashion-mnist")
      ->check(CLI::IsMember({"mnist", "fashion-mnist"}))
      ->capture_default_str();
  fetch
      ->add_option("--data-dir", flags->data_dir,
                   "Where known data sets are kept (default: $BACKPROP_DATA, else ./data)")
      ->capture_default_str();
  fetch->callback(
      [flags] { fetch_dataset(parse_dataset(flags->dataset), flags->data_dir, std::cout); });
}

}  // namespace backprop::cli
