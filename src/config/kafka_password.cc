// ReadKafkaPassword: the SASL password from an environment variable or a
// file, at start-up. No message says anything of the secret.
#include "demandcenter/config/kafka_password.h"

#include <cstdlib>

#include "absl/status/status.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/config/secret_file.h"

namespace demandcenter::config {

absl::StatusOr<std::string> ReadKafkaPassword(const KafkaSecurity& security) {
  if (!security.UsesSasl()) return std::string();
  if (!security.password_env.empty()) {
    const char* value = std::getenv(security.password_env.c_str());
    if (value == nullptr) {
      return absl::FailedPreconditionError(StrCat("kafka.security.password_env: the environment variable ",
                                                  security.password_env, " is not set (it holds the password of ",
                                                  "Kafka user ", security.username, ")"));
    }
    if (*value == '\0') {
      return absl::FailedPreconditionError(StrCat("kafka.security.password_env: the environment variable ",
                                                  security.password_env, " is empty"));
    }
    return std::string(value);
  }
  if (!security.password_file.empty()) {
    return ReadSecretFile(security.password_file, "kafka.security.password_file", "password");
  }
  return absl::FailedPreconditionError(StrCat("kafka.security: protocol ", security.protocol,
                                              " needs password_env or password_file"));
}

}  // namespace demandcenter::config
