// Shared by the CLI end-to-end tests: a fixture with a fresh temporary folder,
// and Run() to start a binary as a child process (posix_spawn) with stdout and
// stderr captured through files in that folder. Header-only.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

extern char** environ;

namespace tessera::e2e {

// What a child process left: its exit status (-1 when it did not exit
// normally or could not be started) and everything it wrote.
struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
  nlohmann::json json() const { return nlohmann::json::parse(out); }
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `binary ARGS...` and waits for it; stdout and stderr go to .stdout and
// .stderr in `scratch_dir`, removed once read. The child gets this process's
// environment with each "NAME=value" of `env_overrides` in place of NAME.
inline Result RunBinary(const std::string& binary,
                        const std::vector<std::string>& args,
                        const std::string& scratch_dir,
                        const std::vector<std::string>& env_overrides = {}) {
  const std::string out_path = scratch_dir + "/.stdout",
                    err_path = scratch_dir + "/.stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> env_strings = env_overrides;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string var(*e);
    bool overridden = false;
    for (const std::string& o : env_overrides) {
      const std::string name = o.substr(0, o.find('=') + 1);
      if (var.rfind(name, 0) == 0) overridden = true;
    }
    if (!overridden) env_strings.push_back(var);
  }
  std::vector<char*> env;
  for (std::string& e : env_strings) env.push_back(e.data());
  env.push_back(nullptr);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const std::string& a : args) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  pid_t pid = 0;
  Result r;
  const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr,
                             argv.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "cannot start " << binary;
    return r;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      ADD_FAILURE() << "waitpid failed";
      return r;
    }
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadFile(out_path);
  r.err = ReadFile(err_path);
  ::unlink(out_path.c_str());
  ::unlink(err_path.c_str());
  return r;
}

// A test with its own temporary folder dir_ (made from `dir_template`, a
// mkdtemp template, and removed with everything in it after the test).
class TempDirTest : public ::testing::Test {
 protected:
  explicit TempDirTest(std::string dir_template)
      : dir_template_(std::move(dir_template)) {}

  void SetUp() override {
    std::vector<char> t(dir_template_.begin(), dir_template_.end());
    t.push_back('\0');
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t.data();
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }

  // Writes `content` to dir_/NAME; the path.
  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  std::string dir_;

 private:
  std::string dir_template_;
};

}  // namespace tessera::e2e
