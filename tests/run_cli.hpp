// Runs the `backprop` command as a child process, without a shell: its
// arguments, working folder, exit code, output, and the most memory it held.
#pragma once

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

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
  long max_rss_kib = 0;  // peak resident memory
};

inline std::string read_file_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
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
  result.out = read_file_text(out);
  result.err = read_file_text(err);
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
