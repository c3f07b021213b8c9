// librdkafka handles and settings shared by the Kafka adapters. Private to
// src/kafka: rd_kafka types and errors go no further than this folder.
#ifndef DEMANDCENTER_SRC_KAFKA_CLIENT_H_
#define DEMANDCENTER_SRC_KAFKA_CLIENT_H_

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "demandcenter/common/log.h"
#include "demandcenter/kafka/security.h"

namespace demandcenter::kafka {

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

struct ErrorDeleter {
  void operator()(rd_kafka_error_t* e) const { rd_kafka_error_destroy(e); }
};
using KafkaError = std::unique_ptr<rd_kafka_error_t, ErrorDeleter>;

// What every client of one instance shares.
struct ClientSettings {
  std::string bootstrap_servers;
  // <application_id>-<instance_id>: client.id and transactional.id.
  std::string client_id;
  std::string application_id;
  // The consumer's client.id when it carries the advertised address
  // (group_owners.h); empty: client_id.
  std::string member_client_id;
  // Extra librdkafka properties for every client.
  std::vector<std::pair<std::string, std::string>> properties;
  // kafka.security (SecurityProperties), the password among them: set on
  // every client; one that librdkafka refuses is an error naming the
  // property, never showing a secret value.
  ClientProperties security;
  // DescribeSecurity and the SASL mechanism, for messages.
  std::string security_summary = "plaintext";
  std::string sasl_mechanism;
};

// A client configuration with the shared settings, `extra` on top and
// `opaque` for callbacks. Errors name the property.
absl::StatusOr<rd_kafka_conf_t*> NewConf(const ClientSettings& settings,
                                         const std::vector<std::pair<std::string, std::string>>& extra,
                                         void* opaque = nullptr);

// Creates a client; on failure the conf is destroyed and the error says
// which `what` ("the Kafka producer").
absl::StatusOr<KafkaPtr> NewClient(rd_kafka_type_t type, rd_kafka_conf_t* conf, std::string_view what);

// Asks the cluster for `topic`'s metadata (which also refreshes the client's
// leaders), waiting at most `timeout_ms`; sets `*partitions` to its
// partition count, 0 when the topic does not exist.
rd_kafka_resp_err_t QueryTopic(rd_kafka_t* rk, const std::string& topic, int timeout_ms, int* partitions);

// "NAME: description".
std::string ErrorText(const rd_kafka_error_t* e);

// The message for credentials a broker refused (`reason`, librdkafka's
// words, secrets removed), with a hint where this librdkafka is known not to
// log in.
std::string AuthenticationFailure(const ClientSettings& settings, std::string_view reason);

}  // namespace demandcenter::kafka

#endif  // DEMANDCENTER_SRC_KAFKA_CLIENT_H_
