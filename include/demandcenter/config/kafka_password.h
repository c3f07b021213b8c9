// The Kafka password of kafka.security, read when an instance starts (never
// from the config file itself): from the environment variable password_env
// or the file password_file. Errors name the variable or the file, never
// the secret.
#ifndef DEMANDCENTER_CONFIG_KAFKA_PASSWORD_H_
#define DEMANDCENTER_CONFIG_KAFKA_PASSWORD_H_

#include <string>

#include "absl/status/statusor.h"
#include "demandcenter/config/runtime_config.h"

namespace demandcenter::config {

// The password; "" when the protocol uses no SASL. A file's one trailing
// newline (LF or CRLF) is not part of it. Errors (kFailedPrecondition): the
// variable is not set or empty; the file cannot be read, is not a regular
// file, is empty or larger than 64 KiB.
absl::StatusOr<std::string> ReadKafkaPassword(const KafkaSecurity& security);

}  // namespace demandcenter::config

#endif  // DEMANDCENTER_CONFIG_KAFKA_PASSWORD_H_
