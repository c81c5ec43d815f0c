// runtime_test_helper MODE [ARGS...]: the replica the runtime tests launch.
//
//   exit N                   exit with status N
//   sleep SECONDS            sleep, then exit 0
//   ignore-term SECONDS      ignore SIGTERM, print "ready", sleep
//   print-env VAR            print "VAR=<value>" or "VAR unset"
//   print-env-all            print every environment entry, one per line
//   print-args ARGS...       print each argument as "[arg]"
//   print-cwd                print the working directory
//   write-both TEXT          "out:TEXT" to stdout, "err:TEXT" to stderr
//   kill-self SIGNUM         send itself SIGNUM
//   spawn-grandchild SECONDS fork a child (same group) that ignores SIGTERM and sleeps; print
//                            "grandchild <pid>"; sleep
//   orphan-grandchild SECS   like spawn-grandchild but exit 0 at once
//   wait-file PATH           exit 0 once PATH exists (checks every 10 ms)
//   mark PATH SECONDS        append "started\n" to PATH, print "marked", sleep SECONDS

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

extern char** environ;

namespace {

void SleepSeconds(const char* seconds) { std::this_thread::sleep_for(std::chrono::seconds(std::atoi(seconds))); }

pid_t SpawnGrandchild(const char* seconds) {
  std::fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    signal(SIGTERM, SIG_IGN);
    SleepSeconds(seconds);
    _exit(0);
  }
  std::printf("grandchild %d\n", static_cast<int>(pid));
  std::fflush(stdout);
  return pid;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 64;
  std::string mode = argv[1];
  const char* arg = argc > 2 ? argv[2] : "0";
  if (mode == "exit") return std::atoi(arg);
  if (mode == "sleep") {
    SleepSeconds(arg);
    return 0;
  }
  if (mode == "ignore-term") {
    signal(SIGTERM, SIG_IGN);
    std::printf("ready\n");
    std::fflush(stdout);
    SleepSeconds(arg);
    return 0;
  }
  if (mode == "print-env") {
    const char* value = getenv(arg);
    if (value != nullptr) {
      std::printf("%s=%s\n", arg, value);
    } else {
      std::printf("%s unset\n", arg);
    }
    return 0;
  }
  if (mode == "print-env-all") {
    for (char** entry = environ; *entry != nullptr; ++entry) std::printf("%s\n", *entry);
    return 0;
  }
  if (mode == "print-args") {
    for (int i = 2; i < argc; ++i) std::printf("[%s]\n", argv[i]);
    return 0;
  }
  if (mode == "print-cwd") {
    char buffer[4096];
    if (getcwd(buffer, sizeof(buffer)) == nullptr) return 1;
    std::printf("%s\n", buffer);
    return 0;
  }
  if (mode == "write-both") {
    std::printf("out:%s\n", arg);
    std::fflush(stdout);
    std::fprintf(stderr, "err:%s\n", arg);
    return 0;
  }
  if (mode == "kill-self") {
    kill(getpid(), std::atoi(arg));
    return 99;  // not reached for a deadly signal
  }
  if (mode == "spawn-grandchild") {
    SpawnGrandchild(arg);
    SleepSeconds(arg);
    return 0;
  }
  if (mode == "orphan-grandchild") {
    SpawnGrandchild(arg);
    return 0;
  }
  if (mode == "wait-file") {
    while (access(arg, F_OK) != 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return 0;
  }
  if (mode == "mark") {  // counts starts: each start appends one line
    FILE* marks = std::fopen(arg, "a");
    if (marks == nullptr) return 1;
    std::fputs("started\n", marks);
    std::fclose(marks);
    std::printf("marked\n");
    std::fflush(stdout);
    SleepSeconds(argc > 3 ? argv[3] : "0");
    return 0;
  }
  if (mode == "interleave") {  // N lines on each stream, alternating, 20 ms apart
    for (int i = 0; i < std::atoi(arg); ++i) {
      std::printf("out %d\n", i);
      std::fflush(stdout);
      std::fprintf(stderr, "err %d\n", i);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return 0;
  }
  if (mode == "partial") {  // a line's start, then (once FILE exists) its end
    std::printf("50%%");
    std::fflush(stdout);
    while (access(arg, F_OK) != 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::printf(" 100%%\n");
    return 0;
  }
  if (mode == "long-line") {  // one line of N 'x's
    std::string line(static_cast<size_t>(std::atol(arg)), 'x');
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stdout);
    return 0;
  }
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 64;
}
