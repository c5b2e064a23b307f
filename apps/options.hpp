// Flags shared by the subcommands that build a network (train, gradcheck).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "backprop/network.hpp"

namespace backprop::cli {

struct ArchitectureFlags {
  std::vector<int> layers{784, 30, 10};
  std::vector<std::string> activations{"sigmoid"};
  std::string cost = "quadratic";

  // The network these flags describe; throws InputError for bad values.
  NetworkSpec spec() const;
};

void add_architecture_flags(CLI::App& command, ArchitectureFlags& flags);

}  // namespace backprop::cli
