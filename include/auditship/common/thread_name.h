#pragma once
// Names the calling thread, so `top -H`, `ps -L`, `perf --sort comm` and /proc/PID/task/*/comm
// show which stage a thread runs ("as-tail", "as-work-0", "as-kafka-dr", ...) beside
// librdkafka's own "rdk:broker1". Linux keeps 15 bytes; a longer name is cut there.
#include <string>

namespace auditship {

void name_this_thread(const std::string& name);

}  // namespace auditship
