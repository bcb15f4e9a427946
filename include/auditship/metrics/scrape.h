#pragma once
// The client side of /metrics: a plain HTTP GET and a Prometheus text parser, for
// `auditship status` and the integration tests.
#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "auditship/common/result.h"

namespace auditship::metrics {

struct HttpResponse {
  int status = 0;
  std::string body;
};

// GET `url` ("http://host:port/path"; plain HTTP only). Errors: bad URL, connect/read failures,
// the deadline passing.
[[nodiscard]] Result<HttpResponse> http_get(const std::string& url, std::chrono::milliseconds timeout);

// Prometheus text samples: series as written ("name{a=\"b\"}" or "name") -> value. Comments
// and malformed lines are skipped.
using Samples = std::map<std::string, double, std::less<>>;
[[nodiscard]] Samples parse_prometheus(std::string_view text);

// Sum of every series of metric `name` whose labels contain all of `label_filter` (each
// `key="value"`, e.g. {"topic_kind=\"records\""}); 0 if none.
[[nodiscard]] double sum_of(const Samples& samples, std::string_view name,
                            std::initializer_list<std::string_view> label_filter = {});
// The value of label `key` in a series ("name{a=\"b\"}", "a" -> "b"); empty if absent.
[[nodiscard]] std::string label_of(std::string_view series, std::string_view key);

}  // namespace auditship::metrics
