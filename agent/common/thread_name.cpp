#include "auditship/common/thread_name.h"

#include <pthread.h>

namespace auditship {

void name_this_thread(const std::string& name) {
  constexpr std::size_t kMax = 15;  // TASK_COMM_LEN - 1
  // Best effort: a name is for people reading process listings, never worth failing over.
  (void)pthread_setname_np(pthread_self(), name.substr(0, kMax).c_str());
}

}  // namespace auditship
