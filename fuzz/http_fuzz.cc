// The HTTP server on arbitrary request bytes: each is answered or dropped,
// and /healthz still answers 200 right after it (no crash, no stuck worker,
// no reply shaped by the request).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "demandcenter/http/http_server.h"
#include "prometheus/registry.h"

namespace {

// Sends `request`, half-closes, and reads the reply until the server closes.
std::string Exchange(int port, const char* request, size_t size) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) std::abort();
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) std::abort();
  for (size_t sent = 0; sent < size;) {
    ssize_t n = send(fd, request + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early
    sent += static_cast<size_t>(n);
  }
  shutdown(fd, SHUT_WR);
  std::string reply;
  char buf[4096];
  for (ssize_t n; (n = recv(fd, buf, sizeof(buf), 0)) > 0;) reply.append(buf, static_cast<size_t>(n));
  close(fd);
  return reply;
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
