// The HTTP server on arbitrary request bytes: each is answered or dropped,
// and /healthz still answers 200 right after it (no crash, no stuck worker,
// no reply shaped by the request).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "demandcenter/http/http_server.h"
#include "prometheus/registry.h"
#include "support/http_exchange.h"

namespace {

// The reply to `request`; no connection is a failure.
std::string Exchange(int port, const char* request, size_t size) {
  std::optional<std::string> reply = demandcenter::testing::HttpExchange(port, std::string_view(request, size), 5);
  if (!reply) std::abort();
  return *reply;
}

demandcenter::http::HttpServer* Server() {
  static auto* server = [] {
    auto* s = new demandcenter::http::HttpServer("127.0.0.1:0", std::make_shared<prometheus::Registry>(),
                                                 [] { return true; });
    if (!s->Start().ok()) std::abort();
    return s;
  }();
  return server;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int port = Server()->port();
  std::string reply = Exchange(port, reinterpret_cast<const char*>(data), size);
  // A reply, if any, is one of ours: a status line the request did not shape.
  if (!reply.empty() && reply.rfind("HTTP/1.1 ", 0) != 0) std::abort();
  const char kHealth[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  if (Exchange(port, kHealth, sizeof(kHealth) - 1).rfind("HTTP/1.1 200 OK\r\n", 0) != 0) std::abort();
  return 0;
}
