#include "auditship/metrics/scrape.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <cstdlib>

namespace auditship::metrics {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

std::string_view series_name(std::string_view series) { return series.substr(0, series.find('{')); }

}  // namespace

Result<HttpResponse> http_get(const std::string& url, std::chrono::milliseconds timeout) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) return Error{"'" + url + "': only http:// URLs are supported"};
  std::string rest = url.substr(kScheme.size());
  auto slash = rest.find('/');
  std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string hostport = rest.substr(0, slash);
  auto colon = hostport.rfind(':');
  std::string host = colon == std::string::npos ? hostport : hostport.substr(0, colon);
  std::string port = colon == std::string::npos ? "80" : hostport.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  try {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.expires_after(timeout);
    // Async operations so the stream's deadline covers resolve, connect, write and read alike.
    beast::error_code ec;
    HttpResponse out;
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, hostport);
    req.set(http::field::user_agent, "auditship-status");
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    resolver.async_resolve(host, port, [&](beast::error_code e, asio::ip::tcp::resolver::results_type results) {
      if (e) return void(ec = e);
      stream.async_connect(results, [&](beast::error_code e2, const asio::ip::tcp::endpoint&) {
        if (e2) return void(ec = e2);
        http::async_write(stream, req, [&](beast::error_code e3, std::size_t) {
          if (e3) return void(ec = e3);
          http::async_read(stream, buffer, res, [&](beast::error_code e4, std::size_t) { ec = e4; });
        });
      });
    });
    io.run_for(timeout + std::chrono::seconds(1));
    if (ec) return Error{"GET " + url + ": " + ec.message()};
    if (res.result_int() == 0) return Error{"GET " + url + ": no answer within " + std::to_string(timeout.count()) + " ms"};
    out.status = static_cast<int>(res.result_int());
    out.body = std::move(res.body());
    return out;
  } catch (const std::exception& e) {
    return Error{"GET " + url + ": " + e.what()};
  }
}

Samples parse_prometheus(std::string_view text) {
  Samples out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    // The value follows the last space outside the label set (label values may hold spaces).
    auto close = line.rfind('}');
    auto space = line.find(' ', close == std::string_view::npos ? 0 : close);
    if (space == std::string_view::npos) continue;
    std::string value(line.substr(space + 1));
    if (auto sp = value.find(' '); sp != std::string::npos) value.resize(sp);  // a timestamp
    char* end = nullptr;
    double v = std::strtod(value.c_str(), &end);
    if (end == value.c_str()) continue;
    out[std::string(line.substr(0, space))] = v;
  }
  return out;
}

double sum_of(const Samples& samples, std::string_view name, std::initializer_list<std::string_view> label_filter) {
  double sum = 0;
  for (auto it = samples.lower_bound(name); it != samples.end(); ++it) {
    std::string_view series = it->first;
    if (series.substr(0, name.size()) != name) break;
    if (series_name(series) != name) continue;
    bool match = true;
    for (auto f : label_filter) match = match && series.find(f) != std::string_view::npos;
    if (match) sum += it->second;
  }
  return sum;
}

std::string label_of(std::string_view series, std::string_view key) {
  std::string needle = std::string(key) + "=\"";
  for (std::size_t pos = series.find('{'); pos != std::string_view::npos;) {
    auto at = series.find(needle, pos);
    if (at == std::string_view::npos) return {};
    if (series[at - 1] == '{' || series[at - 1] == ',') {
      std::string value;
      for (std::size_t i = at + needle.size(); i < series.size() && series[i] != '"'; ++i) {
        if (series[i] == '\\' && i + 1 < series.size()) ++i;
        value += series[i];
      }
      return value;
    }
    pos = at + 1;
  }
  return {};
}

}  // namespace auditship::metrics
