// The subcommands of the `backprop` program, one file each.
//
// Each add_*_command registers its subcommand, flags and callback on the
// app. Callbacks report problems by throwing backprop::InputError (exit 2)
// or backprop::Error (exit 1); main() turns them into one line on stderr.
#pragma once

#include <CLI/CLI.hpp>

namespace backprop::cli {

void add_train_command(CLI::App& app);
void add_gradcheck_command(CLI::App& app);
void add_fetch_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_predict_command(CLI::App& app);
void add_inspect_command(CLI::App& app);
void add_report_command(CLI::App& app);
// Needs every other command added first: it describes them.
void add_completion_command(CLI::App& app);

}  // namespace backprop::cli
