// The engine's HTTP endpoint (loopback by default): /metrics (Prometheus
// text format), /healthz, /readyz, the console page at /, and the JSON API
// under /v1 (account queries, the summary the console shows, reload).
// Anything else is 404; methods other than GET and HEAD are 405 (POST only
// for /v1/reload, when enabled).
#ifndef DEMANDCENTER_HTTP_HTTP_SERVER_H_
#define DEMANDCENTER_HTTP_HTTP_SERVER_H_

#include <atomic>
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

// One answer of the JSON API: a status and a JSON body.
struct ApiAnswer {
  int status = 200;
  std::string body;
};

// The /v1 endpoints. Called from server threads: implementations must be
// thread safe.
class Api {
 public:
  virtual ~Api() = default;
  // GET /v1/summary.
  virtual ApiAnswer Summary() = 0;
  // GET /v1/accounts/{id} (the id URL-decoded).
  virtual ApiAnswer Account(const std::string& account_id) = 0;
  // POST /v1/reload: re-reads the config.
  virtual ApiAnswer Reload() = 0;
};

struct HttpOptions {
  // Null: /v1 answers 404 (no engine behind it) until SetApi.
  Api* api = nullptr;
  // Non-empty: /v1 requires "Authorization: Bearer <token>" (the console
  // page holds no data and asks for the token; /metrics, /healthz and
  // /readyz stay open for probes and scrapers).
  std::string bearer_token;
  // POST /v1/reload is served.
  bool reload = false;
};

class HttpServer {
 public:
  // `ready` is called from server threads: it must be thread safe.
  HttpServer(std::string bind, std::shared_ptr<prometheus::Registry> registry,
             std::function<bool()> ready, HttpOptions options = {});
  ~HttpServer();

  // Starts listening on the bind address ("127.0.0.1:8080"); Unavailable
  // when the address cannot be bound.
  absl::Status Start();
  void Stop();

  // The port actually bound (after Start).
  int port() const { return port_; }

  // Puts an engine behind /v1 once there is one (thread safe): a server
  // started first knows its port, which the engine advertises.
  void SetApi(Api* api) { api_.store(api); }

  // Handler entry point for the server library; not for callers.
  int Handle(::mg_connection* conn);
  // Counts one request in demandcenter_http_requests_total.
  void Count(const char* handler, int status);

 private:
  int Serve(::mg_connection* conn, const std::string& method, const std::string& path);
  int ServeApi(::mg_connection* conn, const std::string& method, const std::string& path);
  bool Authorized(::mg_connection* conn) const;

  std::string bind_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::function<bool()> ready_;
  HttpOptions options_;
  std::atomic<Api*> api_;
  prometheus::Family<prometheus::Counter>* requests_;
  mg_context* ctx_ = nullptr;
  int port_ = 0;
};

// True when `bind` ("host:port") listens on loopback only.
bool IsLoopbackBind(const std::string& bind);

}  // namespace demandcenter::http

#endif  // DEMANDCENTER_HTTP_HTTP_SERVER_H_
