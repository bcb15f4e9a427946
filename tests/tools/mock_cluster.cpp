// auditship-mock-cluster: librdkafka's mock Kafka cluster as its own process, so tests and
// the benchmark harness talk to it over real TCP exactly as to a real cluster.
//
// Prints "bootstrap=HOST:PORT[,...]" on the first stdout line, then reads commands on stdin,
// answering "ok" or "error: ..." per line:
//   down | up              take every broker down / bring them back
//   rtt MS                 add MS milliseconds of round-trip delay on every broker
//   errors API COUNT ERR   fail the next COUNT requests of Kafka API key API (0 = Produce)
//                          with error code ERR (e.g. 7 = REQUEST_TIMED_OUT, 6 = NOT_LEADER)
//   quit                   exit (so does end of input, SIGTERM and SIGINT)
#include <csignal>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>

#include "auditship/cli/options.h"
#include "auditship/sink/embedded_broker.h"

int main(int argc, char** argv) {
  using namespace auditship;
  cli::Options opts(std::vector<std::string>(argv + 1, argv + argc),
                    "auditship-mock-cluster [--brokers N] [--partitions N] [--topics a,b]",
                    {{"brokers", 0, true, "number of brokers (default 1)"},
                     {"partitions", 0, true, "partitions per topic (default 8)"},
                     {"topics", 0, true, "comma-separated topics to create (default openrouter-audit,openrouter-audit-dlq)"}});
  if (opts.exit_code()) return *opts.exit_code();
  std::vector<std::string> topics;
  std::stringstream list(opts.get("topics", "openrouter-audit,openrouter-audit-dlq"));
  for (std::string t; std::getline(list, t, ',');)
    if (!t.empty()) topics.push_back(t);
  auto broker = sink::EmbeddedBroker::start(std::stoi(opts.get("brokers", "1")), std::stoi(opts.get("partitions", "8")),
                                            topics);
  if (!broker) {
    std::fprintf(stderr, "error: %s\n", broker.error().c_str());
    return 1;
  }
  std::signal(SIGPIPE, SIG_IGN);
  std::printf("bootstrap=%s\n", (*broker)->bootstrap().c_str());
  std::fflush(stdout);
  for (std::string line; std::getline(std::cin, line);) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    if (cmd == "quit") break;
    if (cmd == "down" || cmd == "up") {
      (*broker)->set_all_down(cmd == "down");
    } else if (cmd == "rtt") {
      int ms = 0;
      in >> ms;
      (*broker)->set_rtt_ms(ms);
    } else if (cmd == "errors") {
      int api = 0, count = 0, err = 0;
      in >> api >> count >> err;
      (*broker)->push_request_errors(api, count, static_cast<rd_kafka_resp_err_t>(err));
    } else if (!cmd.empty()) {
      std::printf("error: unknown command '%s'\n", cmd.c_str());
      std::fflush(stdout);
      continue;
    }
    std::printf("ok\n");
    std::fflush(stdout);
  }
  return 0;
}
