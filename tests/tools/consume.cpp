// auditship-consume: reads a topic from the beginning of every partition and prints each
// message as one JSON line {"partition","offset","key","headers","value"} (value verbatim when
// it is JSON), or only the count with --count. Stops after --idle of silence.
#include <cstdio>
#include <string>

#include "auditship/cli/options.h"
#include "auditship/common/json_writer.h"
#include "auditship/common/units.h"
#include "auditship/sink/topic_reader.h"

int main(int argc, char** argv) {
  using namespace auditship;
  cli::Options opts(std::vector<std::string>(argv + 1, argv + argc),
                    "auditship-consume --brokers HOST:PORT --topic NAME [--count] [--idle 2s]",
                    {{"brokers", 'b', true, "bootstrap servers"},
                     {"topic", 't', true, "topic to read"},
                     {"count", 0, false, "print only the number of messages"},
                     {"idle", 0, true, "stop after this long without a message (default 2s)"}});
  if (opts.exit_code()) return *opts.exit_code();
  if (!opts.has("brokers") || !opts.has("topic")) {
    std::fprintf(stderr, "error: --brokers and --topic are required\n");
    return 2;
  }
  auto idle = parse_duration(opts.get("idle", "2s"));
  if (!idle) {
    std::fprintf(stderr, "error: --idle needs a duration such as 2s\n");
    return 2;
  }
  auto reader = sink::TopicReader::open(opts.get("brokers"), opts.get("topic"));
  if (!reader) {
    std::fprintf(stderr, "error: %s\n", reader.error().c_str());
    return 1;
  }
  const bool count_only = opts.has("count");
  std::size_t count = 0;
  std::string line;
  while ((*reader)->poll(*idle, [&](const sink::ConsumedMessage& m) {
    ++count;
    if (count_only) return;
    line = "{\"partition\":" + std::to_string(m.partition) + ",\"offset\":" + std::to_string(m.offset) + ",\"key\":";
    json::append_string(line, m.key);
    line += ",\"headers\":{";
    bool first = true;
    for (const auto& [k, v] : m.headers) {
      line += first ? "" : ",";
      first = false;
      json::append_string(line, k);
      line += ':';
      json::append_string(line, v);
    }
    line += "},\"value\":";
    json::append_string(line, m.value);
    line += "}\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
  }) > 0) {}
  if (count_only) std::printf("%zu\n", count);
  return 0;
}
