package demandcenter.peer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.state.Stores;

/**
 * The peer's main class: builds the topology, runs it, and (with --exit-when-consumed) exits
 * once its committed input offsets reach the end of the input and stay there, printing
 * {@code peer: N records in S s}.
 */
public final class PeerApp {
  private static final String USAGE = String.join("\n",
      "Usage: java -jar kafka-streams-peer.jar [options]",
      "  --bootstrap-servers HOSTS   Kafka bootstrap servers (default 127.0.0.1:9092)",
      "  --application-id ID         Kafka Streams application id: consumer group, changelog prefix",
      "                              (default demandcenter-peer)",
      "  --input-topics T1,T2,...    signal topics, co-partitioned, keyed by account_id",
      "                              (default signals.web,signals.email,signals.crm)",
      "  --transitions-topic T       stage transitions out (default journey.transitions)",
      "  --nba-topic T               next best actions out (default actions.nba)",
      "  --commit-interval-ms MS     commit.interval.ms (default 100, the engine's kafka.commit_interval)",
      "  --threads N                 num.stream.threads (default 1)",
      "  --state-dir DIR             state.dir for the RocksDB stores (default /tmp/kafka-streams-peer)",
      "  --max-task-idle-ms MS       max.task.idle.ms (default 0, the engine's kafka.max_task_idle)",
      "  --exit-when-consumed        exit when the committed offsets of the application id reach",
      "                              the input's end offsets and stay there for --settle-ms;",
      "                              prints 'peer: N records in S s' (first record seen to the",
      "                              commit of the last)",
      "  --settle-ms MS              how long the input must stay consumed (default 2000)",
      "  --timeout-s S               with --exit-when-consumed: give up (exit 3) after S seconds",
      "                              (default 0: never)",
      "  --clean                     delete this application id's local state before starting",
      "  --config K=V                any other Kafka Streams/client property (repeatable)");

  public static void main(String[] argv) throws Exception {
    Map<String, String> opt = new HashMap<>();
    List<String> extra = new ArrayList<>();
    Set<String> flags = Set.of("--exit-when-consumed", "--clean", "--help", "-h");
    for (int i = 0; i < argv.length; i++) {
      String a = argv[i];
      if (flags.contains(a)) {
        opt.put(a, "true");
      } else if (a.startsWith("--") && i + 1 < argv.length) {
        if (a.equals("--config")) extra.add(argv[++i]);
        else opt.put(a, argv[++i]);
      } else {
        System.err.println("peer: unknown argument " + a + "\n" + USAGE);
        System.exit(2);
      }
    }
    if (opt.containsKey("--help") || opt.containsKey("-h")) {
      System.out.println(USAGE);
      return;
    }
    String bootstrap = opt.getOrDefault("--bootstrap-servers", "127.0.0.1:9092");
    String appId = opt.getOrDefault("--application-id", "demandcenter-peer");
    List<String> inputs = Arrays.asList(opt.getOrDefault("--input-topics",
        "signals.web,signals.email,signals.crm").split(","));
    String transitionsTopic = opt.getOrDefault("--transitions-topic", "journey.transitions");
    String nbaTopic = opt.getOrDefault("--nba-topic", "actions.nba");
    long commitMs = Long.parseLong(opt.getOrDefault("--commit-interval-ms", "100"));
    int threads = Integer.parseInt(opt.getOrDefault("--threads", "1"));
    String stateDir = opt.getOrDefault("--state-dir", "/tmp/kafka-streams-peer");
    long idleMs = Long.parseLong(opt.getOrDefault("--max-task-idle-ms", "0"));
    boolean exitWhenConsumed = opt.containsKey("--exit-when-consumed");
    long settleMs = Long.parseLong(opt.getOrDefault("--settle-ms", "2000"));
    long timeoutS = Long.parseLong(opt.getOrDefault("--timeout-s", "0"));

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitMs);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
    props.put(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, idleMs);
    props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
    // No global state here; set only to silence Kafka Streams 4.4's start-up warning about it.
    props.put("processing.exception.handler.global.enabled", "true");
    for (String kv : extra) {
      int eq = kv.indexOf('=');
      if (eq <= 0) {
        System.err.println("peer: --config takes K=V, not " + kv);
        System.exit(2);
      }
      props.put(kv.substring(0, eq), kv.substring(eq + 1));
    }

    Properties adminProps = new Properties();
    adminProps.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (Admin admin = Admin.create(adminProps)) {
      int partitions = ensureTopics(admin, inputs, List.of(transitionsTopic, nbaTopic));
      System.err.printf("peer: %s reading %s (%d partitions) -> %s, %s; exactly_once_v2, commit %d ms, %d thread(s)%n",
          appId, String.join(",", inputs), partitions, transitionsTopic, nbaTopic, commitMs, threads);

      KafkaStreams streams = new KafkaStreams(topology(inputs, transitionsTopic, nbaTopic), props);
      if (opt.containsKey("--clean")) streams.cleanUp();
      CountDownLatch stopped = new CountDownLatch(1);
      int[] exit = {0};
      streams.setUncaughtExceptionHandler(e -> {
        System.err.println("peer: stream thread failed: " + e);
        e.printStackTrace();
        exit[0] = 1;
        stopped.countDown();
        return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
      });
      streams.setStateListener((now, before) -> {
        if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) stopped.countDown();
      });
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        stopped.countDown();
        streams.close(Duration.ofSeconds(30));
      }));
      streams.start();
      if (exitWhenConsumed) {
        exit[0] = waitUntilConsumed(admin, appId, inputs, settleMs, timeoutS, stopped);
        streams.close(Duration.ofSeconds(30));
        System.exit(exit[0]);
      }
      stopped.await();
      streams.close(Duration.ofSeconds(30));
      System.exit(exit[0]);
    }
  }

  static Topology topology(List<String> inputs, String transitionsTopic, String nbaTopic) {
    Topology t = new Topology();
    t.addSource(org.apache.kafka.streams.AutoOffsetReset.earliest(), "signals", new EventTimeExtractor(), Serdes.String().deserializer(), new SignalSerde().deserializer(),
        inputs.toArray(new String[0]));
    t.addProcessor("journey", PeerProcessor::new, "signals");
    t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(PeerProcessor.ACCOUNTS),
        Serdes.String(), Serdes.ByteArray()).withCachingEnabled(), "journey");
    t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(PeerProcessor.TIMERS),
        Serdes.Bytes(), Serdes.ByteArray()).withCachingEnabled(), "journey");
    t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(PeerProcessor.META),
        Serdes.String(), Serdes.Long()).withCachingEnabled(), "journey");
    t.addSink(PeerProcessor.TRANSITIONS_SINK, transitionsTopic, Serdes.String().serializer(),
        Serdes.String().serializer(), "journey");
    t.addSink(PeerProcessor.NBA_SINK, nbaTopic, Serdes.String().serializer(), Serdes.String().serializer(),
        "journey");
    return t;
  }

  /** The input topics must exist and share a partition count; missing output topics get it too. */
  static int ensureTopics(Admin admin, List<String> inputs, List<String> outputs) throws Exception {
    Map<String, TopicDescription> in = admin.describeTopics(inputs).allTopicNames().get(30, TimeUnit.SECONDS);
    int partitions = -1;
    for (TopicDescription d : in.values()) {
      if (partitions >= 0 && d.partitions().size() != partitions) {
        throw new IllegalStateException("input topics are not co-partitioned: " + inputs);
      }
      partitions = d.partitions().size();
    }
    Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
    List<NewTopic> create = new ArrayList<>();
    for (String o : outputs) {
      // Output records carry their event time, which may be months old: time retention
      // would delete them at once, so these topics keep everything.
      if (!existing.contains(o)) {
        create.add(new NewTopic(o, partitions, (short) -1).configs(Map.of("retention.ms", "-1")));
      }
    }
    if (!create.isEmpty()) {
      try {
        admin.createTopics(create).all().get(30, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) throw e;
      }
    }
    return partitions;
  }

  /**
   * Polls the application id's committed offsets against the input's end offsets. Under
   * exactly_once_v2 offsets are committed in the same transaction as the outputs and state
   * changes, so "committed = end" means every input record's outputs are committed. Returns
   * the exit code.
   */
  static int waitUntilConsumed(Admin admin, String appId, List<String> inputs, long settleMs, long timeoutS,
                               CountDownLatch stopped) throws Exception {
    long start = System.nanoTime();
    List<TopicPartition> tps = new ArrayList<>();
    for (TopicDescription d : admin.describeTopics(inputs).allTopicNames().get(30, TimeUnit.SECONDS).values()) {
      d.partitions().forEach(p -> tps.add(new TopicPartition(d.name(), p.partition())));
    }
    Map<TopicPartition, Long> earliest = offsets(admin, tps, OffsetSpec.earliest());
    long doneAt = 0;
    Map<TopicPartition, Long> doneEnds = null;
    while (true) {
      if (stopped.getCount() == 0) {
        System.err.println("peer: stopped before the input was consumed");
        return 1;
      }
      if (timeoutS > 0 && System.nanoTime() - start > TimeUnit.SECONDS.toNanos(timeoutS)) {
        System.err.println("peer: timed out before the input was consumed");
        return 3;
      }
      Map<TopicPartition, Long> ends = offsets(admin, tps, OffsetSpec.latest());
      Map<TopicPartition, OffsetAndMetadata> committed =
          admin.listConsumerGroupOffsets(appId).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
      boolean consumed = true;
      for (TopicPartition tp : tps) {
        OffsetAndMetadata c = committed.get(tp);
        long at = c == null ? earliest.get(tp) : c.offset();
        if (at < ends.get(tp)) consumed = false;
      }
      if (consumed && Stats.FIRST_RECORD_NANOS.get() == 0) {
        // Nothing left to read (an empty input, or one an earlier run consumed): nothing to time.
        Stats.FIRST_RECORD_NANOS.compareAndSet(0, System.nanoTime());
      }
      long now = System.nanoTime();
      if (!consumed || Stats.FIRST_RECORD_NANOS.get() == 0) {
        doneAt = 0;
        doneEnds = null;
      } else if (doneAt == 0 || !ends.equals(doneEnds)) {
        doneAt = now;
        doneEnds = ends;
      } else if (now - doneAt >= TimeUnit.MILLISECONDS.toNanos(settleMs)) {
        long records = 0;
        for (TopicPartition tp : tps) records += ends.get(tp) - earliest.get(tp);
        double seconds = (doneAt - Stats.FIRST_RECORD_NANOS.get()) / 1e9;
        System.out.printf("peer: %d records in %.3f s%n", records, seconds);
        System.out.printf("peer: %.0f records/s; applied %d, duplicates %d, late %d, dropped by the extractor"
                + " %d (malformed or no account_id) + %d (event time ahead), ignored %d; transitions %d"
                + " (inactivity timers %d), actions %d%n",
            seconds > 0 ? records / seconds : 0.0, Stats.APPLIED.get(), Stats.DUPLICATES.get(), Stats.LATE.get(),
            EventTimeExtractor.MALFORMED.get(), EventTimeExtractor.AHEAD.get(), Stats.IGNORED.get(),
            Stats.TRANSITIONS.get(), Stats.TIMERS_FIRED.get(), Stats.ACTIONS.get());
        System.out.flush();
        return 0;
      }
      Thread.sleep(50);
    }
  }

  private static Map<TopicPartition, Long> offsets(Admin admin, List<TopicPartition> tps, OffsetSpec spec)
      throws Exception {
    Map<TopicPartition, OffsetSpec> ask = new LinkedHashMap<>();
    for (TopicPartition tp : tps) ask.put(tp, spec);
    Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> got =
        admin.listOffsets(ask).all().get(30, TimeUnit.SECONDS);
    Map<TopicPartition, Long> out = new HashMap<>();
    got.forEach((tp, info) -> out.put(tp, info.offset()));
    return out;
  }
}
