#include "demandcenter/http/http_server.h"

#include <cstring>
#include <strings.h>
#include <string>

#include "absl/strings/match.h"
#include "civetweb.h"
#include "demandcenter/common/strings.h"
#include "prometheus/text_serializer.h"

namespace demandcenter {
const char* EmbeddedConsole();  // the console page, compiled in
}  // namespace demandcenter

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
constexpr char kApiPrefix[] = "/v1/";
constexpr char kAccountsPrefix[] = "/v1/accounts/";
constexpr char kJson[] = "application/json";
// Account ids are at most this long (the signal schema's limit is lower).
constexpr size_t kMaxAccountIdBytes = 512;

// Marks a connection whose request the library refused and OnHttpError
// answered.
constexpr char kAnswered[] = "answered";

// Methods the library refuses itself before any handler runs (TRACE,
// CONNECT): 405 like every other method the server does not serve.
bool IsRefusedMethod(const char* method) {
  return method != nullptr && (std::strcmp(method, "TRACE") == 0 || std::strcmp(method, "CONNECT") == 0);
}

// Every reply the server writes: no keep-alive, nothing cached; 405 and
// OPTIONS (204) say what is allowed.
void Reply(struct mg_connection* conn, int status, const char* reason, const char* content_type,
           const std::string& body, bool head, const char* extra_headers = "") {
  std::string allow = status == 405 || status == 204 ? StrCat("Allow: ", kAllow, "\r\n") : "";
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\n%s%sContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
            status, reason, allow.c_str(), extra_headers, content_type, body.size());
  if (!head) mg_write(conn, body.data(), body.size());
}

const char* ReasonOf(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 503: return "Service Unavailable";
    default: return status < 500 ? "Error" : "Internal Server Error";
  }
}

// {"error": "<message>"} for the API's own refusals.
std::string ErrorJson(std::string_view message) { return StrCat("{\"error\":\"", message, "\"}"); }

// Requests the server library refuses before any handler runs (a malformed
// request line, oversize headers, ...): counted and answered here with a
// fixed reply. The library's own error page echoes the request's protocol
// token into the status line, so a hostile request could shape the reply.
int OnHttpError(struct mg_connection* conn, int status, const char* /*message*/) {
  auto* self = static_cast<HttpServer*>(mg_get_user_data(mg_get_context(conn)));
  mg_set_user_connection_data(conn, const_cast<char*>(kAnswered));
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

// civetweb 1.15 routes no request for "*" to a handler: it closes the
// connection unanswered. So a well-formed HTTP/1 request for "*" is
// answered here, as its connection closes: OPTIONS * is 204 with the
// server's Allow, any other method 400 ("*" names no resource). A request
// the library refused is answered already (OnHttpError marks it).
void OnConnectionClose(const struct mg_connection* closing) {
  const struct mg_request_info* info = mg_get_request_info(closing);
  if (info == nullptr || info->request_method == nullptr || info->request_uri == nullptr ||
      info->http_version == nullptr || std::strcmp(info->request_uri, "*") != 0 ||
      mg_get_user_connection_data(closing) == kAnswered) {
    return;
  }
  if (std::strcmp(info->http_version, "1.0") != 0 && std::strcmp(info->http_version, "1.1") != 0) return;
  // The socket is still open; writing needs the non-const handle.
  auto* conn = const_cast<struct mg_connection*>(closing);
  auto* self = static_cast<HttpServer*>(mg_get_user_data(mg_get_context(conn)));
  if (std::strcmp(info->request_method, "OPTIONS") == 0) {
    if (self != nullptr) self->Count("other", 204);
    Reply(conn, 204, "No Content", "text/plain", "", true);
    return;
  }
  if (self != nullptr) self->Count("rejected", 400);
  Reply(conn, 400, "Bad Request", "text/plain", "request refused: \"*\" is a target for OPTIONS only\n", false);
}

}  // namespace

HttpServer::HttpServer(std::string bind, std::shared_ptr<prometheus::Registry> registry,
                       std::function<bool()> ready, HttpOptions options)
    : bind_(std::move(bind)),
      registry_(std::move(registry)),
      ready_(std::move(ready)),
      options_(std::move(options)),
      api_(options_.api) {
  requests_ = &prometheus::BuildCounter()
                   .Name("demandcenter_http_requests_total")
                   .Help("HTTP requests, by handler (metrics, healthz, readyz, console, api, other; rejected: "
                         "refused as malformed before any handler) and status code")
                   .Register(*registry_);
  for (const char* handler : {"metrics", "healthz", "readyz", "console", "api", "other", "rejected"}) {
    requests_->Add({{"handler", handler}, {"code", handler == std::string("rejected") ? "400" : "200"}});
  }
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
  callbacks.connection_close = OnConnectionClose;
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
  const char* handler = path == "/metrics"              ? "metrics"
                        : path == "/healthz"            ? "healthz"
                        : path == "/readyz"             ? "readyz"
                        : path == "/"                   ? "console"
                        : absl::StartsWith(path, kApiPrefix) ? "api"
                                                        : "other";
  int status = Serve(conn, method, path);
  Count(handler, status);
  return status;
}

bool HttpServer::Authorized(struct mg_connection* conn) const {
  if (options_.bearer_token.empty()) return true;
  const char* header = mg_get_header(conn, "Authorization");
  if (header == nullptr) return false;
  std::string_view value(header);
  constexpr std::string_view kScheme = "Bearer ";
  if (value.size() < kScheme.size() || strncasecmp(value.data(), kScheme.data(), kScheme.size()) != 0) return false;
  std::string_view token = value.substr(kScheme.size());
  // Compared in time independent of where the first difference is.
  const std::string& want = options_.bearer_token;
  unsigned char diff = token.size() == want.size() ? 0 : 1;
  for (size_t i = 0; i < want.size(); ++i) diff |= static_cast<unsigned char>(want[i] ^ (i < token.size() ? token[i] : 0));
  return diff == 0;
}

int HttpServer::ServeApi(struct mg_connection* conn, const std::string& method, const std::string& path) {
  bool head = method == "HEAD";
  auto reply = [&](int status, const std::string& body) {
    Reply(conn, status, ReasonOf(status), kJson, body, head,
          status == 401 ? "WWW-Authenticate: Bearer realm=\"demandcenter\"\r\n" : "");
    return status;
  };
  Api* api = api_.load();
  if (api == nullptr) return reply(404, ErrorJson("no engine behind this endpoint"));
  if (!Authorized(conn)) return reply(401, ErrorJson("a bearer token is required"));
  if (path == "/v1/reload") {
    if (!options_.reload) return reply(404, ErrorJson("reload over HTTP is not enabled (http.reload)"));
    if (method != "POST") {
      Reply(conn, 405, "Method Not Allowed", kJson, ErrorJson("POST only"), head, "Allow: POST\r\n");
      return 405;
    }
    ApiAnswer a = api->Reload();
    return reply(a.status, a.body);
  }
  if (method != "GET" && !head) {
    Reply(conn, 405, "Method Not Allowed", "text/plain", kNotAllowedBody, false);
    return 405;
  }
  if (path == "/v1/summary") {
    ApiAnswer a = api->Summary();
    return reply(a.status, a.body);
  }
  if (absl::StartsWith(path, kAccountsPrefix)) {
    // civetweb has already URL-decoded local_uri; an id may hold '/' only
    // encoded, which decodes to '/' here too.
    std::string id = path.substr(sizeof(kAccountsPrefix) - 1);
    if (id.empty() || id.size() > kMaxAccountIdBytes) {
      return reply(400, ErrorJson("an account id of 1 to 512 bytes is expected: /v1/accounts/{id}"));
    }
    ApiAnswer a = api->Account(id);
    return reply(a.status, a.body);
  }
  return reply(404, ErrorJson("not found; try /v1/summary or /v1/accounts/{id}"));
}

int HttpServer::Serve(struct mg_connection* conn, const std::string& method, const std::string& path) {
  bool head = method == "HEAD";
  if (absl::StartsWith(path, kApiPrefix) && method != "OPTIONS") return ServeApi(conn, method, path);
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
  if (path == "/") {
    // The page holds no data: it fetches /v1 (with the token, when one is
    // required) and shows every value as text.
    Reply(conn, 200, "OK", "text/html; charset=utf-8", EmbeddedConsole(), head,
          "Content-Security-Policy: default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
          "img-src 'self' data:; frame-ancestors 'none'\r\n");
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
  Reply(conn, 404, "Not Found", "text/plain", "not found; try /, /v1/summary, /metrics, /healthz, /readyz\n", head);
  return 404;
}

bool IsLoopbackBind(const std::string& bind) {
  size_t colon = bind.rfind(':');
  std::string host = colon == std::string::npos ? bind : bind.substr(0, colon);
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]" || absl::StartsWith(host, "127.");
}

}  // namespace demandcenter::http
