// auditship-e2e: the end-to-end benchmark harness (issue #6).
//
// Generates the corpus (bench/common/audit_corpus), then for each run starts a fresh mock Kafka
// cluster as its own process, a consumer that follows the topic, and the subject:
//   - auditship: `auditship run --once` from the start of the corpus file (tail, parse, redact
//     with all default detectors, zstd, checkpoints; done = every record acknowledged);
//   - kcat (the floor): `kcat -P -z zstd -l corpus` (no parsing, no redaction);
//   - syslog-ng (a peer, when installed: Debian's syslog-ng-core and syslog-ng-mod-rdkafka):
//     file() → PCRE subst() of the seed's five patterns on the raw line → kafka-c() with zstd.
//     It follows the file forever, so it is stopped (SIGTERM) once the consumer has every record;
//   - auditship-warm (--warm): the same agent on a state_dir that already holds the detector
//     cache an earlier auditship run wrote (a restart: detectors loaded, not compiled).
// The consumer also counts delivered records that are no longer valid JSON (what a raw-line
// regex does to numbers, e.g. "created":[PHONE]) and records in which a PII value the generator
// planted in that record is still there.
// Subjects alternate run by run. Reported per subject (medians): wall time until the consumer
// has every record, records/s, MB/s, the subject's user+sys CPU per record and its peak RSS
// (from wait4), records delivered and lost; then the ratios auditship/kcat (and /syslog-ng).
//
//   build/bench/auditship-e2e --records 200000 --runs 5 --workdir /tmp/e2e [--warm]
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <unordered_map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <simdjson.h>

#include "auditship/cli/options.h"
#include "auditship/sink/topic_reader.h"
#include "common/audit_corpus.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Child {
  pid_t pid = -1;
  int out = -1;  // stdout pipe, or -1
};

Child spawn(const std::vector<std::string>& argv, const std::string& log_file, bool pipe_stdout, bool pipe_stdin) {
  int out[2] = {-1, -1}, in[2] = {-1, -1};
  if (pipe_stdout && ::pipe(out) != 0) std::perror("pipe");
  if (pipe_stdin && ::pipe(in) != 0) std::perror("pipe");
  // Closed by a successful exec: reading it to EOF tells the parent the child is the new
  // program (until then /proc shows the forked copy of this harness, corpus and all).
  int exec_done[2];
  if (::pipe2(exec_done, O_CLOEXEC) != 0) std::perror("pipe2");
  Child c;
  c.pid = ::fork();
  if (c.pid == 0) {
    ::close(exec_done[0]);
    int log = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(log, STDERR_FILENO);
    ::dup2(pipe_stdout ? out[1] : log, STDOUT_FILENO);
    if (pipe_stdin) ::dup2(in[0], STDIN_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(exec_done[1]);
  char ignored;
  while (::read(exec_done[0], &ignored, 1) > 0) {}
  ::close(exec_done[0]);
  if (pipe_stdout) {
    ::close(out[1]);
    c.out = out[0];
  }
  if (pipe_stdin) ::close(in[0]);  // the write end stays open: the cluster lives while we do
  return c;
}

std::string read_line(int fd) {
  std::string line;
  char ch;
  while (::read(fd, &ch, 1) == 1 && ch != '\n') line += ch;
  return line;
}

struct Result {
  double wall = 0, cpu = 0, rss_mb = 0;
  std::uint64_t delivered = 0;
  std::uint64_t invalid_json = 0;  // delivered records a JSON parser rejects
  std::uint64_t pii_left = 0;      // delivered records still holding a planted PII value
};

// Every PII value the generator planted, by record. A delivered message is matched to its
// record by the random tail of its generation_id (20 letters and digits, which no subject's
// redaction touches), then searched for that record's values: exact, and cheap enough to run
// in the consumer while the subject ships.
class PlantedPii {
 public:
  explicit PlantedPii(std::vector<std::vector<std::string>> by_line, const std::vector<std::string>& lines)
      : values_(std::move(by_line)) {
    for (std::size_t i = 0; i < lines.size(); ++i)
      if (auto tail = id_tail(lines[i]); !tail.empty()) line_of_.emplace(std::string(tail), i);
  }
  // Whether `message` still holds a PII value planted in its record; nullopt when the message
  // names no record this corpus has.
  std::optional<bool> leaks(std::string_view message) const {
    auto it = line_of_.find(std::string(id_tail(message)));
    if (it == line_of_.end()) return std::nullopt;
    for (const auto& v : values_[it->second])
      if (message.find(v) != std::string_view::npos) return true;
    return false;
  }

 private:
  static std::string_view id_tail(std::string_view text) {
    constexpr std::string_view kKey = "\"generation_id\":\"";
    auto at = text.find(kKey);
    if (at == std::string_view::npos) return {};
    auto end = text.find('"', at + kKey.size());
    if (end == std::string_view::npos || end - at - kKey.size() < 20) return {};
    return text.substr(end - 20, 20);
  }
  std::vector<std::vector<std::string>> values_;
  std::unordered_map<std::string, std::size_t> line_of_;
};

struct Setup {
  std::string workdir, corpus, agent, mock, kcat, syslog_ng;
  std::uint64_t records = 0, bytes = 0;
  int partitions = 16;
  std::string properties;  // extra kafka.properties for the agent, "k=v,k=v"
  const PlantedPii* pii = nullptr;
  std::string extra_yaml;  // appended to the agent's config
  std::string detector_cache;  // the last cold run's <state_dir>/detectors.hsdb, seeds warm runs
  std::string kafka_yaml;  // extra keys of the agent's kafka section, "key: value"
};

// syslog-ng as the issue measured it: each line as MESSAGE (no parsing), the seed's five
// patterns as PCRE subst() one after another on the raw line, kafka-c() with zstd.
void write_syslog_ng_config(const std::string& path, const std::string& corpus, const std::string& bootstrap) {
  std::ofstream(path) << "@version: 3.38\n"
                         "options { stats-freq(0); };\n"
                         "source s_corpus { file(\"" << corpus << "\" flags(no-parse) follow-freq(1) log-fetch-limit(1000) "
                         "log-iw-size(100000)); };\n"
                         "rewrite r_pii {\n"
                         "  subst('\\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Z|a-z]{2,}\\b', \"[EMAIL]\", value(\"MESSAGE\") type(\"pcre\") flags(\"global\"));\n"
                         "  subst('\\b\\d{3}[-.]?\\d{3}[-.]?\\d{4}\\b', \"[PHONE]\", value(\"MESSAGE\") type(\"pcre\") flags(\"global\"));\n"
                         "  subst('\\b\\d{3}-\\d{2}-\\d{4}\\b', \"[SSN]\", value(\"MESSAGE\") type(\"pcre\") flags(\"global\"));\n"
                         "  subst('\\bsk-or-v1-[a-zA-Z0-9]+\\b', \"[API_KEY]\", value(\"MESSAGE\") type(\"pcre\") flags(\"global\"));\n"
                         "  subst('\\b(?:\\d{4}[- ]?){3}\\d{4}\\b', \"[CARD]\", value(\"MESSAGE\") type(\"pcre\") flags(\"global\"));\n"
                         "};\n"
                         "destination d_kafka { kafka-c(bootstrap-servers(\"" << bootstrap << "\") topic(\"openrouter-audit\") "
                         "message(\"$MESSAGE\") config(\"compression.codec\" => \"zstd\")); };\n"
                         "log { source(s_corpus); rewrite(r_pii); destination(d_kafka); };\n";
}

// Peak RSS of a running process (VmHWM, in KiB). rusage's ru_maxrss would also count what the
// child shared with this harness between fork and exec (the corpus, the consumer's buffers).
std::uint64_t peak_rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6));
  return 0;
}

ino_t inode_of(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

Result run_once(const Setup& s, const std::string& subject, int index) {
  const std::string dir = s.workdir + "/run-" + std::to_string(index) + "-" + subject;
  fs::remove_all(dir);
  fs::create_directories(dir);
  const bool warm = subject == "auditship-warm", agent = subject == "auditship" || warm;
  const std::string cache = dir + "/state/detectors.hsdb";
  ino_t seeded = 0;
  if (warm) {
    fs::create_directories(dir + "/state");
    fs::copy_file(s.detector_cache, cache);
    fs::permissions(cache, fs::perms::owner_read | fs::perms::owner_write);
    seeded = inode_of(cache);
  }
  Child mock = spawn({s.mock, "--partitions", std::to_string(s.partitions)}, dir + "/mock.log", true, true);
  std::string line = read_line(mock.out);
  if (line.rfind("bootstrap=", 0) != 0) {
    std::fprintf(stderr, "mock cluster did not start\n");
    std::exit(1);
  }
  const std::string bootstrap = line.substr(10);

  std::atomic<std::uint64_t> seen{0}, invalid{0}, leaked{0}, unmatched{0};
  std::atomic<bool> stop{false};
  auto reader = auditship::sink::TopicReader::open(bootstrap, "openrouter-audit");
  if (!reader) {
    std::fprintf(stderr, "consumer: %s\n", reader.error().c_str());
    std::exit(1);
  }
  std::thread consumer([&] {
    simdjson::dom::parser json;
    while (!stop.load())
      (*reader)->poll(std::chrono::milliseconds(100), [&](const auto& m) {
        if (json.parse(m.value.data(), m.value.size()).error()) invalid.fetch_add(1, std::memory_order_relaxed);
        const auto leak = s.pii->leaks(m.value);
        if (!leak) unmatched.fetch_add(1, std::memory_order_relaxed);
        if (leak.value_or(false)) leaked.fetch_add(1, std::memory_order_relaxed);
        seen.fetch_add(1, std::memory_order_relaxed);
      });
  });

  std::vector<std::string> argv;
  if (agent) {
    std::ofstream(dir + "/auditship.yaml") << "sources:\n  - path: \"" << s.corpus << "\"\nstate_dir: \"" << dir
                                           << "/state\"\nkafka:\n  brokers: \"" << bootstrap << "\"\n"
                                           << (s.kafka_yaml.empty() ? "" : "  " + s.kafka_yaml + "\n") << "  properties: {";
    for (std::string list = s.properties; !list.empty();) {
      auto comma = list.find(',');
      std::string kv = list.substr(0, comma);
      list = comma == std::string::npos ? "" : list.substr(comma + 1);
      auto eq = kv.find('=');
      std::ofstream(dir + "/auditship.yaml", std::ios::app) << "\"" << kv.substr(0, eq) << "\": \"" << kv.substr(eq + 1) << "\", ";
    }
    std::ofstream(dir + "/auditship.yaml", std::ios::app) << "}\nmetrics:\n  listen: \"\"\nlog:\n  level: warn\n"
                                                           << s.extra_yaml << "\n";
    argv = {s.agent, "run", "-c", dir + "/auditship.yaml", "--once"};
  } else if (subject == "syslog-ng") {
    write_syslog_ng_config(dir + "/syslog-ng.conf", s.corpus, bootstrap);
    argv = {s.syslog_ng,  "-F",        "-f", dir + "/syslog-ng.conf", "--persist-file", dir + "/persist",
            "--pidfile", dir + "/pid", "--control", dir + "/ctl"};
  } else {
    argv = {s.kcat, "-P", "-b", bootstrap, "-t", "openrouter-audit", "-z", "zstd", "-l", s.corpus};
  }
  const bool follows_forever = subject == "syslog-ng";
  const auto start = Clock::now();
  Child subj = spawn(argv, dir + "/subject.log", false, false);
  int status = 0;
  rusage ru{};
  bool exited = false;
  auto deadline = start + std::chrono::minutes(10);
  double all_seen_at = 0;
  std::uint64_t hwm_kib = 0;
  while (Clock::now() < deadline) {
    if (!exited) hwm_kib = std::max(hwm_kib, peak_rss_kib(subj.pid));
    if (!exited && ::wait4(subj.pid, &status, WNOHANG, &ru) == subj.pid) exited = true;
    if (all_seen_at == 0 && seen.load() >= s.records) {
      all_seen_at = std::chrono::duration<double>(Clock::now() - start).count();
      if (follows_forever) ::kill(subj.pid, SIGTERM);  // done: its CPU and RSS are final
    }
    if (exited && all_seen_at > 0) break;
    if (exited && std::chrono::duration<double>(Clock::now() - start).count() > all_seen_at + 30 && all_seen_at == 0) {
      // The subject finished but the consumer is short: give it a grace period, then report the loss.
      static auto grace = Clock::now() + std::chrono::seconds(10);
      if (Clock::now() > grace) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!exited) {
    ::kill(subj.pid, SIGKILL);
    ::wait4(subj.pid, &status, 0, &ru);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // late duplicates would show
  stop = true;
  consumer.join();
  reader->reset();
  ::kill(mock.pid, SIGTERM);
  ::waitpid(mock.pid, nullptr, 0);
  ::close(mock.out);

  Result r;
  r.wall = all_seen_at > 0 ? all_seen_at : std::chrono::duration<double>(Clock::now() - start).count();
  r.cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
          static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  r.rss_mb = static_cast<double>(hwm_kib) / 1024.0;
  r.delivered = seen.load();
  r.invalid_json = invalid.load();
  r.pii_left = leaked.load();
  if (unmatched.load())
    std::fprintf(stderr, "%s run %d: %llu messages name no record of the corpus (PII not checked)\n", subject.c_str(),
                 index, static_cast<unsigned long long>(unmatched.load()));
  // A miss rewrites the file (a rename: a new inode); a warm run must have loaded it.
  if (warm && inode_of(cache) != seeded)
    std::fprintf(stderr, "warm run %d did not use the detector cache (see %s/subject.log)\n", index, dir.c_str());
  if (subject == "auditship" && fs::exists(cache))
    fs::copy_file(cache, s.detector_cache, fs::copy_options::overwrite_existing);
  // A follower ends by our SIGTERM (handled or not); the others must exit 0.
  const bool ok = follows_forever ? WIFEXITED(status) || (WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)
                                  : WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!ok)
    std::fprintf(stderr, "%s run %d exited with status %d (see %s/subject.log)\n", subject.c_str(), index, status,
                 dir.c_str());
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string sibling(const std::string& rel) {
  return (fs::canonical("/proc/self/exe").parent_path() / rel).lexically_normal().string();
}

}  // namespace

int main(int argc, char** argv) {
  using auditship::cli::Options;
  Options opts(std::vector<std::string>(argv + 1, argv + argc), "auditship-e2e [--records N] [--runs N] [--workdir DIR]",
               {{"records", 0, true, "records in the corpus (default 200000)"},
                {"runs", 0, true, "runs per subject, alternating (default 5)"},
                {"workdir", 0, true, "where the corpus and runs go (default /tmp/auditship-e2e)"},
                {"partitions", 0, true, "partitions of the topic (default 16)"},
                {"subjects", 0, true, "comma-separated: auditship,kcat,syslog-ng (default: those installed)"},
                {"agent", 0, true, "auditship binary (default ../auditship next to this tool)"},
                {"kcat", 0, true, "kcat binary (default /usr/bin/kcat)"},
                {"syslog-ng", 0, true, "syslog-ng binary (default /usr/sbin/syslog-ng)"},
                {"properties", 0, true, "extra librdkafka properties for the agent: k=v,k=v"},
                {"kafka", 0, true, "an extra key of the agent's kafka section, e.g. 'headers: false'"},
                {"yaml", 0, true, "extra top-level YAML for the agent's config (e.g. 'pipeline: {max_in_flight_bytes: 8MiB}')"},
                {"warm", 0, false, "also run auditship-warm: the agent restarting on the detector cache a cold run wrote"}});
  if (opts.exit_code()) return *opts.exit_code();
  Setup s;
  s.workdir = opts.get("workdir", "/tmp/auditship-e2e");
  s.records = std::stoull(opts.get("records", "200000"));
  s.partitions = std::stoi(opts.get("partitions", "16"));
  s.agent = opts.get("agent", sibling("../auditship"));
  s.mock = sibling("../tests/auditship-mock-cluster");
  s.kcat = opts.get("kcat", "/usr/bin/kcat");
  s.syslog_ng = opts.get("syslog-ng", "/usr/sbin/syslog-ng");
  s.properties = opts.get("properties");
  s.extra_yaml = opts.get("yaml");
  s.kafka_yaml = opts.get("kafka");
  const int runs = std::stoi(opts.get("runs", "5"));
  std::vector<std::string> subjects;
  const bool have_syslog_ng = fs::exists(s.syslog_ng) && fs::exists("/usr/lib/syslog-ng/3.38/libkafka.so");
  for (std::string list = opts.get("subjects", have_syslog_ng ? "auditship,kcat,syslog-ng" : "auditship,kcat"), item;
       !list.empty();) {
    auto comma = list.find(',');
    item = list.substr(0, comma);
    list = comma == std::string::npos ? "" : list.substr(comma + 1);
    if (item == "kcat" && !fs::exists(s.kcat)) {
      std::fprintf(stderr, "kcat not found at %s: skipping the floor\n", s.kcat.c_str());
      continue;
    }
    if (item == "syslog-ng" && !have_syslog_ng) {
      std::fprintf(stderr, "syslog-ng with its kafka module not installed: skipping that peer\n");
      continue;
    }
    subjects.push_back(item);
    if (item == "auditship" && opts.has("warm")) subjects.push_back("auditship-warm");
  }
  if (opts.has("warm") && std::find(subjects.begin(), subjects.end(), "auditship-warm") == subjects.end())
    subjects.push_back("auditship-warm");
  fs::create_directories(s.workdir);
  s.corpus = s.workdir + "/corpus.jsonl";
  std::unique_ptr<PlantedPii> planted;
  std::uint64_t pii_records = 0;
  s.detector_cache = s.workdir + "/detectors.hsdb";
  fs::remove(s.detector_cache);  // written by this binary's agent in this run, never an old one
  {
    auto corpus = auditship::bench::make_corpus(s.records);
    std::ofstream out(s.corpus, std::ios::binary | std::ios::trunc);
    for (const auto& l : corpus.lines) {
      out << l << '\n';
      s.bytes += l.size() + 1;
    }
    out.close();
    // Written back before the first run: otherwise the kernel flushes these ~150 MB of dirty
    // pages while the first subjects run, and whichever runs first pays for it.
    if (int fd = ::open(s.corpus.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
      ::fdatasync(fd);
      ::close(fd);
    }
    for (const auto& values : corpus.pii) pii_records += values.empty() ? 0 : 1;  // before the move below
    planted = std::make_unique<PlantedPii>(std::move(corpus.pii), corpus.lines);
    s.pii = planted.get();
  }
  std::printf("corpus: %llu records (%llu with PII), %.1f MB (%s); %d runs per subject, alternating\n",
              static_cast<unsigned long long>(s.records), static_cast<unsigned long long>(pii_records), s.bytes / 1e6,
              s.corpus.c_str(), runs);
  std::map<std::string, std::vector<Result>> results;
  if (std::find(subjects.begin(), subjects.end(), "auditship-warm") < std::find(subjects.begin(), subjects.end(), "auditship"))
    run_once(s, "auditship", -1);  // warm runs need a cache written by a cold one first (not reported)
  for (int i = 0; i < runs; ++i) {
    for (const auto& subject : subjects) {
      Result r = run_once(s, subject, i);
      results[subject].push_back(r);
      std::printf("  run %d %-9s wall %6.2fs  cpu %6.2fs  rss %6.1f MB  delivered %llu\n", i, subject.c_str(), r.wall,
                  r.cpu, r.rss_mb, static_cast<unsigned long long>(r.delivered));
      std::fflush(stdout);
    }
  }
  std::printf("\n| subject | records/s | MB/s | CPU µs/record | peak RSS MB | delivered | lost | invalid JSON | PII left |\n"
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  std::map<std::string, std::map<std::string, double>> med;
  for (const auto& [subject, rs] : results) {
    std::vector<double> rps, mbps, cpu, rss, lost;
    for (const auto& r : rs) {
      rps.push_back(s.records / r.wall);
      mbps.push_back(s.bytes / 1e6 / r.wall);
      cpu.push_back(r.cpu / s.records * 1e6);
      rss.push_back(r.rss_mb);
      lost.push_back(r.delivered >= s.records ? 0.0 : static_cast<double>(s.records - r.delivered));
    }
    med[subject] = {{"rps", median(rps)}, {"cpu", median(cpu)}, {"rss", median(rss)}};
    std::printf("| %s | %.0f | %.1f | %.2f | %.1f | %llu | %.0f (max %.0f) | %llu | %llu |\n", subject.c_str(),
                median(rps), median(mbps), median(cpu), median(rss), static_cast<unsigned long long>(rs.back().delivered),
                median(lost), *std::max_element(lost.begin(), lost.end()),
                static_cast<unsigned long long>(rs.back().invalid_json), static_cast<unsigned long long>(rs.back().pii_left));
  }
  std::printf("\n");
  for (const char* ours : {"auditship", "auditship-warm"})
    for (const char* other : {"kcat", "syslog-ng"}) {
      if (!med.count(ours) || !med.count(other)) continue;
      auto& a = med[ours];
      auto& k = med[other];
      std::printf("ratios %s/%s: records/s %.2f×, CPU per record %.2f×, peak RSS %.2f×\n", ours, other,
                  a["rps"] / k["rps"], a["cpu"] / k["cpu"], a["rss"] / k["rss"]);
    }
  if (med.count("auditship") && med.count("auditship-warm")) {
    auto& c = med["auditship"];
    auto& w = med["auditship-warm"];
    std::printf("warm - cold: CPU per record %+.2f µs, peak RSS %+.1f MB\n", w["cpu"] - c["cpu"], w["rss"] - c["rss"]);
  }
  return 0;
}
