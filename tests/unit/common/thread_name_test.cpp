#include "auditship/common/thread_name.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

namespace auditship {
namespace {

std::string comm_of_this_thread() {
  std::ifstream in("/proc/self/task/" + std::to_string(::syscall(SYS_gettid)) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

TEST(ThreadName, NamesTheCallingThreadOnly) {
  const std::string before = comm_of_this_thread();
  std::string named;
  std::thread([&] {
    name_this_thread("as-work-3");
    named = comm_of_this_thread();
  }).join();
  EXPECT_EQ(named, "as-work-3");
  EXPECT_EQ(comm_of_this_thread(), before);
}

TEST(ThreadName, CutsALongNameToWhatLinuxKeeps) {
  std::string named;
  std::thread([&] {
    name_this_thread("as-enrich-fetch-and-more");
    named = comm_of_this_thread();
  }).join();
  EXPECT_EQ(named, "as-enrich-fetch");  // 15 bytes
}

}  // namespace
}  // namespace auditship
