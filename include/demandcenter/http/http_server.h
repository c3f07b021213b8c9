// The engine's HTTP endpoint (loopback by default): /metrics (Prometheus
// text format), /healthz, /readyz. Anything else is 404; methods other than
// GET and HEAD are 405.
#ifndef DEMANDCENTER_HTTP_HTTP_SERVER_H_
#define DEMANDCENTER_HTTP_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/registry.h"

struct mg_context;
struct mg_connection;

namespace demandcenter::http {

class HttpServer {
 public:
  // `ready` is called from server threads: it must be thread safe.
  HttpServer(std::string bind, std::shared_ptr<prometheus::Registry> registry,
             std::function<bool()> ready);
  ~HttpServer();

  // Starts listening on the bind address ("127.0.0.1:8080"); Unavailable
  // when the address cannot be bound.
  absl::Status Start();
  void Stop();

  // The port actually bound (after Start).
  int port() const { return port_; }

  // Handler entry point for the server library; not for callers.
  int Handle(::mg_connection* conn);
  // Counts one request in demandcenter_http_requests_total.
  void Count(const char* handler, int status);

 private:
  int Serve(::mg_connection* conn, const std::string& method, const std::string& path);

  std::string bind_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::function<bool()> ready_;
  prometheus::Family<prometheus::Counter>* requests_;
  mg_context* ctx_ = nullptr;
  int port_ = 0;
};

}  // namespace demandcenter::http

#endif  // DEMANDCENTER_HTTP_HTTP_SERVER_H_
