// The console at / and the /v1 API over a recorded Api: routing, the
// account id as decoded from the path, bearer tokens, reload's method and
// switch.
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "demandcenter/http/http_server.h"
#include "prometheus/registry.h"
#include "support/http_exchange.h"

namespace demandcenter::http {
namespace {

class RecordingApi : public Api {
 public:
  ApiAnswer Summary() override { return {200, "{\"instance_id\":\"i\"}"}; }
  ApiAnswer Account(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu);
    accounts.push_back(id);
    return id == "acme/1" ? ApiAnswer{200, "{\"account_id\":\"acme/1\"}"} : ApiAnswer{404, "{\"error\":\"unknown account\"}"};
  }
  ApiAnswer Reload() override {
    ++reloads;
    return {200, "{\"rules_version\":\"v2\"}"};
  }
  std::mutex mu;
  std::vector<std::string> accounts;
  int reloads = 0;
};

using testing::Body;
using testing::Exchange;
using testing::StatusLine;

std::string Get(const std::string& path, const std::string& headers = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: x\r\n" + headers + "\r\n";
}

class HttpApiTest : public ::testing::Test {
 protected:
  void Start(HttpOptions options) {
    options.api = &api_;
    server_ = std::make_unique<HttpServer>("127.0.0.1:0", std::make_shared<prometheus::Registry>(),
                                           [] { return true; }, options);
    ASSERT_TRUE(server_->Start().ok());
  }
  int port() const { return server_->port(); }

  RecordingApi api_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpApiTest, ServesTheConsolePageWithAContentPolicy) {
  Start({});
  std::string reply = Exchange(port(), Get("/"));
  EXPECT_EQ(StatusLine(reply), "HTTP/1.1 200 OK");
  EXPECT_NE(reply.find("Content-Type: text/html"), std::string::npos);
  EXPECT_NE(reply.find("Content-Security-Policy: default-src 'self'"), std::string::npos);
  EXPECT_NE(Body(reply).find("/v1/summary"), std::string::npos) << "the page fetches the summary";
}

TEST_F(HttpApiTest, RoutesSummaryAndDecodedAccountIds) {
  Start({});
  std::string summary = Exchange(port(), Get("/v1/summary"));
  EXPECT_EQ(StatusLine(summary), "HTTP/1.1 200 OK");
  EXPECT_NE(summary.find("Content-Type: application/json"), std::string::npos);
  EXPECT_EQ(Body(summary), "{\"instance_id\":\"i\"}");
  std::string account = Exchange(port(), Get("/v1/accounts/acme%2F1"));
  EXPECT_EQ(StatusLine(account), "HTTP/1.1 200 OK");
  EXPECT_EQ(Body(account), "{\"account_id\":\"acme/1\"}");
  EXPECT_EQ(StatusLine(Exchange(port(), Get("/v1/accounts/zzz"))), "HTTP/1.1 404 Not Found");
  ASSERT_EQ(api_.accounts.size(), 2u);
  EXPECT_EQ(api_.accounts[0], "acme/1");
  EXPECT_EQ(StatusLine(Exchange(port(), Get("/v1/accounts/"))), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(StatusLine(Exchange(port(), Get("/v1/accounts/" + std::string(600, 'a')))), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(StatusLine(Exchange(port(), Get("/v1/nothing"))), "HTTP/1.1 404 Not Found");
  EXPECT_EQ(api_.accounts.size(), 2u) << "refused ids never reach the engine";
}

TEST_F(HttpApiTest, ABearerTokenGuardsTheApiButNotProbes) {
  Start({.bearer_token = "s3cret-token"});
  std::string refused = Exchange(port(), Get("/v1/summary"));
  EXPECT_EQ(StatusLine(refused), "HTTP/1.1 401 Unauthorized");
  EXPECT_NE(refused.find("WWW-Authenticate: Bearer"), std::string::npos);
  EXPECT_EQ(StatusLine(Exchange(port(), Get("/v1/summary", "Authorization: Bearer s3cret-toke\r\n"))),
            "HTTP/1.1 401 Unauthorized");
  EXPECT_EQ(StatusLine(Exchange(port(), Get("/v1/summary", "Authorization: Bearer s3cret-token-\r\n"))),
            "HTTP/1.1 401 Unauthorized");
  EXPECT_EQ(StatusLine(Exchange(port(), Get("/v1/summary", "Authorization: Basic s3cret-token\r\n"))),
            "HTTP/1.1 401 Unauthorized");
  EXPECT_EQ(StatusLine(Exchange(port(), Get("/v1/summary", "Authorization: Bearer s3cret-token\r\n"))),
            "HTTP/1.1 200 OK");
  EXPECT_EQ(StatusLine(Exchange(port(), Get("/v1/accounts/acme%2F1", "Authorization: bearer s3cret-token\r\n"))),
            "HTTP/1.1 200 OK");
  EXPECT_EQ(StatusLine(Exchange(port(), Get("/healthz"))), "HTTP/1.1 200 OK");
  EXPECT_EQ(StatusLine(Exchange(port(), Get("/metrics"))), "HTTP/1.1 200 OK");
  EXPECT_EQ(Body(refused).find("s3cret"), std::string::npos);
}

TEST_F(HttpApiTest, ReloadIsPostOnlyAndOnlyWhenEnabled) {
  Start({});
  std::string post = "POST /v1/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(StatusLine(Exchange(port(), post)), "HTTP/1.1 404 Not Found");
  EXPECT_EQ(api_.reloads, 0);
  server_->Stop();
  Start({.reload = true});
  EXPECT_EQ(StatusLine(Exchange(port(), Get("/v1/reload"))), "HTTP/1.1 405 Method Not Allowed");
  std::string reply = Exchange(port(), post);
  EXPECT_EQ(StatusLine(reply), "HTTP/1.1 200 OK");
  EXPECT_EQ(Body(reply), "{\"rules_version\":\"v2\"}");
  EXPECT_EQ(api_.reloads, 1);
  EXPECT_EQ(StatusLine(Exchange(port(), "POST /v1/summary HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")),
            "HTTP/1.1 405 Method Not Allowed");
}

TEST(LoopbackBind, TellsLoopbackFromOtherAddresses) {
  EXPECT_TRUE(IsLoopbackBind("127.0.0.1:8080"));
  EXPECT_TRUE(IsLoopbackBind("localhost:8080"));
  EXPECT_TRUE(IsLoopbackBind("[::1]:8080"));
  EXPECT_FALSE(IsLoopbackBind("0.0.0.0:8080"));
  EXPECT_FALSE(IsLoopbackBind("10.0.0.5:8080"));
  EXPECT_FALSE(IsLoopbackBind("8080"));
}

}  // namespace
}  // namespace demandcenter::http
