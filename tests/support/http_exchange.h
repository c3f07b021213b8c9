// A raw HTTP exchange over loopback, for the HTTP server's tests and fuzzer:
// the request bytes as they are, a half-close, and everything the server
// writes until it closes.
#ifndef DEMANDCENTER_TESTS_SUPPORT_HTTP_EXCHANGE_H_
#define DEMANDCENTER_TESTS_SUPPORT_HTTP_EXCHANGE_H_

#include <optional>
#include <string>
#include <string_view>

namespace demandcenter::testing {

// Sends `request` to 127.0.0.1:`port` (stopping early if the server closes
// first), half-closes, and reads until the server closes or `timeout_s`
// passes with nothing read. nullopt when it cannot connect.
std::optional<std::string> HttpExchange(int port, std::string_view request, int timeout_s);

// The reply to `request` within 10 s of silence ("" when no connection).
inline std::string Exchange(int port, const std::string& request) {
  return HttpExchange(port, request, /*timeout_s=*/10).value_or("");
}

// A reply's status line and body.
inline std::string StatusLine(const std::string& reply) { return reply.substr(0, reply.find("\r\n")); }
inline std::string Body(const std::string& reply) {
  size_t end = reply.find("\r\n\r\n");
  return end == std::string::npos ? "" : reply.substr(end + 4);
}

}  // namespace demandcenter::testing

#endif  // DEMANDCENTER_TESTS_SUPPORT_HTTP_EXCHANGE_H_
