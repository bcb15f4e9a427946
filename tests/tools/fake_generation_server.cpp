// auditship-fake-generation-server: the test double of OpenRouter's generation endpoint as a
// process, for integration tests and benchmarks. Prints `url=...` and `ca_file=...` on stdout,
// then serves until stdin closes or SIGTERM.
//
//   auditship-fake-generation-server [--latency-ms N] [--not-found-first K] [--plain]
//                                    [--accept-key KEY]... [--threads N]
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "support/fake_generation_server.h"

int main(int argc, char** argv) {
  auditship::testing::FakeServerOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << arg << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--latency-ms") options.latency = std::chrono::milliseconds(std::stol(value()));
    else if (arg == "--not-found-first") options.not_found_first = std::stoi(value());
    else if (arg == "--accept-key") options.accepted_keys.push_back(value());
    else if (arg == "--threads") options.threads = std::stoi(value());
    else if (arg == "--plain") options.tls = false;
    else {
      std::cerr << "unknown option " << arg << "\n";
      return 2;
    }
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before the server's threads start
  auditship::testing::FakeGenerationServer server(options);
  std::cout << "url=" << server.url() << "\nca_file=" << server.ca_file() << "\n" << std::flush;
  int sig = 0;
  sigwait(&set, &sig);
  std::cerr << "served " << server.request_count() << " requests\n";
  return 0;
}
