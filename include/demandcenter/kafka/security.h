// kafka.security as librdkafka client properties, the password read at
// start-up (config::ReadKafkaPassword): what `run` sets on every client it
// creates — consumer, producers, restore and metadata clients — and what
// the demo's producer sets on a real cluster.
#ifndef DEMANDCENTER_KAFKA_SECURITY_H_
#define DEMANDCENTER_KAFKA_SECURITY_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "demandcenter/config/runtime_config.h"

namespace demandcenter::kafka {

using ClientProperties = std::vector<std::pair<std::string, std::string>>;

// security.protocol and, as configured, sasl.mechanisms, sasl.username,
// sasl.password, ssl.ca.location, ssl.certificate.location,
// ssl.key.location. Nothing for plaintext (librdkafka's default). Fails
// when the password cannot be read; the message names the variable or the
// file, never the secret.
absl::StatusOr<ClientProperties> SecurityProperties(const config::KafkaSecurity& security);

// Whether the librdkafka property `name` holds a secret: its value is never
// shown.
bool IsSecretProperty(std::string_view name);

// For logs and messages, never the password: "plaintext", "sasl_plaintext,
// SCRAM-SHA-256 as user demandcenter, password from $KAFKA_PASSWORD".
std::string DescribeSecurity(const config::KafkaSecurity& security);

// `text` with every secret value of `properties` replaced by "***" (for
// messages built from librdkafka's and the brokers' words).
std::string WithoutSecrets(std::string text, const ClientProperties& properties);

}  // namespace demandcenter::kafka

#endif  // DEMANDCENTER_KAFKA_SECURITY_H_
