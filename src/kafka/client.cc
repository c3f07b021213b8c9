// Client configuration and creation for the Kafka adapters.
#include "src/kafka/client.h"


#include "demandcenter/common/log.h"
#include "demandcenter/common/strings.h"

namespace demandcenter::kafka {
namespace {

absl::Status Set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
    const std::string& shown = IsSecretProperty(key) ? "(secret, not shown)" : value;
    return absl::InvalidArgumentError(StrCat("Kafka client setting ", key, "=", shown, ": ", err));
  }
  return absl::OkStatus();
}

// librdkafka before 2.6.1 repeats the client nonce in SCRAM's
// client-final-message, which Kafka 4.x brokers refuse (RFC 5802's strict
// check; confluentinc/librdkafka#4895).
constexpr int kScramWithKafka4Version = 0x020601ff;

}  // namespace

absl::StatusOr<rd_kafka_conf_t*> NewConf(const ClientSettings& settings,
                                         const std::vector<std::pair<std::string, std::string>>& extra,
                                         void* opaque) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  (void)Set(conf, "bootstrap.servers", settings.bootstrap_servers);
  (void)Set(conf, "client.id", settings.client_id);
  for (const auto& [k, v] : settings.security) {
    absl::Status s = Set(conf, k, v);
    if (!s.ok()) {
      rd_kafka_conf_destroy(conf);
      return s;
    }
  }
  for (const auto& [k, v] : settings.properties) {
    absl::Status s = Set(conf, k, v);
    if (!s.ok()) LogLine(std::string(s.message()));
  }
  for (const auto& [k, v] : extra) {
    absl::Status s = Set(conf, k, v);
    if (!s.ok()) {
      rd_kafka_conf_destroy(conf);
      return s;
    }
  }
  if (opaque != nullptr) rd_kafka_conf_set_opaque(conf, opaque);
  return conf;
}

absl::StatusOr<KafkaPtr> NewClient(rd_kafka_type_t type, rd_kafka_conf_t* conf, std::string_view what) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof(err));  // takes the conf on success
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(StrCat("creating ", what, ": ", err));
  }
  return KafkaPtr(rk);
}

rd_kafka_resp_err_t QueryTopic(rd_kafka_t* rk, const std::string& topic, int timeout_ms, int* partitions) {
  *partitions = 0;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  if (rkt == nullptr) return rd_kafka_last_error();
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
  rd_kafka_topic_destroy(rkt);
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    *partitions = md->topics[0].partition_cnt;
  }
  if (md != nullptr) rd_kafka_metadata_destroy(md);
  return e;
}

std::string ErrorText(const rd_kafka_error_t* e) { return StrCat(rd_kafka_error_name(e), ": ", rd_kafka_error_string(e)); }

std::string AuthenticationFailure(const ClientSettings& settings, std::string_view reason) {
  std::string text = StrCat("Kafka refused the credentials (", settings.security_summary, "): ",
                            WithoutSecrets(std::string(reason), settings.security));
  if (settings.sasl_mechanism.rfind("SCRAM", 0) == 0 && rd_kafka_version() < kScramWithKafka4Version) {
    text += StrCat(". If the password is right: librdkafka ", rd_kafka_version_str(),
                   " cannot log in with SCRAM to Kafka 4.x brokers (fixed in librdkafka 2.6.1)");
  }
  return text;
}


}  // namespace demandcenter::kafka
