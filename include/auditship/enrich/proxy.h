#pragma once
// The HTTP proxy that generation lookups go through, if any. `enrich.proxy` names it; when that
// is empty the agent reads HTTPS_PROXY / https_proxy and NO_PROXY / no_proxy, as curl does,
// for https endpoints other than loopback. Lookups tunnel through the proxy with CONNECT, so
// TLS (and the API key) stays end to end between the agent and the endpoint.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "auditship/common/result.h"

namespace auditship::enrich {

// "host:port", with an IPv6 literal in brackets ("[fd00::1]:443"): an HTTP authority.
[[nodiscard]] std::string authority(std::string_view host, std::string_view port);

struct Proxy {
  std::string host, port;
  std::string authorization;  // "Basic ..." from the URL's user:password, or empty
  std::string source;         // "enrich.proxy" or the environment variable it came from
  // host:port: what logs show (never the credentials).
  [[nodiscard]] std::string display() const;
};

// http://[user[:password]@]host[:port][/] (no scheme means http; the port defaults to 1080, as
// in curl). Percent-escapes in user and password are decoded. TLS to the proxy, SOCKS and
// anything else is an error.
[[nodiscard]] Result<Proxy> parse_proxy_url(std::string_view url);

// Whether NO_PROXY's comma-separated list exempts `host`: "*", the host itself, or a domain it
// is in ("example.com" and ".example.com" both cover api.example.com). Ports are ignored.
[[nodiscard]] bool bypasses_proxy(std::string_view no_proxy, std::string_view host);

// `url` with its user and password replaced by <redacted>, for printing a config.
[[nodiscard]] std::string without_credentials(std::string_view url);

using GetEnv = std::function<const char*(const char*)>;

// `setting` is enrich.proxy: "none" for no proxy, a URL, or empty for the environment rule.
// nullopt: connect directly.
[[nodiscard]] Result<std::optional<Proxy>> choose_proxy(std::string_view setting, std::string_view endpoint_host,
                                                        bool endpoint_tls, const GetEnv& getenv);

}  // namespace auditship::enrich
