// auditship redact [-c FILE]: JSON lines on stdin -> redacted JSON lines on stdout.
//
// Same engine and `redact:` section as `run`. One output line per valid input line, in
// order; an invalid line is reported on stderr with its 1-based number and is not echoed
// (it may hold the very PII the user is testing for). A trailing '\r' is stripped (CRLF files).
// Exit status: 0 all lines valid; 1 some lines were invalid (all valid ones were written);
// 2 could not start (usage, config, HMAC key) or an I/O error.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "auditship/cli/commands.h"
#include "auditship/common/file_io.h"
#include "auditship/cli/options.h"
#include "auditship/config/config.h"
#include "auditship/redact/hash_key.h"
#include "auditship/redact/redactor.h"

namespace auditship::cli {
namespace {

constexpr std::size_t kChunk = 1 << 20;

}  // namespace

int redact_command(const Args& args) {
  Options opts(args,
               "auditship redact [-c FILE] < in.jsonl > out.jsonl\n"
               "exit status: 0 all lines valid, 1 some lines invalid (reported on stderr, not echoed), 2 error",
               {{"config", 'c', true, "config file whose `redact:` section to use (default: built-in detectors)"}});
  if (opts.exit_code()) return *opts.exit_code();
  redact::RedactConfig rc;
  if (opts.has("config")) {
    auto loaded = config::load(opts.get("config"), {.check_state_dir = false});
    if (!loaded) {
      std::fprintf(stderr, "%s\n", loaded.error().c_str());
      return 2;
    }
    rc = loaded->redact;
    // The agent's own key when the config names none, so this shows what `run` ships.
    if (Status s = redact::use_host_hash_key(rc, loaded->state_dir, false); !s) {
      std::fprintf(stderr, "error: %s\n", s.error().c_str());
      return 2;
    }
  }
  auto made = redact::Redactor::make(rc);
  if (!made) {
    std::fprintf(stderr, "error: %s\n", made.error().c_str());
    return 2;
  }
  redact::Redactor& redactor = **made;

  // Read in 1 MiB chunks and write in ~1 MiB chunks: per-line stdio calls would dominate.
  std::string in, out;
  in.reserve(2 * kChunk);
  out.reserve(2 * kChunk);
  std::size_t number = 0, invalid = 0;
  auto handle_line = [&](std::string_view line) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!redactor.redact_json(line, out)) {
      ++invalid;
      std::fprintf(stderr, "line %zu: not valid JSON, skipped\n", number);
      return;
    }
    out += '\n';
  };
  bool eof = false;
  while (!eof) {
    std::size_t old = in.size();
    in.resize(old + kChunk);
    ssize_t n = ::read(STDIN_FILENO, in.data() + old, kChunk);
    if (n < 0 && errno == EINTR) {
      in.resize(old);
      continue;
    }
    if (n < 0) {
      std::fprintf(stderr, "error: reading stdin: %s\n", std::strerror(errno));
      return 2;
    }
    in.resize(old + static_cast<std::size_t>(n));
    eof = n == 0;
    std::size_t pos = 0;
    for (;;) {
      const void* nl = std::memchr(in.data() + pos, '\n', in.size() - pos);
      if (!nl) break;
      std::size_t end = static_cast<const char*>(nl) - in.data();
      handle_line(std::string_view(in.data() + pos, end - pos));
      pos = end + 1;
    }
    if (eof && pos < in.size()) {  // last line without a newline
      handle_line(std::string_view(in.data() + pos, in.size() - pos));
      pos = in.size();
    }
    in.erase(0, pos);
    if (out.size() >= kChunk || eof) {
      if (!write_all(STDOUT_FILENO, out)) {
        std::fprintf(stderr, "error: writing stdout: %s\n", std::strerror(errno));
        return 2;
      }
      out.clear();
    }
  }
  redactor.flush_counters();
  return invalid ? 1 : 0;
}

}  // namespace auditship::cli
