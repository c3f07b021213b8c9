// Which member of the consumer group owns an account's partition, and how
// to reach it: each member's consumer client.id carries its advertised HTTP
// address ("<application_id>-<instance>@http://10.0.0.5:8080"), so the
// group's own description (DescribeConsumerGroups) says who answers for
// which partitions — the account queries' routing, as Kafka Streams shares
// its application.server through the group.
#ifndef DEMANDCENTER_SRC_KAFKA_GROUP_OWNERS_H_
#define DEMANDCENTER_SRC_KAFKA_GROUP_OWNERS_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "src/kafka/client.h"

namespace demandcenter::kafka {

// The consumer client.id of an instance: its client id and address.
std::string MemberClientId(const std::string& client_id, const std::string& advertised_address);

// Thread safe.
class GroupOwners {
 public:
  // `topic`: the first signal topic (partition p of every signal topic
  // belongs to one member).
  static absl::StatusOr<std::unique_ptr<GroupOwners>> Create(const ClientSettings& settings, std::string topic,
                                                             std::string self_member_client_id);

  // The advertised address of the other member owning `account_id`'s
  // partition (by the producers' murmur2 of the key); nullopt when nobody
  // else does, or the group cannot be asked within a few seconds.
  std::optional<std::string> OwnerOf(const std::string& account_id);

 private:
  GroupOwners(KafkaPtr client, std::string group, std::string topic, std::string self)
      : client_(std::move(client)), group_(std::move(group)), topic_(std::move(topic)), self_(std::move(self)) {}

  KafkaPtr client_;
  std::string group_;
  std::string topic_;
  std::string self_;
};

}  // namespace demandcenter::kafka

#endif  // DEMANDCENTER_SRC_KAFKA_GROUP_OWNERS_H_
