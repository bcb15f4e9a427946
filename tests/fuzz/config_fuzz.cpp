// libFuzzer target for the config loader (config::load_string: yaml-cpp, the visit() tables,
// validate()).
//
// Properties checked on every input:
//  - arbitrary bytes never crash or throw: every problem is an error message;
//  - an accepted config round-trips: its effective YAML (what `auditship check` prints) loads
//    again and prints the same.
// Build/run: see redact_fuzz.cpp; ctest runs it AUDITSHIP_FUZZ_SECONDS (10 s). Longer:
//   build-asan/tests/fuzz/config_fuzz -max_total_time=3600 -jobs=2 -dict=tests/fuzz/config.dict /tmp/ccorpus tests/fuzz/corpus/config
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "auditship/common/log.h"
#include "auditship/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace auditship;
  static bool quiet = [] {
    log::set_level(log::Level::kError);
    return true;
  }();
  (void)quiet;
  const config::LoadOptions options{.check_state_dir = false};  // no file-system side effects
  auto loaded = config::load_string(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml", options);
  if (!loaded) {
    if (loaded.error().empty()) std::abort();
    return 0;
  }
  const std::string printed = config::to_yaml(*loaded);
  auto again = config::load_string(printed, "printed.yaml", options);
  if (!again) {
    std::fprintf(stderr, "PROPERTY VIOLATED: the effective config does not load again:\n%s\n---\n%s\n",
                 again.error().c_str(), printed.c_str());
    std::abort();
  }
  if (config::to_yaml(*again) != printed) {
    std::fprintf(stderr, "PROPERTY VIOLATED: printing is not stable:\n%s\n---\n%s\n", printed.c_str(),
                 config::to_yaml(*again).c_str());
    std::abort();
  }
  return 0;
}
