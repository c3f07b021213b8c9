#include "demandcenter/http/http_server.h"

#include <cstring>
#include <string>

#include "civetweb.h"
#include "demandcenter/common/strings.h"
#include "prometheus/text_serializer.h"

namespace demandcenter::http {
namespace {

int Dispatch(struct mg_connection* conn, void* self) {
  return static_cast<HttpServer*>(self)->Handle(conn);
}

// Workers: each connection holds one until its reply is written or
// kRequestTimeoutMs passes, so a probe finds a free one while this many
// less one slow or half-open connections are held.
constexpr char kWorkers[] = "128";
// A request (line and headers) must arrive within this; a reply must be
// taken within it too.
constexpr char kRequestTimeoutMs[] = "2000";
constexpr char kAllow[] = "GET, HEAD, OPTIONS";
constexpr char kNotAllowedBody[] = "only GET, HEAD and OPTIONS are supported\n";

// Methods the library refuses itself before any handler runs (TRACE,
// CONNECT): 405 like every other method the server does not serve.
bool IsRefusedMethod(const char* method) {
  return method != nullptr && (std::strcmp(method, "TRACE") == 0 || std::strcmp(method, "CONNECT") == 0);
}

// Every reply the server writes: no keep-alive, nothing cached; 405 and
// OPTIONS (204) say what is allowed.
void Reply(struct mg_connection* conn, int status, const char* reason, const char* content_type,
           const std::string& body, bool head) {
  std::string allow = status == 405 || status == 204 ? StrCat("Allow: ", kAllow, "\r\n") : "";
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\n%sContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
            status, reason, allow.c_str(), content_type, body.size());
  if (!head) mg_write(conn, body.data(), body.size());
}

// Requests the server library refuses before any handler runs (a malformed
// request line, oversize headers, ...): counted and answered here with a
// fixed reply. The library's own error page echoes the request's protocol
// token into the status line, so a hostile request could shape the reply.
int OnHttpError(struct mg_connection* conn, int status, const char* /*message*/) {
  auto* self = static_cast<HttpServer*>(mg_get_user_data(mg_get_context(conn)));
  const struct mg_request_info* info = mg_get_request_info(conn);
  if (status == 400 && info != nullptr && IsRefusedMethod(info->request_method)) {
    if (self != nullptr) self->Count("other", 405);
    Reply(conn, 405, "Method Not Allowed", "text/plain", kNotAllowedBody, false);
    return 0;
  }
  if (self != nullptr) self->Count("rejected", status);
  const char* reason = mg_get_response_code_text(conn, status);
  Reply(conn, status, reason ? reason : "Error", "text/plain",
        StrCat("request refused: ", status, " ", reason ? reason : "", "\n"), false);
  return 0;
}

}  // namespace

HttpServer::HttpServer(std::string bind, std::shared_ptr<prometheus::Registry> registry,
                       std::function<bool()> ready)
    : bind_(std::move(bind)), registry_(std::move(registry)), ready_(std::move(ready)) {
  requests_ = &prometheus::BuildCounter()
                   .Name("demandcenter_http_requests_total")
                   .Help("HTTP requests, by handler (metrics, healthz, readyz, other; rejected: refused as "
                         "malformed before any handler) and status code")
                   .Register(*registry_);
}

void HttpServer::Count(const char* handler, int status) {
  requests_->Add({{"handler", handler}, {"code", std::to_string(status)}}).Increment();
}

HttpServer::~HttpServer() { Stop(); }

absl::Status HttpServer::Start() {
  mg_init_library(0);
  const char* options[] = {"listening_ports",    bind_.c_str(),     "num_threads",       kWorkers,
                           "request_timeout_ms", kRequestTimeoutMs, "enable_keep_alive", "no",
                           nullptr};
  struct mg_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof(callbacks));
  callbacks.http_error = OnHttpError;
  ctx_ = mg_start(&callbacks, this, options);
  if (ctx_ == nullptr) {
    return absl::UnavailableError(StrCat("cannot listen on ", bind_, " (in use, or not a local address?)"));
  }
  mg_set_request_handler(ctx_, "/", Dispatch, this);
  struct mg_server_port ports[4];
  int n = mg_get_server_ports(ctx_, 4, ports);
  if (n > 0) port_ = ports[0].port;
  return absl::OkStatus();
}

void HttpServer::Stop() {
  if (ctx_ != nullptr) {
    mg_stop(ctx_);
    ctx_ = nullptr;
  }
}

int HttpServer::Handle(struct mg_connection* conn) {
  const struct mg_request_info* info = mg_get_request_info(conn);
  std::string method = info->request_method ? info->request_method : "";
  std::string path = info->local_uri ? info->local_uri : "";
  const char* handler = path == "/metrics" ? "metrics" : path == "/healthz" ? "healthz"
                      : path == "/readyz"  ? "readyz"  : "other";
  int status = Serve(conn, method, path);
  Count(handler, status);
  return status;
}

int HttpServer::Serve(struct mg_connection* conn, const std::string& method, const std::string& path) {
  bool head = method == "HEAD";
  if (method == "OPTIONS") {
    Reply(conn, 204, "No Content", "text/plain", "", true);
    return 204;
  }
  if (method != "GET" && !head) {
    Reply(conn, 405, "Method Not Allowed", "text/plain", kNotAllowedBody, false);
    return 405;
  }
  if (path == "/metrics") {
    std::string body = prometheus::TextSerializer().Serialize(registry_->Collect());
    Reply(conn, 200, "OK", "text/plain; version=0.0.4", body, head);
    return 200;
  }
  if (path == "/healthz") {
    Reply(conn, 200, "OK", "text/plain", "ok\n", head);
    return 200;
  }
  if (path == "/readyz") {
    if (ready_()) {
      Reply(conn, 200, "OK", "text/plain", "ready\n", head);
      return 200;
    }
    Reply(conn, 503, "Service Unavailable", "text/plain", "not ready: partitions are being restored or assigned\n", head);
    return 503;
  }
  Reply(conn, 404, "Not Found", "text/plain", "not found; try /metrics, /healthz, /readyz\n", head);
  return 404;
}

}  // namespace demandcenter::http
