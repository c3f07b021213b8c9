#include "demandcenter/api/engine_api.h"

#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "demandcenter/common/json_string.h"
#include "demandcenter/common/log.h"
#include "demandcenter/common/proto_json.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/config/secret_file.h"
#include "demandcenter/query/account_view.h"
#include "demandcenter/v1/query.pb.h"

namespace demandcenter::api {
namespace {

// How long a query waits for the processing loop (one commit interval and
// a poll, normally).
constexpr int64_t kQueryTimeoutMs = 3000;

http::ApiAnswer Error(int status, const std::string& message, const std::string& owner = "") {
  v1::ApiError e;
  e.set_error(message);
  e.set_owner(owner);
  return {status, ToJson(e)};
}

}  // namespace

EngineApi::EngineApi(runner::Runner* runner, std::string instance_id, OwnerLookup owner, Reloader reload)
    : runner_(runner), instance_id_(std::move(instance_id)), owner_(std::move(owner)), reload_(std::move(reload)) {}

http::ApiAnswer EngineApi::Summary() {
  v1::Summary summary;
  std::function<void()> query = [&] {
    summary = runner_->census().Summarize([&](int32_t p) { return runner_->StreamTime(p); },
                                          absl::ToUnixMillis(absl::Now()));
  };
  absl::Status s = runner_->Ask(query, kQueryTimeoutMs);
  if (!s.ok()) return Error(503, std::string(s.message()));
  summary.set_instance_id(instance_id_);
  return {200, ToJson(summary)};
}

http::ApiAnswer EngineApi::Account(const std::string& account_id) {
  // The member owning the account's partition answers for it, even when a
  // partition here holds some of its signals too (keyless ones resolved
  // here: identity is scoped to the partition).
  if (owner_) {
    std::optional<std::string> owner = owner_(account_id);
    if (owner) return Error(404, "owned by another instance", *owner);
  }
  std::optional<v1::AccountView> view;
  std::function<void()> query = [&] {
    if (const v1::AccountState* a = runner_->FindAccount(account_id)) {
      view = query::ViewOf(*a, runner_->decision(), runner_->StreamTime(a->partition()),
                           runner_->JourneyModelOf(a->partition()));
    }
  };
  absl::Status s = runner_->Ask(query, kQueryTimeoutMs);
  if (!s.ok()) return Error(503, std::string(s.message()));
  if (view) return {200, ToJson(*view)};
  return Error(404, "unknown account");
}

http::ApiAnswer EngineApi::Reload() {
  if (!reload_) return Error(404, "reload is not available here");
  absl::StatusOr<std::string> version = reload_();
  if (!version.ok()) return Error(version.status().code() == absl::StatusCode::kInvalidArgument ? 400 : 503,
                                  std::string(version.status().message()));
  std::string body = "{\"rules_version\":";
  AppendJsonString(*version, &body);
  return {200, body + "}"};
}

absl::StatusOr<std::string> ReloadConfig(const std::string& path, runner::Runner* runner, metrics::Metrics* metrics) {
  config::ParseResult parsed = config::LoadConfig(path);
  if (!parsed.errors.empty() || !parsed.config) {
    std::vector<std::string> lines;
    for (const auto& e : parsed.errors) lines.push_back(e.ToString());
    std::string message = StrCat("reload refused, the rules in force stay: ", absl::StrJoin(lines, "\n"));
    LogLine(message);
    metrics->ConfigReloads("error").Increment();
    return absl::InvalidArgumentError(message);
  }
  auto decision = std::make_shared<const config::DecisionConfig>(std::move(parsed.config->decision));
  std::function<void()> apply = [&] { runner->ApplyDecisionConfig(decision); };
  absl::Status s = runner->Ask(apply, 30'000);
  if (!s.ok()) {
    LogLine(StrCat("reload not applied, the rules in force stay: ", s.message()));
    metrics->ConfigReloads("error").Increment();
    return s;
  }
  metrics->ConfigReloads("ok").Increment();
  return decision->rules_version;
}

absl::StatusOr<std::string> ReadHttpToken(const config::HttpConfig& http) {
  if (!http.token_env.empty()) {
    const char* value = std::getenv(http.token_env.c_str());
    if (value == nullptr || *value == '\0') {
      return absl::FailedPreconditionError(StrCat("http.token_env: the environment variable ", http.token_env,
                                                  " is not set or empty"));
    }
    return std::string(value);
  }
  if (http.token_file.empty()) return std::string();
  return config::ReadSecretFile(http.token_file, "http.token_file", "token");
}

}  // namespace demandcenter::api
