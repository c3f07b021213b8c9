// kafka.security -> librdkafka properties; descriptions and redaction that
// keep the password out of every log line and message.
#include "demandcenter/kafka/security.h"

#include "absl/strings/str_replace.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/config/kafka_password.h"

namespace demandcenter::kafka {

absl::StatusOr<ClientProperties> SecurityProperties(const config::KafkaSecurity& security) {
  ClientProperties p;
  if (security.protocol == "plaintext") return p;
  p.emplace_back("security.protocol", security.protocol);
  if (security.UsesSasl()) {
    absl::StatusOr<std::string> password = config::ReadKafkaPassword(security);
    if (!password.ok()) return password.status();
    p.emplace_back("sasl.mechanisms", security.sasl_mechanism);
    p.emplace_back("sasl.username", security.username);
    p.emplace_back("sasl.password", std::move(*password));
  }
  for (auto [key, value] : {std::pair{"ssl.ca.location", &security.ca_location},
                            {"ssl.certificate.location", &security.certificate_location},
                            {"ssl.key.location", &security.key_location}}) {
    if (!value->empty()) p.emplace_back(key, *value);
  }
  return p;
}

bool IsSecretProperty(std::string_view name) {
  return name.find("password") != std::string_view::npos || name.find("secret") != std::string_view::npos ||
         name == "ssl.key.pem" || name == "ssl_key";
}

std::string DescribeSecurity(const config::KafkaSecurity& security) {
  std::string text = security.protocol;
  if (security.UsesSasl()) {
    text += StrCat(", ", security.sasl_mechanism, " as user ", security.username, ", password from ",
                   security.password_env.empty() ? StrCat("file ", security.password_file)
                                                 : StrCat("$", security.password_env));
  }
  if (!security.ca_location.empty()) text += StrCat(", CA ", security.ca_location);
  if (!security.certificate_location.empty()) text += StrCat(", client certificate ", security.certificate_location);
  return text;
}

std::string WithoutSecrets(std::string text, const ClientProperties& properties) {
  for (const auto& [name, value] : properties) {
    if (IsSecretProperty(name) && !value.empty()) absl::StrReplaceAll({{value, "***"}}, &text);
  }
  return text;
}

}  // namespace demandcenter::kafka
