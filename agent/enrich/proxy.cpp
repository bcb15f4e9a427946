#include "auditship/enrich/proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

#include "auditship/common/hash.h"
#include "auditship/common/text.h"

namespace auditship::enrich {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

bool is_loopback(std::string_view host) {
  const std::string h = lower(host);
  if (h == "localhost") return true;
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  return ::inet_pton(AF_INET6, h.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

}  // namespace

std::string authority(std::string_view host, std::string_view port) {
  std::string out = host.find(':') != std::string_view::npos ? "[" + std::string(host) + "]" : std::string(host);
  return out + ":" + std::string(port);
}

std::string Proxy::display() const { return authority(host, port); }

Result<Proxy> parse_proxy_url(std::string_view url) {
  // A URL with credentials is not echoed into errors (they end up in logs).
  const std::string shown = url.find('@') == std::string_view::npos ? "'" + std::string(url) + "'" : "URL";
  const auto scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) {
    const std::string scheme = lower(url.substr(0, scheme_end));
    if (scheme == "https")
      return Error{"TLS to the proxy itself is not supported: use an http:// proxy URL (lookups stay TLS inside "
                   "its tunnel)"};
    if (scheme != "http") return Error{"proxy scheme '" + scheme + "' is not supported: use http://host:port"};
    url.remove_prefix(scheme_end + 3);
  }
  if (!url.empty() && url.back() == '/') url.remove_suffix(1);
  if (url.find('/') != std::string_view::npos) return Error{"a proxy URL has no path: use http://host:port"};
  Proxy p;
  if (const auto at = url.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = url.substr(0, at);
    const auto colon = userinfo.find(':');
    auto user = percent_decode(userinfo.substr(0, colon));
    auto password = percent_decode(colon == std::string_view::npos ? std::string_view() : userinfo.substr(colon + 1));
    if (!user || !password) return Error{"the proxy URL's user or password has a bad %-escape"};
    p.authorization = "Basic " + base64(*user + ":" + *password);
    url.remove_prefix(at + 1);
  }
  std::string_view host = url, port = "1080";
  if (!url.empty() && url.front() == '[') {
    const auto close = url.find(']');
    if (close == std::string_view::npos) return Error{"proxy " + shown + " has an unclosed '['"};
    host = url.substr(1, close - 1);
    if (close + 1 < url.size()) {
      if (url[close + 1] != ':') return Error{"proxy " + shown + " is not host:port"};
      port = url.substr(close + 2);
    }
  } else if (const auto colon = url.rfind(':'); colon != std::string_view::npos) {
    host = url.substr(0, colon);
    port = url.substr(colon + 1);
  }
  if (host.empty()) return Error{"proxy " + shown + " has no host"};
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return Error{"proxy " + shown + " has no valid port"};
  p.host = std::string(host);
  p.port = std::string(port);
  return p;
}

std::string without_credentials(std::string_view url) {
  const auto at = url.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  const auto scheme_end = url.find("://");
  const std::size_t start = scheme_end == std::string_view::npos || scheme_end > at ? 0 : scheme_end + 3;
  return std::string(url.substr(0, start)) + "<redacted>" + std::string(url.substr(at));
}

bool bypasses_proxy(std::string_view no_proxy, std::string_view host) {
  const std::string h = lower(host);
  while (!no_proxy.empty()) {
    const auto comma = no_proxy.find(',');
    std::string entry = lower(trim(no_proxy.substr(0, comma)));
    no_proxy.remove_prefix(comma == std::string_view::npos ? no_proxy.size() : comma + 1);
    if (entry == "*") return true;
    if (!entry.empty() && entry.front() == '[') {  // [::1]:port
      entry = entry.substr(1, entry.find(']') - 1);
    } else if (std::count(entry.begin(), entry.end(), ':') == 1) {  // host:port (an IPv6 literal has more)
      entry.resize(entry.find(':'));
    }
    if (!entry.empty() && entry.front() == '.') entry.erase(0, 1);
    if (entry.empty()) continue;
    if (h == entry) return true;
    if (h.size() > entry.size() && h.compare(h.size() - entry.size(), entry.size(), entry) == 0 &&
        h[h.size() - entry.size() - 1] == '.')
      return true;
  }
  return false;
}

Result<std::optional<Proxy>> choose_proxy(std::string_view setting, std::string_view endpoint_host, bool endpoint_tls,
                                          const GetEnv& getenv) {
  if (setting == "none") return std::optional<Proxy>();
  if (!setting.empty()) {
    auto p = parse_proxy_url(setting);
    if (!p) return Error{"enrich.proxy: " + p.error()};
    p->source = "enrich.proxy";
    return std::optional<Proxy>(std::move(p.value()));
  }
  // The environment's proxy is for reaching the internet: not for plain-http test endpoints
  // and not for this host itself (as Go's and Python's HTTP clients do).
  if (!endpoint_tls || is_loopback(endpoint_host)) return std::optional<Proxy>();
  const char* var = nullptr;
  const char* value = nullptr;
  for (const char* name : {"HTTPS_PROXY", "https_proxy"}) {
    if (const char* v = getenv(name); v && *v) {
      var = name;
      value = v;
      break;
    }
  }
  if (!value) return std::optional<Proxy>();
  for (const char* name : {"NO_PROXY", "no_proxy"}) {
    if (const char* v = getenv(name); v && *v) {
      if (bypasses_proxy(v, endpoint_host)) return std::optional<Proxy>();
      break;
    }
  }
  auto p = parse_proxy_url(value);
  if (!p) return Error{std::string(var) + ": " + p.error()};
  p->source = var;
  return std::optional<Proxy>(std::move(p.value()));
}

}  // namespace auditship::enrich
