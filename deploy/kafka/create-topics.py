#!/usr/bin/python3
"""Creates every Kafka topic Demand Center needs, from its config file.

    /usr/bin/python3 deploy/kafka/create-topics.py --config deploy/config/demandcenter.yaml \\
        --partitions 12 --replication 3 [--bootstrap-servers HOST:PORT] [--dlq-retention 14d]

Topics (names from the config's kafka.topics; the engine's defaults for keys
it leaves out):
  - the signal topics (kafka.topics.signals and signals_by_type),
  - the outputs: nba, routing, prompts, transitions, identity_conflicts,
  - the dead-letter topic (dlq), with a retention (--dlq-retention),
  - the sales-team directory (reps), compacted,
  - <application_id>-state-changelog, compacted,
  - <application_id>-identity-repartition (one partition: the identity
    task's input) and <application_id>-account-repartition, used with
    identity.scope global.
Every topic but the identity task's gets --partitions partitions (the signal
topics, the changelog and account-repartition must have the same count:
partition p of each is one task) and
--replication replicas; with 3 or more replicas, min.insync.replicas=2.

Idempotent: topics that exist are left alone and listed; a second run
creates nothing and says so. An existing topic with another partition
count, or a changelog/directory topic that is not compacted, is reported
as an error (exit 1): the engine cannot run on it as it is.

Exit codes: 0 every topic exists as asked; 1 a topic could not be created,
an existing one does not fit, or the cluster did not answer within
--timeout seconds; 2 bad arguments or an unreadable config file.

Needs Debian's python3-confluent-kafka and python3-yaml (run it with
/usr/bin/python3)."""

import argparse
import logging
import re
import sys

try:
    import yaml
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic
except ImportError as e:  # pragma: no cover - depends on the machine
    sys.exit(f"create-topics: error: {e}; install the Debian packages python3-confluent-kafka and "
             "python3-yaml and run this with /usr/bin/python3")

# The engine's defaults (include/demandcenter/config/runtime_config.h).
DEFAULT_APPLICATION_ID = "demandcenter"
DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
DEFAULT_TOPICS = {
    "signals": ["signals.web", "signals.email", "signals.crm"],
    "dlq": "signals.dlq",
    "nba": "actions.nba",
    "routing": "actions.routing",
    "prompts": "crm.prompts",
    "transitions": "journey.transitions",
    "identity_conflicts": "identity.conflicts",
    "reps": "routing.reps",
}
OUTPUT_KEYS = ("nba", "routing", "prompts", "transitions", "identity_conflicts")

EXIT_OK, EXIT_CLUSTER, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


def parse_duration_ms(text):
    """'14d', '12h', '30m', '45s', '500ms' or a plain number of ms -> ms."""
    m = re.fullmatch(r"\s*(\d+)\s*(ms|s|m|h|d|w)?\s*", str(text))
    if not m:
        raise argparse.ArgumentTypeError(f"'{text}' is not a duration like 14d, 12h, 30m, 45s or 500ms")
    unit = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}[m.group(2) or "ms"]
    value = int(m.group(1)) * unit
    if value <= 0:
        raise argparse.ArgumentTypeError("a retention must be positive")
    return value


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _string(value, where):
    if not isinstance(value, str) or not value:
        raise UsageError(f"{where} must be a non-empty string, not {value!r}")
    return value


def topics_from_config(path):
    """Reads the config file: (application_id, bootstrap_servers, {role: [topics]})."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except OSError as e:
        raise UsageError(f"cannot read the config file {path}: {e.strerror}")
    except yaml.YAMLError as e:
        raise UsageError(f"{path} is not valid YAML: {e}")
    if not isinstance(doc, dict):
        raise UsageError(f"{path} is not a Demand Center config (its top level is not a map)")
    application_id = _string(doc.get("application_id", DEFAULT_APPLICATION_ID), f"{path}: application_id")
    kafka = doc.get("kafka") or {}
    if not isinstance(kafka, dict):
        raise UsageError(f"{path}: kafka must be a map")
    bootstrap = _string(kafka.get("bootstrap_servers", DEFAULT_BOOTSTRAP), f"{path}: kafka.bootstrap_servers")
    configured = kafka.get("topics") or {}
    if not isinstance(configured, dict):
        raise UsageError(f"{path}: kafka.topics must be a map")

    signals = configured.get("signals", DEFAULT_TOPICS["signals"])
    if isinstance(signals, str):
        signals = [signals]
    if not isinstance(signals, list) or not signals:
        raise UsageError(f"{path}: kafka.topics.signals must be a list of topics")
    signals = [_string(t, f"{path}: kafka.topics.signals") for t in signals]
    by_type = configured.get("signals_by_type") or {}
    if not isinstance(by_type, dict):
        raise UsageError(f"{path}: kafka.topics.signals_by_type must be a map")
    for prefix, topic in by_type.items():
        topic = _string(topic, f"{path}: kafka.topics.signals_by_type.{prefix}")
        if topic not in signals:
            signals.append(topic)  # the engine refuses this config; create it anyway

    roles = {"signals": signals}
    for key in ("dlq", "reps") + OUTPUT_KEYS:
        roles[key] = [_string(configured.get(key, DEFAULT_TOPICS[key]), f"{path}: kafka.topics.{key}")]
    roles["changelog"] = [f"{application_id}-state-changelog"]
    roles["identity_repartition"] = [f"{application_id}-identity-repartition"]
    roles["account_repartition"] = [f"{application_id}-account-repartition"]
    return application_id, bootstrap, roles


def plan(roles, partitions, replication, dlq_retention_ms):
    """{topic: (partitions, replication, configs, compacted)} in creation order."""
    isr = {"min.insync.replicas": "2"} if replication >= 3 else {}
    wanted = {}

    def add(topic, extra=None, compacted=False, count=partitions):
        if topic in wanted:
            # One topic named for two roles: compaction or retention wins.
            _, _, configs, was_compacted = wanted[topic]
            configs.update(extra or {})
            wanted[topic] = (count, replication, configs, was_compacted or compacted)
            return
        wanted[topic] = (count, replication, {**isr, **(extra or {})}, compacted)

    for t in roles["signals"]:
        add(t)
    for key in OUTPUT_KEYS:
        add(roles[key][0])
    add(roles["dlq"][0], {"retention.ms": str(dlq_retention_ms)})
    add(roles["reps"][0], {"cleanup.policy": "compact"}, compacted=True)
    add(roles["changelog"][0], {"cleanup.policy": "compact"}, compacted=True)
    add(roles["identity_repartition"][0], count=1)
    add(roles["account_repartition"][0])
    return wanted


def quiet_logger():
    """librdkafka's own connection errors are summed up by this script's messages."""
    logger = logging.getLogger("create-topics.librdkafka")
    logger.addHandler(logging.NullHandler())
    logger.propagate = False
    return logger


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="create-topics.py",
        description="Create the Kafka topics of a Demand Center config (idempotent).")
    parser.add_argument("--config", required=True, help="the engine's YAML config")
    parser.add_argument("--partitions", type=positive_int, required=True,
                        help="partitions of every topic (the signal topics and the changelog must match)")
    parser.add_argument("--replication", "--replication-factor", dest="replication", type=positive_int,
                        required=True, help="replicas of every topic (3 on a production cluster)")
    parser.add_argument("--bootstrap-servers", help="brokers (default: the config's kafka.bootstrap_servers)")
    parser.add_argument("--dlq-retention", type=parse_duration_ms, default=parse_duration_ms("14d"),
                        help="retention of the dead-letter topic (default 14d)")
    parser.add_argument("--timeout", type=float, default=15.0,
                        help="seconds to wait for the cluster to answer each request (default 15)")
    parser.add_argument("--command-config", action="append", default=[], metavar="KEY=VALUE",
                        help="extra librdkafka client setting (security.protocol=SSL, sasl.*, ...); repeatable")
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return EXIT_USAGE if e.code else EXIT_OK

    try:
        application_id, bootstrap, roles = topics_from_config(args.config)
    except UsageError as e:
        print(f"create-topics: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    bootstrap = args.bootstrap_servers or bootstrap
    client = {"bootstrap.servers": bootstrap, "logger": quiet_logger()}
    for setting in args.command_config:
        key, sep, value = setting.partition("=")
        if not sep or not key:
            print(f"create-topics: error: --command-config wants KEY=VALUE, not '{setting}'", file=sys.stderr)
            return EXIT_USAGE
        client[key] = value
    wanted = plan(roles, args.partitions, args.replication, args.dlq_retention)

    try:
        admin = AdminClient(client)
        metadata = admin.list_topics(timeout=args.timeout)
    except KafkaException as e:
        print(f"create-topics: error: the Kafka cluster at {bootstrap} did not answer within "
              f"{args.timeout:g} s ({e.args[0].str() if e.args and hasattr(e.args[0], 'str') else e})",
              file=sys.stderr)
        return EXIT_CLUSTER
    brokers = len(metadata.brokers)
    if args.replication > brokers:
        print(f"create-topics: error: --replication {args.replication} but the cluster at {bootstrap} "
              f"has {brokers} broker(s)", file=sys.stderr)
        return EXIT_CLUSTER

    print(f"create-topics: {application_id} on {bootstrap} ({brokers} broker(s)): {len(wanted)} topics, "
          f"{args.partitions} partitions, replication {args.replication}")
    problems = []
    existing = {}
    for topic, (partitions, _, _, compacted) in wanted.items():
        meta = metadata.topics.get(topic)
        if meta is None or meta.error is not None:
            continue
        have = len(meta.partitions)
        existing[topic] = have
        if have != partitions:
            problems.append(f"{topic} exists with {have} partitions, not {partitions}")
        else:
            print(f"exists: {topic} ({have} partitions)")

    # Topics that must be compacted: check the existing ones.
    must_compact = [t for t in existing if wanted[t][3]]
    if must_compact:
        try:
            futures = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, t) for t in must_compact],
                                             request_timeout=args.timeout)
            for resource, future in futures.items():
                policy = future.result().get("cleanup.policy")
                value = policy.value if policy is not None else ""
                if "compact" not in (value or "").split(","):
                    problems.append(f"{resource.name} exists with cleanup.policy={value or '?'}; it must be compacted")
        except KafkaException as e:
            problems.append(f"could not read the configs of {', '.join(must_compact)}: {e}")

    to_create = [NewTopic(t, p, r, config=c) for t, (p, r, c, _) in wanted.items() if t not in existing]
    created = 0
    if to_create:
        futures = admin.create_topics(to_create, operation_timeout=args.timeout, request_timeout=args.timeout)
        for topic, future in futures.items():
            partitions, replication, configs, _ = wanted[topic]
            try:
                future.result()
                created += 1
                shown = ", ".join(f"{k}={v}" for k, v in sorted(configs.items()))
                print(f"created: {topic} ({partitions} partitions, replication {replication}"
                      f"{', ' + shown if shown else ''})")
            except KafkaException as e:
                err = e.args[0]
                if hasattr(err, "code") and err.code() == err.TOPIC_ALREADY_EXISTS:
                    # Created meanwhile by someone else: it exists now.
                    print(f"exists: {topic} (created meanwhile)")
                    continue
                problems.append(f"could not create {topic}: {err.str() if hasattr(err, 'str') else err}")

    for p in problems:
        print(f"create-topics: error: {p}", file=sys.stderr)
    if problems:
        print(f"create-topics: {created} topic(s) created; {len(problems)} problem(s) above "
              "(the signal topics and the changelog must share one partition count; a topic's "
              "partitions cannot be changed without moving its keys)", file=sys.stderr)
        return EXIT_CLUSTER
    if created:
        print(f"create-topics: created {created} topic(s); {len(existing)} existed already")
    else:
        print(f"create-topics: nothing to create: all {len(wanted)} topics exist")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
