package demandcenter.peer;

import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * Event time (occurred_at) is the record's Kafka Streams timestamp, so a task merges its
 * input topics by event time, as the engine does. A record Kafka Streams should drop gets a
 * negative timestamp (Kafka Streams skips those before they reach the processor):
 *
 * <ul>
 *   <li>undecodable or missing a required field (and, for the peer, missing account_id);
 *   <li>EVENT_TIME_AHEAD: occurred_at more than {@link DefaultConfig#MAX_AHEAD_MS} after the
 *       record's own timestamp.
 * </ul>
 *
 * The engine's other event-time check (EVENT_TIME_LATE) needs the partition's stream time
 * and is made by the processor.
 */
public final class EventTimeExtractor implements TimestampExtractor {
  static final AtomicLong MALFORMED = new AtomicLong();
  static final AtomicLong AHEAD = new AtomicLong();

  @Override
  public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
    Stats.sawRecord();
    Object v = record.value();
    if (!(v instanceof Signal s) || s.error != null) {
      MALFORMED.incrementAndGet();
      return -1;
    }
    long recordMs = record.timestamp();
    if (recordMs > 0 && s.occurredAtMs - recordMs > DefaultConfig.MAX_AHEAD_MS && !s.type.equals("privacy.erase")) {
      AHEAD.incrementAndGet();
      return -1;
    }
    return s.occurredAtMs;
  }
}
