// kafka.security: the protocol, the SASL user and where its password is read
// from, the TLS files. A password written in the config itself is refused: it
// would sit in the file, its backups and version control.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"

#include "demandcenter/common/json_string.h"
#include "demandcenter/common/strings.h"
#include "src/config/section_parsers.h"

namespace demandcenter::config::internal {
namespace {

const std::vector<std::string> kProtocols = {"plaintext", "ssl", "sasl_plaintext", "sasl_ssl"};
const std::vector<std::string> kMechanisms = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"};
const std::vector<std::string> kSaslKeys = {"sasl_mechanism", "username", "password_env", "password_file"};
const std::vector<std::string> kTlsKeys = {"ca_location", "certificate_location", "key_location"};

// One of `known`, matched regardless of case; the known spelling.
std::optional<std::string> OneOf(YamlReader& reader, const YAML::Node& n, std::string_view what,
                                 const std::vector<std::string>& known) {
  auto v = reader.String(n, what);
  if (!v) return std::nullopt;
  for (const auto& k : known) {
    if (absl::EqualsIgnoreCase(*v, k)) return k;
  }
  std::string quoted;
  AppendJsonStringForMessage(*v, 64, &quoted);
  reader.Error(n, StrCat(what, " must be one of ", absl::StrJoin(known, ", "), ", got ", quoted, Suggest(*v, known)));
  return std::nullopt;
}

// A single value that is not empty.
std::optional<std::string> NonEmpty(YamlReader& reader, const YAML::Node& n, std::string_view what) {
  auto v = reader.String(n, what);
  if (v && v->empty()) {
    reader.Error(n, StrCat(what, " is empty"));
    return std::nullopt;
  }
  return v;
}

// A POSIX environment variable name: letters, digits and _, not starting
// with a digit.
bool IsEnvName(const std::string& s) {
  if (s.empty() || s.size() > 255 || (s[0] >= '0' && s[0] <= '9')) return false;
  return s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == std::string::npos;
}

// What each protocol needs and allows, once every key is read.
void CheckCombination(YamlReader& reader, const YAML::Node& s, const KafkaSecurity& security) {
  const std::string& protocol = security.protocol;
  if (security.UsesSasl()) {
    if (security.sasl_mechanism.empty() && !s["sasl_mechanism"]) {
      reader.Error(s, StrCat("kafka.security: protocol ", protocol, " needs sasl_mechanism (",
                             absl::StrJoin(kMechanisms, ", "), ")"));
    }
    if (security.username.empty() && !s["username"]) {
      reader.Error(s, StrCat("kafka.security: protocol ", protocol, " needs username"));
    }
    if (!s["password_env"] && !s["password_file"]) {
      reader.Error(s, StrCat("kafka.security: protocol ", protocol,
                             " needs the password's source: password_env (an environment variable) or "
                             "password_file (a file)"));
    } else if (s["password_env"] && s["password_file"]) {
      reader.Error(s["password_file"], "kafka.security: give password_env or password_file, not both");
    }
  } else {
    for (const auto& key : kSaslKeys) {
      if (auto n = s[key]) {
        reader.Error(n, StrCat("kafka.security.", key, " is only used with protocol sasl_plaintext or sasl_ssl ",
                               "(protocol is ", protocol, ")"));
      }
    }
  }
  if (!security.UsesTls()) {
    for (const auto& key : kTlsKeys) {
      if (auto n = s[key]) {
        reader.Error(n, StrCat("kafka.security.", key, " is only used with protocol ssl or sasl_ssl ",
                               "(protocol is ", protocol, ")"));
      }
    }
  } else if (static_cast<bool>(s["certificate_location"]) != static_cast<bool>(s["key_location"])) {
    reader.Error(s["certificate_location"] ? s["certificate_location"] : s["key_location"],
                 "kafka.security: a client certificate needs both certificate_location and key_location");
  }
}

}  // namespace

void ParseKafkaSecurity(YamlReader& reader, const YAML::Node& s, KafkaSecurity* security) {
  std::vector<std::string> allowed = {"protocol", "password"};
  allowed.insert(allowed.end(), kSaslKeys.begin(), kSaslKeys.end());
  allowed.insert(allowed.end(), kTlsKeys.begin(), kTlsKeys.end());
  if (!reader.ExpectMap(s, "kafka.security", allowed)) return;
  for (const auto& kv : s) {
    // Said without echoing the value.
    if (kv.first.Scalar() == "password") {
      reader.Error(kv.first, "kafka.security.password: a password is never written in the config (it would sit in "
                             "the file, its backups and version control); name the environment variable that "
                             "holds it with password_env, or the file with password_file");
    }
  }
  bool protocol_ok = true;
  if (auto n = s["protocol"]) {
    auto v = OneOf(reader, n, "kafka.security.protocol", kProtocols);
    protocol_ok = v.has_value();
    if (v) security->protocol = *v;
  }
  if (auto n = s["sasl_mechanism"]) {
    if (auto v = OneOf(reader, n, "kafka.security.sasl_mechanism", kMechanisms)) security->sasl_mechanism = *v;
  }
  if (auto n = s["username"]) {
    if (auto v = NonEmpty(reader, n, "kafka.security.username")) security->username = *v;
  }
  if (auto n = s["password_env"]) {
    // Not echoed either: a password written here by mistake.
    auto v = NonEmpty(reader, n, "kafka.security.password_env");
    if (v && !IsEnvName(*v)) {
      reader.Error(n, "kafka.security.password_env is the name of the environment variable that holds the "
                      "password (letters, digits and _, not starting with a digit), not the password itself");
    } else if (v) {
      security->password_env = *v;
    }
  }
  for (auto [key, field] : {std::pair{"password_file", &security->password_file},
                            {"ca_location", &security->ca_location},
                            {"certificate_location", &security->certificate_location},
                            {"key_location", &security->key_location}}) {
    if (auto n = s[key]) {
      if (auto v = NonEmpty(reader, n, StrCat("kafka.security.", key))) *field = *v;
    }
  }
  // With a protocol that is not known, what it needs is not known either.
  if (protocol_ok) CheckCombination(reader, s, *security);
}

}  // namespace demandcenter::config::internal
