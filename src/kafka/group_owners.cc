#include "src/kafka/group_owners.h"

#include "demandcenter/common/hash.h"
#include "demandcenter/common/log.h"
#include "demandcenter/common/strings.h"

namespace demandcenter::kafka {
namespace {

constexpr int kTimeoutMs = 3000;

struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};
struct OptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); }
};

bool Holds(const rd_kafka_topic_partition_list_t* list, const std::string& topic, int32_t partition) {
  for (int i = 0; list != nullptr && i < list->cnt; ++i) {
    if (list->elems[i].partition == partition && topic == list->elems[i].topic) return true;
  }
  return false;
}

}  // namespace

std::string MemberClientId(const std::string& client_id, const std::string& advertised_address) {
  return StrCat(client_id, "@", advertised_address);
}

absl::StatusOr<std::unique_ptr<GroupOwners>> GroupOwners::Create(const ClientSettings& settings, std::string topic,
                                                                 std::string self_member_client_id) {
  auto conf = NewConf(settings, {{"client.id", StrCat(settings.client_id, "-queries")}});
  if (!conf.ok()) return conf.status();
  auto client = NewClient(RD_KAFKA_PRODUCER, *conf, "the Kafka client for account queries");
  if (!client.ok()) return client.status();
  return std::unique_ptr<GroupOwners>(
      new GroupOwners(std::move(*client), settings.application_id, std::move(topic), std::move(self_member_client_id)));
}

std::optional<std::string> GroupOwners::OwnerOf(const std::string& account_id) {
  int partitions = 0;
  if (QueryTopic(client_.get(), topic_, kTimeoutMs, &partitions) != RD_KAFKA_RESP_ERR_NO_ERROR || partitions <= 0) {
    return std::nullopt;
  }
  int32_t partition = static_cast<int32_t>((Murmur2(account_id) & 0x7fffffff) % static_cast<uint32_t>(partitions));
  std::unique_ptr<rd_kafka_queue_t, QueueDeleter> queue(rd_kafka_queue_new(client_.get()));
  std::unique_ptr<rd_kafka_AdminOptions_t, OptionsDeleter> options(
      rd_kafka_AdminOptions_new(client_.get(), RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS));
  char err[256];
  rd_kafka_AdminOptions_set_request_timeout(options.get(), kTimeoutMs, err, sizeof(err));
  const char* groups[] = {group_.c_str()};
  rd_kafka_DescribeConsumerGroups(client_.get(), groups, 1, options.get(), queue.get());
  std::unique_ptr<rd_kafka_event_t, EventDeleter> event(rd_kafka_queue_poll(queue.get(), kTimeoutMs + 1000));
  if (!event || rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
  const auto* result = rd_kafka_event_DescribeConsumerGroups_result(event.get());
  if (result == nullptr) return std::nullopt;
  size_t count = 0;
  const rd_kafka_ConsumerGroupDescription_t** descriptions =
      rd_kafka_DescribeConsumerGroups_result_groups(result, &count);
  for (size_t g = 0; g < count; ++g) {
    if (rd_kafka_ConsumerGroupDescription_error(descriptions[g]) != nullptr) continue;
    size_t members = rd_kafka_ConsumerGroupDescription_member_count(descriptions[g]);
    for (size_t m = 0; m < members; ++m) {
      const rd_kafka_MemberDescription_t* member = rd_kafka_ConsumerGroupDescription_member(descriptions[g], m);
      const auto* assignment = rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(member));
      if (!Holds(assignment, topic_, partition)) continue;
      std::string client_id = rd_kafka_MemberDescription_client_id(member);
      if (client_id == self_) return std::nullopt;
      size_t at = client_id.find('@');
      if (at == std::string::npos) return std::nullopt;
      return client_id.substr(at + 1);
    }
  }
  return std::nullopt;
}

}  // namespace demandcenter::kafka
