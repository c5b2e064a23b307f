// The `backprop` command: train, check and run feedforward networks.
//
// Exit codes: 0 success, 1 a failure while working, 2 bad input or usage.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <string>

#include "backprop/error.hpp"
#include "backprop/version.hpp"
#include "commands.hpp"

namespace {

int run(int argc, char** argv) {
  CLI::App app{
      "backprop: feedforward neural networks trained by backpropagation and stochastic gradient "
      "descent, after Nielsen's \"Neural Networks and Deep Learning\"",
      "backprop"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "backprop " BACKPROP_VERSION);
  backprop::cli::add_train_command(app);
  backprop::cli::add_gradcheck_command(app);
  backprop::cli::add_eval_command(app);
  backprop::cli::add_predict_command(app);
  backprop::cli::add_inspect_command(app);
  backprop::cli::add_report_command(app);
  backprop::cli::add_fetch_command(app);
  backprop::cli::add_completion_command(app);

  if (argc > 1 && argv[1][0] != '-') {
    std::string known;
    bool found = false;
    for (const CLI::App* command : app.get_subcommands({})) {
      found = found || command->get_name() == argv[1];
      known += (known.empty() ? "" : ", ") + command->get_name();
    }
    if (!found) {
      std::cerr << "backprop: unknown command '" << argv[1] << "': use one of " << known
                << " (see backprop --help)\n";
      return 2;
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "backprop: " << e.what() << " (see backprop --help)\n";
    return 2;
  } catch (const backprop::InputError& e) {
    std::cerr << "backprop: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "backprop: " << e.what() << '\n';
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (...) {
    // Setting up the commands failed (out of memory): say so rather than abort.
    std::cerr << "backprop: internal error while starting\n";
    return 1;
  }
}
