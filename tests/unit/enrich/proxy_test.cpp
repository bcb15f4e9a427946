// Which proxy lookups go through: enrich.proxy, or HTTPS_PROXY / NO_PROXY as curl reads them.
#include "auditship/enrich/proxy.h"

#include <gtest/gtest.h>

#include <map>

namespace auditship::enrich {
namespace {

// An environment made of the given variables only.
GetEnv env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

TEST(ProxyUrl, ParsesHostPortAndCredentials) {
  auto p = parse_proxy_url("http://user:p%40ss@proxy.corp:3128/");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->host, "proxy.corp");
  EXPECT_EQ(p->port, "3128");
  EXPECT_EQ(p->authorization, "Basic dXNlcjpwQHNz");  // base64("user:p@ss")
  EXPECT_EQ(p->display(), "proxy.corp:3128");

  auto bare = parse_proxy_url("proxy.corp");  // no scheme: http, curl's default port
  ASSERT_TRUE(bare) << bare.error();
  EXPECT_EQ(bare->port, "1080");
  EXPECT_TRUE(bare->authorization.empty());

  auto v6 = parse_proxy_url("http://alice@[fd00::1]:8080");
  ASSERT_TRUE(v6) << v6.error();
  EXPECT_EQ(v6->host, "fd00::1");
  EXPECT_EQ(v6->authorization, "Basic YWxpY2U6");  // base64("alice:")
  EXPECT_EQ(v6->display(), "[fd00::1]:8080");
}

TEST(ProxyUrl, RejectsWhatItCannotUseWithoutEchoingCredentials) {
  EXPECT_NE(parse_proxy_url("https://proxy:443").error().find("use an http:// proxy URL"), std::string::npos);
  EXPECT_NE(parse_proxy_url("socks5://proxy:1080").error().find("'socks5' is not supported"), std::string::npos);
  EXPECT_FALSE(parse_proxy_url("http://proxy:port"));
  EXPECT_FALSE(parse_proxy_url("http://:3128"));
  EXPECT_FALSE(parse_proxy_url("http://proxy:3128/path"));
  EXPECT_FALSE(parse_proxy_url("http://[fd00::1:3128"));
  auto bad = parse_proxy_url("http://user:s3cret@proxy:nope");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().find("s3cret"), std::string::npos) << bad.error();
  EXPECT_FALSE(parse_proxy_url("http://user:%zz@proxy:3128"));
  EXPECT_EQ(without_credentials("http://user:s3cret@proxy:3128"), "http://<redacted>@proxy:3128");
  EXPECT_EQ(without_credentials("http://proxy:3128"), "http://proxy:3128");
}

TEST(NoProxy, MatchesHostsAndDomainsNotSubstrings) {
  EXPECT_TRUE(bypasses_proxy("*", "openrouter.ai"));
  EXPECT_TRUE(bypasses_proxy("internal, openrouter.ai", "openrouter.ai"));
  EXPECT_TRUE(bypasses_proxy("openrouter.ai", "api.openrouter.ai"));
  EXPECT_TRUE(bypasses_proxy(".openrouter.ai", "api.openrouter.ai"));
  EXPECT_TRUE(bypasses_proxy("OpenRouter.AI:443", "openrouter.ai"));
  EXPECT_FALSE(bypasses_proxy("router.ai", "openrouter.ai"));
  EXPECT_FALSE(bypasses_proxy("openrouter.ai.evil", "openrouter.ai"));
  EXPECT_FALSE(bypasses_proxy("", "openrouter.ai"));
  EXPECT_TRUE(bypasses_proxy("[fd00::1]:443", "fd00::1"));
}

TEST(ChooseProxy, TheSettingWinsOverTheEnvironment) {
  const auto e = env({{"HTTPS_PROXY", "http://env-proxy:3128"}});
  auto none = choose_proxy("none", "openrouter.ai", true, e);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  auto set = choose_proxy("http://cfg-proxy:8080", "127.0.0.1", true, e);  // applies even to loopback
  ASSERT_TRUE(set);
  ASSERT_TRUE(*set);
  EXPECT_EQ((*set)->host, "cfg-proxy");
  EXPECT_EQ((*set)->source, "enrich.proxy");
  auto bad = choose_proxy("ftp://x", "openrouter.ai", true, e);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().rfind("enrich.proxy: ", 0), 0u) << bad.error();
}

TEST(ChooseProxy, TheEnvironmentAsCurlReadsIt) {
  auto from_env = choose_proxy("", "openrouter.ai", true, env({{"https_proxy", "http://lower:3128"}}));
  ASSERT_TRUE(from_env);
  ASSERT_TRUE(*from_env);
  EXPECT_EQ((*from_env)->host, "lower");
  EXPECT_EQ((*from_env)->source, "https_proxy");

  auto upper_first = choose_proxy("", "openrouter.ai", true,
                                  env({{"HTTPS_PROXY", "http://upper:1"}, {"https_proxy", "http://lower:2"}}));
  ASSERT_TRUE(upper_first && *upper_first);
  EXPECT_EQ((*upper_first)->host, "upper");

  const auto proxied = env({{"HTTPS_PROXY", "http://p:3128"}, {"NO_PROXY", "internal.corp,.openrouter.ai"}});
  auto exempt = choose_proxy("", "openrouter.ai", true, proxied);
  ASSERT_TRUE(exempt);
  EXPECT_FALSE(*exempt) << "NO_PROXY exempts it";
  for (const char* host : {"127.0.0.1", "127.8.9.10", "localhost", "::1"}) {
    auto loopback = choose_proxy("", host, true, env({{"HTTPS_PROXY", "http://p:3128"}}));
    ASSERT_TRUE(loopback);
    EXPECT_FALSE(*loopback) << host << ": this host is never reached through the environment's proxy";
  }
  auto named = choose_proxy("", "127.0.0.1.example.com", true, env({{"HTTPS_PROXY", "http://p:3128"}}));
  ASSERT_TRUE(named);
  EXPECT_TRUE(*named) << "a name that starts like a loopback address is not one";
  auto plain = choose_proxy("", "example.com", false, env({{"HTTPS_PROXY", "http://p:3128"}}));
  ASSERT_TRUE(plain);
  EXPECT_FALSE(*plain) << "HTTPS_PROXY is for https endpoints";
  auto nothing = choose_proxy("", "openrouter.ai", true, env({}));
  ASSERT_TRUE(nothing);
  EXPECT_FALSE(*nothing);

  auto broken = choose_proxy("", "openrouter.ai", true, env({{"HTTPS_PROXY", "socks5://p:1080"}}));
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().rfind("HTTPS_PROXY: ", 0), 0u) << broken.error();
}

}  // namespace
}  // namespace auditship::enrich
