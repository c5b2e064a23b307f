// Running the `backprop` command from a test: its exit code, stdout and
// stderr, through the shell (run_shell, run_cli with one argument string) or
// as a child process without a shell (run_cli with an argument list, which
// also records the most memory the command held).
#pragma once

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace backprop::test {

struct CliResult {
  int exit_code = -1;  // -1 if it did not exit (a signal)
  int signal = 0;
  std::string out;
  std::string err;
  long max_rss_kib = 0;  // peak resident memory (run_cli with an argument list only)
};

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs a shell command line with stdin from /dev/null; stdout and stderr
// pass through files in `scratch`.
inline CliResult run_shell(const std::string& line, const std::filesystem::path& scratch) {
  const std::filesystem::path out = scratch / "stdout.txt";
  const std::filesystem::path err = scratch / "stderr.txt";
  const std::string command =
      "{ " + line + "; } >" + out.string() + " 2>" + err.string() + " </dev/null";
  const int status = std::system(command.c_str());
  CliResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_text(out);
  result.err = read_text(err);
  return result;
}

// Runs `backprop <arguments>` through the shell (see run_shell).
inline CliResult run_cli(const std::string& arguments, const std::filesystem::path& scratch) {
  return run_shell(std::string(BACKPROP_CLI) + " " + arguments, scratch);
}

// Starts `program args...` in `folder` with stdout and stderr going to
// files there; returns its process id.
inline pid_t start_cli(const std::string& program, const std::vector<std::string>& args,
                       const std::filesystem::path& folder, const std::filesystem::path& out,
                       const std::filesystem::path& err) {
  std::vector<char*> argv;
  std::string name = program;
  argv.push_back(name.data());
  std::vector<std::string> copies = args;
  for (std::string& arg : copies) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // The child: only async-signal-safe calls until exec.
    const int in_fd = open("/dev/null", O_RDONLY);
    const int out_fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err_fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in_fd < 0 || out_fd < 0 || err_fd < 0 || chdir(folder.c_str()) != 0) _exit(126);
    dup2(in_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

inline CliResult wait_cli(pid_t pid, const std::filesystem::path& out,
                          const std::filesystem::path& err) {
  CliResult result;
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) throw std::runtime_error("wait4 failed");
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  result.max_rss_kib = usage.ru_maxrss;
  result.out = read_text(out);
  result.err = read_text(err);
  return result;
}

// Runs the command to the end. Its output files are written beside `folder`
// (not in it), so that they are not taken for files the command made.
inline CliResult run_cli(const std::string& program, const std::vector<std::string>& args,
                         const std::filesystem::path& folder) {
  const std::filesystem::path out = folder.string() + ".stdout";
  const std::filesystem::path err = folder.string() + ".stderr";
  return wait_cli(start_cli(program, args, folder, out, err), out, err);
}

}  // namespace backprop::test
