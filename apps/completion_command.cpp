// `backprop completion bash`: a bash completion script for the command,
// generated from its own CLI11 definition so that it lists exactly the
// subcommands and flags there are.
//
//   source <(backprop completion bash)       # this shell
//   backprop completion bash > ~/.local/share/bash-completion/completions/backprop
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "commands.hpp"

namespace backprop::cli {
namespace {

// The allowed values of an option checked by CLI::IsMember, which CLI11
// shows in its type name as "TEXT:{a,b,c}"; empty for other options.
std::string choices(const CLI::Option& option) {
  const std::string type = option.get_type_name();
  const auto open = type.find(":{");
  const auto close = type.find('}', open);
  if (open == std::string::npos || close == std::string::npos) return "";
  std::string list = type.substr(open + 2, close - open - 2);
  for (char& c : list) c = c == ',' ? ' ' : c;
  return list;
}

std::string bash_script(const CLI::App& app) {
  std::ostringstream subcommands;
  std::ostringstream cases;
  for (const CLI::App* command : app.get_subcommands({})) {
    const std::string& name = command->get_name();
    subcommands << ' ' << name;
    std::string flags;
    std::string valued;
    std::ostringstream values;
    for (const CLI::Option* option : command->get_options()) {
      for (const std::string& long_name : option->get_lnames()) {
        flags += " --" + long_name;
        if (option->get_items_expected_max() > 0) valued += " --" + long_name;
        const std::string allowed = choices(*option);
        if (!allowed.empty())
          values << "        --" << long_name << ") words=\"" << allowed << "\" ;;\n";
      }
    }
    cases << "    " << name << ")\n"
          << "      flags=\"" << flags.substr(flags.empty() ? 0 : 1) << "\"\n"
          << "      valued=\"" << valued.substr(valued.empty() ? 0 : 1) << "\"\n";
    if (!values.str().empty()) {
      cases << "      case \"$prev\" in\n" << values.str() << "      esac\n";
    }
    cases << "      ;;\n";
  }

  std::ostringstream script;
  script << "# bash completion for backprop, written by `backprop completion bash`.\n"
            "_backprop() {\n"
            "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
            "  local command='' flags='' valued='' words='' i\n"
            "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
            "    if [[ ${COMP_WORDS[i]} != -* ]]; then command=${COMP_WORDS[i]}; break; fi\n"
            "  done\n"
            "  if [[ -z $command ]]; then\n"
            "    COMPREPLY=($(compgen -W '"
         << subcommands.str().substr(1)
         << " --help --version' -- \"$cur\"))\n"
            "    return\n"
            "  fi\n"
            "  case $command in\n"
         << cases.str()
         << "  esac\n"
            "  if [[ -n $words ]]; then\n"
            "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
            "  elif [[ $cur != -* && \" $valued \" == *\" $prev \"* ]]; then\n"
            "    COMPREPLY=($(compgen -f -- \"$cur\"))  # a file, or a value to type\n"
            "  elif [[ $cur == -* ]]; then\n"
            "    COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n"
            "  else\n"
            "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
            "  fi\n"
            "}\n"
            "complete -o filenames -F _backprop backprop\n";
  return script.str();
}

}  // namespace

void add_completion_command(CLI::App& app) {
  auto shell = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand(
      "completion", "Print a shell completion script: source <(backprop completion bash)");
  command->add_option("shell", *shell, "The shell (bash)")
      ->required()
      ->check(CLI::IsMember({"bash"}));
  command->callback([shell, &app] { std::cout << bash_script(app); });
}

}  // namespace backprop::cli
