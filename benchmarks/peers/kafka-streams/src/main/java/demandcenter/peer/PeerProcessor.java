package demandcenter.peer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The per-partition work, one instance per task (= one partition of every input topic):
 *
 * <ol>
 *   <li>EVENT_TIME_LATE: a signal more than 7 days behind the task's stream time is dropped;
 *   <li>stream time (the largest accepted event time) moves forward, and every inactivity
 *       timer due by then fires first, stamped at its due time, before the signal is applied;
 *   <li>dedup by event_id (7-day window, per account); score, contacts, counts, CRM facts;
 *   <li>the stage machine: transitions to the transitions topic;
 *   <li>the simple next best action to the nba topic;
 *   <li>the account's inactivity timer is (re)scheduled in the timer store.
 * </ol>
 *
 * State lives in three RocksDB stores (changelogged, so exactly_once_v2 restores it): accounts
 * (account id to {@link AccountState}), timers (due time big-endian + account id, for range
 * scans in due order) and meta (the task's stream time).
 *
 * <p>Why timers are checked here and not in a STREAM_TIME punctuator: Kafka Streams calls a
 * punctuator after the record that moved stream time has been processed, so that record
 * would be applied to an account whose timer it had already overtaken (an account going
 * dormant at T, then a click at T+1 day, would be handled in the wrong order). Checking the
 * timer store before each record that moves stream time gives the engine's order.
 */
final class PeerProcessor implements Processor<String, Signal, String, String> {
  static final String ACCOUNTS = "accounts";
  static final String TIMERS = "timers";
  static final String META = "meta";
  static final String TRANSITIONS_SINK = "transitions";
  static final String NBA_SINK = "nba";
  private static final String STREAM_TIME_KEY = "stream_time";

  private ProcessorContext<String, String> context;
  private KeyValueStore<String, byte[]> accounts;
  private KeyValueStore<Bytes, byte[]> timers;
  private KeyValueStore<String, Long> meta;
  private long streamTimeMs;
  /** The earliest due time in the timer store, or a lower bound of it (Long.MAX_VALUE: none). */
  private long nextDueMs = Long.MAX_VALUE;

  @Override
  public void init(ProcessorContext<String, String> context) {
    this.context = context;
    accounts = context.getStateStore(ACCOUNTS);
    timers = context.getStateStore(TIMERS);
    meta = context.getStateStore(META);
    Long stored = meta.get(STREAM_TIME_KEY);
    streamTimeMs = stored == null ? 0 : stored;
    nextDueMs = earliestDue();
  }

  @Override
  public void process(Record<String, Signal> record) {
    Signal s = record.value();
    Stats.PROCESSED.incrementAndGet();
    if (s == null || s.error != null) return; // the extractor drops these already
    switch (s.type) {
      case "identity.link":
        // Links identifiers only; the peer resolves no identity.
        Stats.IGNORED.incrementAndGet();
        return;
      case "privacy.erase":
        erase(s);
        return;
      default:
        break;
    }
    long at = s.occurredAtMs;
    if (streamTimeMs > 0 && streamTimeMs - at > DefaultConfig.MAX_LATE_MS) {
      Stats.LATE.incrementAndGet();
      return;
    }
    advanceStreamTime(at);

    String accountId = s.accountId;
    byte[] stored = accounts.get(accountId);
    AccountState a = stored == null ? AccountState.create(DefaultConfig.INITIAL_STAGE, at) : AccountState.fromBytes(stored);
    if (!Journey.recordEventId(s, a)) {
      Stats.DUPLICATES.incrementAndGet();
      return;
    }
    Stats.APPLIED.incrementAndGet();
    Journey.applySignal(s, a);
    List<Journey.Fired> fired = Journey.advance(s, a);
    List<String> entered = new ArrayList<>(fired.size());
    for (Journey.Fired f : fired) {
      entered.add(f.to());
      emitTransition(accountId, f, s.eventId, at);
    }
    decide(s, a, at, entered, at);
    schedule(accountId, a);
    accounts.put(accountId, a.toBytes());
  }

  /** privacy.erase naming only the account: its state and its timer go. (A person's erasure is not done.) */
  private void erase(Signal s) {
    if (!s.contactId.isEmpty() || !s.email.isEmpty() || !s.anonymousId.isEmpty()) {
      Stats.IGNORED.incrementAndGet();
      return;
    }
    byte[] stored = accounts.get(s.accountId);
    if (stored == null) return;
    AccountState a = AccountState.fromBytes(stored);
    if (a.inactivityDueMs > 0) timers.delete(timerKey(a.inactivityDueMs, s.accountId));
    accounts.delete(s.accountId);
  }

  private void decide(Signal s, AccountState a, long nowMs, List<String> entered, long timestampMs) {
    DefaultConfig.Rule rule = Journey.decide(s, a, nowMs, entered);
    if (rule == null) return;
    Stats.ACTIONS.incrementAndGet();
    context.forward(new Record<>(s.accountId, Outputs.action(s.accountId, s, rule, a.stage, nowMs), timestampMs),
        NBA_SINK);
  }

  private void emitTransition(String accountId, Journey.Fired f, String triggerEventId, long timestampMs) {
    Stats.TRANSITIONS.incrementAndGet();
    context.forward(new Record<>(accountId, Outputs.transition(accountId, f, triggerEventId), timestampMs),
        TRANSITIONS_SINK);
  }

  // ------------------------------------------------------------------ stream time and timers

  private void advanceStreamTime(long nowMs) {
    if (nowMs <= streamTimeMs) return;
    streamTimeMs = nowMs;
    meta.put(STREAM_TIME_KEY, streamTimeMs);
    while (nextDueMs <= streamTimeMs) {
      List<KeyValue<Bytes, byte[]>> due = new ArrayList<>();
      try (KeyValueIterator<Bytes, byte[]> it = timers.range(timerKey(0, ""), timerKey(streamTimeMs + 1, ""))) {
        while (it.hasNext()) due.add(it.next());
      }
      for (KeyValue<Bytes, byte[]> kv : due) {
        ByteBuffer key = ByteBuffer.wrap(kv.key.get());
        long dueMs = key.getLong();
        String accountId = new String(kv.key.get(), 8, kv.key.get().length - 8, StandardCharsets.UTF_8);
        timers.delete(kv.key);
        fireInactivity(accountId, dueMs);
      }
      nextDueMs = earliestDue();
    }
  }

  private void fireInactivity(String accountId, long dueMs) {
    byte[] stored = accounts.get(accountId);
    if (stored == null) return;
    AccountState a = AccountState.fromBytes(stored);
    if (a.inactivityDueMs != dueMs) return; // superseded
    a.inactivityDueMs = 0;
    Journey.Fired f = Journey.fireInactivity(a, dueMs);
    if (f != null) {
      Stats.TIMERS_FIRED.incrementAndGet();
      Signal tick = Signal.inactivityTick(accountId, f.transition().id(), dueMs);
      emitTransition(accountId, f, tick.eventId, f.atMs());
      decide(tick, a, f.atMs(), List.of(f.to()), f.atMs());
    }
    schedule(accountId, a);
    accounts.put(accountId, a.toBytes());
  }

  /** Keeps the account's single inactivity timer in the timer store at its next due time. */
  private void schedule(String accountId, AccountState a) {
    long due = Journey.nextInactivityDue(a);
    if (due == a.inactivityDueMs) return;
    if (a.inactivityDueMs > 0) timers.delete(timerKey(a.inactivityDueMs, accountId));
    a.inactivityDueMs = due;
    if (due > 0) {
      timers.put(timerKey(due, accountId), new byte[0]);
      nextDueMs = Math.min(nextDueMs, due);
    }
  }

  private long earliestDue() {
    try (KeyValueIterator<Bytes, byte[]> it = timers.all()) {
      return it.hasNext() ? ByteBuffer.wrap(it.next().key.get()).getLong() : Long.MAX_VALUE;
    }
  }

  /** Due time (8 bytes, big-endian: byte order is time order for times after 1970) + account id. */
  static Bytes timerKey(long dueMs, String accountId) {
    byte[] id = accountId.getBytes(StandardCharsets.UTF_8);
    return Bytes.wrap(ByteBuffer.allocate(8 + id.length).putLong(dueMs).put(id).array());
  }
}
