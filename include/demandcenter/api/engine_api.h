// The /v1 answers of a running engine (http::Api): account queries and the
// summary, asked of the processing loop between transactions, and reload.
// An account this instance does not hold is looked up in the consumer group:
// when another member owns its partition, the answer is 404 with that
// member's advertised address, as Kafka Streams' interactive queries do.
//
// Takes: a runner::Runner, the config, an owner lookup, a reload function.
// Gives: JSON answers (query.proto views). Depends on: runner, query, http
// (the interface), common; nothing of Kafka (the lookup is injected).
#ifndef DEMANDCENTER_API_ENGINE_API_H_
#define DEMANDCENTER_API_ENGINE_API_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "demandcenter/http/http_server.h"
#include "demandcenter/runner/runner.h"

namespace demandcenter::api {

// The advertised address of the instance owning `account_id`'s partition:
// nullopt when nobody else owns it (or the group cannot be asked).
using OwnerLookup = std::function<std::optional<std::string>(const std::string& account_id)>;

// Re-reads and validates the config and, when valid, puts its rules in
// force; the new rules_version, or why nothing changed.
using Reloader = std::function<absl::StatusOr<std::string>()>;

class EngineApi : public http::Api {
 public:
  // `runner` must outlive it. `owner` and `reload` may be empty.
  EngineApi(runner::Runner* runner, std::string instance_id, OwnerLookup owner, Reloader reload);

  http::ApiAnswer Summary() override;
  http::ApiAnswer Account(const std::string& account_id) override;
  http::ApiAnswer Reload() override;

 private:
  runner::Runner* runner_;
  std::string instance_id_;
  OwnerLookup owner_;
  Reloader reload_;
};

// Re-reads the config at `path`; when it is valid, its decision part (rules,
// journey, policies...) goes in force on `runner` between two transactions;
// runtime settings (Kafka, state, HTTP) take effect at the next start. Each
// attempt is counted in demandcenter_config_reloads_total{result} and
// logged; the rules in force stay on any error (InvalidArgument: the
// config's problems, one per line).
absl::StatusOr<std::string> ReloadConfig(const std::string& path, runner::Runner* runner, metrics::Metrics* metrics);

// The bearer token of http.token_env / http.token_file ("" when neither is
// set). Errors name the variable or file, never the token.
absl::StatusOr<std::string> ReadHttpToken(const config::HttpConfig& http);

}  // namespace demandcenter::api

#endif  // DEMANDCENTER_API_ENGINE_API_H_
