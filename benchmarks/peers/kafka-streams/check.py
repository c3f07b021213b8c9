#!/usr/bin/python3
"""Checks the Kafka Streams peer against Demand Center's own replay, on a real broker.

  1. generates signals (build/demandcenter generate) or takes --input, and keeps the
     ones the peer can handle: signals with an account_id (the peer does no identity
     resolution; a keyless signal would reach its account in the engine through identity
     and never in the peer), no identity.link or privacy.erase (the peer skips links and
     erases only whole accounts), and lines that are not a JSON object at all (both sides
     reject those);
  2. stamps every line with a record timestamp (its occurred_at, or the previous one's for
     a line without a readable one), writes the stamped file for replay
     ("<ms>\\t<json>", replay's topic-dump format) and produces the same records, keyed by
     account_id with Java's murmur2 partitioner, to fresh signal topics: one per type
     prefix as the config's kafka.topics.signals_by_type says (or one topic, --one-topic);
  3. runs the peer (java -jar target/kafka-streams-peer.jar ... --exit-when-consumed),
     which prints "peer: N records in S s";
  4. reads the peer's transitions and nba topics back, read_committed;
  5. runs `demandcenter replay --config C --input stamped --partitions P` on the same
     stamped lines and compares, per account and in order:
       transitions: (from_stage, to_stage, at, rule_id)
       nba:         (action, decided_at), as multisets per account (the peer's NBA is a
                    simplified form: see README.md)
     and exits 1 when any account's transitions differ (0 when all are equal).

Needs a broker: DEMANDCENTER_KAFKA_PORT=19192 DEMANDCENTER_KAFKA_DIR=/tmp/peer-kafka
deploy/local/kafka.sh start (see README.md). Run with /usr/bin/python3 (python3-confluent-kafka).
"""

import argparse
import collections
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
DEFAULT_JAR = os.path.join(HERE, "target", "kafka-streams-peer.jar")


def log(msg):
    print(f"check: {msg}", file=sys.stderr, flush=True)


def rfc3339_ms(text):
    """Milliseconds since the epoch of an RFC 3339 time ('...Z' or an offset), or None."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text or "")
    if not m:
        return None
    base = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    tz = m.group(3)
    offset = 0
    if tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        offset = sign * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60)
    seconds = int((base - datetime.datetime(1970, 1, 1)).total_seconds()) - offset
    frac = (m.group(2) or "0")[:3].ljust(3, "0")
    return seconds * 1000 + int(frac)


def signal_topics(config_path):
    """(signal topics in order, type prefix -> topic, transitions topic, nba topic) of the config."""
    topics = ["signals.web", "signals.email", "signals.crm"]
    by_type = {"web": "signals.web", "email": "signals.email", "crm": "signals.crm"}
    transitions, nba = "journey.transitions", "actions.nba"
    try:
        import yaml  # python3-yaml; the defaults above are the shipped config's otherwise

        with open(config_path) as f:
            k = (yaml.safe_load(f) or {}).get("kafka", {}).get("topics", {})
        topics = list(k.get("signals", topics))
        by_type = dict(k.get("signals_by_type", by_type if "signals" not in k else {}))
        transitions = k.get("transitions", transitions)
        nba = k.get("nba", nba)
    except ImportError:
        log("python3-yaml missing: assuming the shipped config's topic names")
    return topics, by_type, transitions, nba


def one_topic_config(config_path, out_path):
    """A copy of the config whose signals all come from one topic (textual edit of kafka.topics)."""
    text = open(config_path).read()
    text, n = re.subn(r"(?m)^(\s+)signals:\s*\[[^\]]*\]\s*$", r"\1signals: [signals.all]", text, count=1)
    if n != 1:
        sys.exit("check: --one-topic: no 'signals: [...]' line under kafka.topics in the config")
    text = re.sub(r"(?m)^\s+signals_by_type:\s*\{[^}]*\}\s*$\n?", "", text)
    with open(out_path, "w") as f:
        f.write(text)


def prepare_input(lines):
    """The lines the comparison uses, each as (record_ms, account_id or None, type or None, text)."""
    kept, dropped = [], collections.Counter()
    last_ms = None
    for line in lines:
        text = line.rstrip("\n")
        if not text.strip():
            continue
        try:
            d = json.loads(text)
        except ValueError:
            d = None
        if isinstance(d, dict):
            account = d.get("account_id", d.get("accountId"))
            if not isinstance(account, str) or not account:
                dropped["no account_id (identity resolution is not the peer's)"] += 1
                continue
            kind = d.get("type")
            if kind in ("identity.link", "privacy.erase"):
                dropped[f"{kind} (not implemented by the peer)"] += 1
                continue
            at = d.get("occurred_at", d.get("occurredAt"))
            ms = rfc3339_ms(at) if isinstance(at, str) else None
        else:
            account, kind, ms = None, None, None  # not a JSON object: both sides reject it
        if ms is None or ms <= 0:
            ms = last_ms if last_ms is not None else int(time.time() * 1000)
        last_ms = ms
        kept.append((ms, account, kind if isinstance(kind, str) else None, text))
    return kept, dropped


def perturb(records, share, seed):
    """Makes the engine's event-time checks and late-signal paths work: of `share` of the
    lines, a third get a record timestamp 2h before their event time (EVENT_TIME_AHEAD, the
    limit being 1h), two thirds move 20 to 3000 lines later in the file (arriving late: a
    late signal's decayed score and count, or EVENT_TIME_LATE past 7 days)."""
    import random

    rnd = random.Random(seed)
    out = list(records)
    moves = []
    for i in range(len(out)):
        if rnd.random() >= share:
            continue
        ms, account, kind, text = out[i]
        if rnd.random() < 1 / 3:
            out[i] = (ms - 2 * 3600 * 1000, account, kind, text)
        else:
            moves.append((i, rnd.randint(20, 3000)))
    for i, k in sorted(moves, reverse=True):
        rec = out.pop(i)
        out.insert(min(len(out), i + k), rec)
    return out


def admin_for(bootstrap):
    return AdminClient({"bootstrap.servers": bootstrap})


def create_topics(admin, names, partitions):
    # Event times are months old: time retention (24h on the local broker) would delete
    # the records within a minute, so these topics keep everything.
    new = [NewTopic(n, num_partitions=partitions, replication_factor=1, config={"retention.ms": "-1"})
           for n in names]
    for name, fut in admin.create_topics(new, operation_timeout=30).items():
        try:
            fut.result()
        except Exception as e:  # noqa: BLE001 - report and stop
            sys.exit(f"check: cannot create topic {name}: {e}")


def delete_topics(admin, prefixes):
    names = [t for t in admin.list_topics(timeout=30).topics if any(t.startswith(p) for p in prefixes)]
    if not names:
        return
    for _, fut in admin.delete_topics(names, operation_timeout=30).items():
        try:
            fut.result()
        except Exception:  # noqa: BLE001 - best effort
            pass


def produce(bootstrap, records, topic_of):
    p = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random", "enable.idempotence": True,
                  "linger.ms": 5, "queue.buffering.max.messages": 1000000})
    errors = []

    def report(err, _msg):
        if err is not None:
            errors.append(err)

    for ms, account, kind, text in records:
        topic = topic_of(kind)
        while True:
            try:
                p.produce(topic, value=text.encode(), key=account.encode() if account else None, timestamp=ms,
                          on_delivery=report)
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    left = p.flush(60)
    if left or errors:
        sys.exit(f"check: producing failed: {left} undelivered, errors {errors[:3]}")


def read_committed(bootstrap, topics, timeout_s=60):
    """Every record of the topics, per partition in offset order, as read_committed sees them."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"peer-check-reader-{uuid.uuid4().hex}",
                  "isolation.level": "read_committed", "enable.partition.eof": True,
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    md = c.list_topics(timeout=30)
    tps = [TopicPartition(t, p, 0) for t in topics for p in md.topics[t].partitions]
    c.assign(tps)
    pending = {(tp.topic, tp.partition) for tp in tps}
    out = []
    deadline = time.time() + timeout_s
    while pending and time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                pending.discard((m.topic(), m.partition()))
                continue
            sys.exit(f"check: reading {m.topic()}: {m.error()}")
        out.append((m.topic(), m.key().decode() if m.key() else "", json.loads(m.value())))
    c.close()
    if pending:
        sys.exit(f"check: could not read to the end of {sorted(pending)} in {timeout_s}s")
    return out


def transition_tuple(v):
    return (v.get("from_stage", ""), v.get("to_stage", ""), rfc3339_ms(v.get("at", "")), v.get("rule_id", ""))


def nba_tuple(v):
    return (v.get("action", ""), rfc3339_ms(v.get("decided_at", "")))


def compare_transitions(engine, peer):
    """(equal positions, accounts whose sequences differ (sorted), per account sequences)."""
    equal, differ = 0, []
    for account in sorted(set(engine) | set(peer)):
        e, p = engine.get(account, []), peer.get(account, [])
        equal += sum(1 for a, b in zip(e, p) if a == b)
        if e != p:
            differ.append(account)
    return equal, differ


def fmt_ms(ms):
    if ms is None:
        return "?"
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", default="127.0.0.1:19192", help="the broker (default: %(default)s)")
    ap.add_argument("--engine", default=os.path.join(REPO, "build", "demandcenter"))
    ap.add_argument("--config", default=os.path.join(REPO, "deploy", "config", "demandcenter.yaml"))
    ap.add_argument("--jar", default=DEFAULT_JAR)
    ap.add_argument("--input", help="signals (JSON lines) instead of generating them")
    ap.add_argument("--accounts", type=int, default=300)
    ap.add_argument("--signals", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--malformed", type=float, default=0.0, help="generate --malformed share (default 0)")
    ap.add_argument("--perturb", type=float, default=0.0,
                    help="share of lines made early-stamped (EVENT_TIME_AHEAD) or moved later (late)")
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--one-topic", action="store_true",
                    help="produce every signal to one topic (replay gets a copy of the config saying so)")
    ap.add_argument("--commit-interval-ms", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--peer-timeout-s", type=int, default=900)
    ap.add_argument("--kill-after-s", type=float, action="append", default=[],
                    help="kill -9 the peer this many seconds after its start, then start it again"
                         " (repeatable: one kill per value); the timing line is then the last run's")
    ap.add_argument("--workdir", help="keep files here (default: a temporary directory, removed)")
    ap.add_argument("--keep-topics", action="store_true", help="leave the run's topics on the broker")
    ap.add_argument("--show", type=int, default=5, help="differing accounts to print (default %(default)s)")
    args = ap.parse_args()

    for path, what in ((args.engine, "engine binary"), (args.config, "config")):
        if not os.path.exists(path):
            sys.exit(f"check: no {what} at {path}")
    if not os.path.exists(args.jar):
        log(f"{args.jar} missing: building it (mvn -q package -DskipTests)")
        subprocess.run(["mvn", "-q", "package", "-DskipTests"], cwd=HERE, check=True)

    workdir = args.workdir or tempfile.mkdtemp(prefix="peer-check-")
    os.makedirs(workdir, exist_ok=True)
    run = f"pc{int(time.time())}{os.getpid() % 1000}"
    app_id = f"{run}-peer"
    prefix = f"{run}."

    # 1. Input.
    config = args.config
    if args.input:
        with open(args.input) as f:
            raw = f.readlines()
    else:
        gen = os.path.join(workdir, "generated.jsonl")
        cmd = [args.engine, "generate", "--accounts", str(args.accounts), "--signals", str(args.signals),
               "--seed", str(args.seed), "--output", gen]
        if args.malformed > 0:
            cmd += ["--malformed", str(args.malformed)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(gen) as f:
            raw = f.readlines()
    records, dropped = prepare_input(raw)
    if args.perturb > 0:
        records = perturb(records, args.perturb, args.seed)
    print(f"input: {len(raw)} lines, {len(records)} kept for the comparison"
          + "".join(f"; left out {n}: {why}" for why, n in sorted(dropped.items())))

    # 2. Topics and records.
    if args.one_topic:
        config = os.path.join(workdir, "config-one-topic.yaml")
        one_topic_config(args.config, config)
    topics, by_type, transitions_name, nba_name = signal_topics(config)

    def topic_of(kind):
        prefix_of_type = kind.split(".", 1)[0] if kind else ""
        return prefix + by_type.get(prefix_of_type, topics[0])

    stamped = os.path.join(workdir, "stamped.jsonl")
    with open(stamped, "w") as f:
        for ms, _, _, text in records:
            f.write(f"{ms}\t{text}\n")

    admin = admin_for(args.bootstrap)
    in_topics = [prefix + t for t in topics]
    out_transitions, out_nba = prefix + transitions_name, prefix + nba_name
    create_topics(admin, in_topics + [out_transitions, out_nba], args.partitions)
    try:
        produce(args.bootstrap, records, topic_of)
        log(f"produced {len(records)} records to {', '.join(in_topics)} ({args.partitions} partitions)")

        # 3. The peer.
        peer_log = os.path.join(workdir, "peer.log")
        cmd = ["java", "-jar", args.jar, "--bootstrap-servers", args.bootstrap, "--application-id", app_id,
               "--input-topics", ",".join(in_topics), "--transitions-topic", out_transitions,
               "--nba-topic", out_nba, "--commit-interval-ms", str(args.commit_interval_ms),
               "--threads", str(args.threads), "--state-dir", os.path.join(workdir, "state"),
               "--exit-when-consumed", "--timeout-s", str(args.peer_timeout_s)]
        log("running the peer: " + " ".join(cmd))
        with open(peer_log, "w") as err:
            for kill_after in args.kill_after_s:
                # Exactly once across crashes: kill -9 mid-run, then start again on the same
                # application id and state directory.
                victim = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
                try:
                    victim.wait(timeout=kill_after)
                    log(f"the peer finished before its kill -9 at {kill_after}s")
                except subprocess.TimeoutExpired:
                    victim.kill()
                    victim.wait()
                    log(f"killed the peer (SIGKILL) after {kill_after}s; starting it again")
            peer = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        for line in peer.stdout.splitlines():
            print(line)
        if peer.returncode != 0:
            sys.stderr.write(open(peer_log).read()[-4000:])
            sys.exit(f"check: the peer exited {peer.returncode}")

        # 4. Its outputs.
        got = read_committed(args.bootstrap, [out_transitions, out_nba])
    finally:
        if not args.keep_topics:
            delete_topics(admin, [prefix, app_id + "-"])

    peer_tr, peer_nba = collections.defaultdict(list), collections.defaultdict(list)
    peer_nba_rules = {}
    for topic, key, v in got:
        account = v.get("account_id", key)
        if topic == out_transitions:
            peer_tr[account].append(transition_tuple(v))
        else:
            peer_nba[account].append(nba_tuple(v))
            peer_nba_rules[(account,) + nba_tuple(v)] = v.get("rule_id", "")

    # 5. The engine, offline, on the same stamped lines.
    replay_out = os.path.join(workdir, "replay.jsonl")
    replay_err = os.path.join(workdir, "replay.txt")
    with open(replay_err, "w") as err:
        rc = subprocess.run([args.engine, "replay", "--config", config, "--input", stamped, "--partitions",
                             str(args.partitions), "--output", replay_out], stderr=err).returncode
    if rc != 0:
        sys.stderr.write(open(replay_err).read()[-4000:])
        sys.exit(f"check: replay exited {rc}")
    summary = open(replay_err).read().splitlines()
    for line in summary:
        if line.startswith("replay:"):
            print(line)
    rejects = collections.Counter(m.group(1) for m in map(re.compile(r"^line \d+: ([A-Z_]+):").match, summary) if m)
    if rejects:
        print("replay rejected: " + ", ".join(f"{k}={v}" for k, v in sorted(rejects.items())))

    eng_tr, eng_nba = collections.defaultdict(list), collections.defaultdict(list)
    eng_nba_rules = {}
    with open(replay_out) as f:
        for line in f:
            o = json.loads(line)
            v = o["value"]
            if o["topic"] == transitions_name:
                eng_tr[v["account_id"]].append(transition_tuple(v))
            elif o["topic"] == nba_name:
                eng_nba[v["account_id"]].append(nba_tuple(v))
                eng_nba_rules[(v["account_id"],) + nba_tuple(v)] = v.get("rule_id", "")

    n_eng = sum(map(len, eng_tr.values()))
    n_peer = sum(map(len, peer_tr.values()))
    equal, differ = compare_transitions(eng_tr, peer_tr)
    print(f"transitions: {equal} of {n_eng} equal (peer wrote {n_peer}); accounts: {len(set(eng_tr) | set(peer_tr))},"
          f" differing {len(differ)}")
    for account in differ[: args.show]:
        print(f"  {account}:")
        e, p = eng_tr.get(account, []), peer_tr.get(account, [])
        for i in range(max(len(e), len(p))):
            a = e[i] if i < len(e) else None
            b = p[i] if i < len(p) else None
            mark = "  " if a == b else "!="

            def show(t):
                return "-" if t is None else f"{t[0]}->{t[1]} at {fmt_ms(t[2])} ({t[3]})"

            print(f"    {mark} engine {show(a)} | peer {show(b)}")

    # NBA: per account, multisets of (action, decided_at).
    n_eng_nba = sum(map(len, eng_nba.values()))
    n_peer_nba = sum(map(len, peer_nba.values()))
    common = 0
    only_engine, only_peer = collections.Counter(), collections.Counter()
    for account in set(eng_nba) | set(peer_nba):
        e = collections.Counter(eng_nba.get(account, []))
        p = collections.Counter(peer_nba.get(account, []))
        common += sum((e & p).values())
        for t, n in (e - p).items():
            only_engine[eng_nba_rules.get((account,) + t, "?")] += n
        for t, n in (p - e).items():
            only_peer[peer_nba_rules.get((account,) + t, "?")] += n

    def pct(a, b):
        return f"{100.0 * a / b:.1f}%" if b else "-"

    print(f"nba: {common} equal (account, action, decided_at); engine wrote {n_eng_nba} ({pct(common, n_eng_nba)}"
          f" matched), peer wrote {n_peer_nba} ({pct(common, n_peer_nba)} matched)")
    if only_engine:
        print("  engine only, by rule: " + ", ".join(f"{k}={v}" for k, v in only_engine.most_common()))
    if only_peer:
        print("  peer only, by rule:   " + ", ".join(f"{k}={v}" for k, v in only_peer.most_common()))

    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        log(f"files kept in {workdir}")
    if differ or n_eng != n_peer:
        print("check: FAILED: transitions differ")
        return 1
    print("check: OK: transitions equal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
