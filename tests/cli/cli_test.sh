#!/usr/bin/env bash
# The command line as a user meets it: validate accepts the default config
# and rejects broken ones with file:line:column; generate + replay on 100k
# signals from 10k accounts is byte-identical across runs, fires every
# default rule and transition, uses every `channel: auto` branch and passes
# the independent contact-policy audit with no violation.
#   tests/cli/cli_test.sh BUILD_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
bin="$(realpath "$1")/demandcenter"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

check() {  # check NAME CONDITION-COMMAND...
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: $name" >&2
  fi
}

# --version names the allocator, and it serves the process's allocations
# (jemalloc counts a megabyte allocated by then; it would count none were
# glibc's malloc answering).
"$bin" --version >"$work/version.txt" 2>&1
check "--version names jemalloc" grep -q "^demandcenter [0-9.]* (jemalloc 5" "$work/version.txt"
check "jemalloc serves the allocations" grep -qv " 0 MiB allocated" "$work/version.txt"

# validate: the default config is accepted.
"$bin" validate --config deploy/config/demandcenter.yaml >"$work/ok.txt" 2>&1
check "validate accepts the default config" grep -q "ok: 9 stages" "$work/ok.txt"

# validate: each broken copy is refused with file:line:column and a message.
# The line is where the broken text sits in the broken copy (its last match,
# found with grep, so editing the default config does not break the test).
bad() {  # bad NAME SED-EXPRESSION GREP-PATTERN COLUMN EXPECTED-MESSAGE
  local name=$1 expr=$2 pattern=$3 column=$4 expected=$5
  sed "$expr" deploy/config/demandcenter.yaml >"$work/$name.yaml"
  local line
  line=$(grep -n -e "$pattern" "$work/$name.yaml" | tail -1 | cut -d: -f1)
  if [[ $column == word:* ]]; then  # the column where that word starts on the line
    column=$(sed -n "${line}p" "$work/$name.yaml" | awk -v w="${column#word:}" '{ print index($0, w) }')
  fi
  "$bin" validate --config "$work/$name.yaml" >"$work/$name.out" 2>&1
  local rc=$?
  check "validate rejects $name (exit 1)" test "$rc" -eq 1
  check "validate reports $name at $line:$column: $expected" \
    grep -qF "$work/$name.yaml:$line:$column: $expected" "$work/$name.out"
}
bad unknown_stage 's/      to: negotiating/      to: negotiatin/' 'to: negotiatin$' 11 'unknown stage "negotiatin"'
bad bad_duration 's/inactive_for: 45d/inactive_for: 3x/' 'inactive_for: 3x' 21 "transition \"prospect_silent\".inactive_for: bad duration \"3x\": unknown unit 'x'"
bad duplicate_rule 's/- id: hard_bounce_fix_contact/- id: demo_request_sdr/' '^  - id: demo_request_sdr' 9 'duplicate rule id "demo_request_sdr"'
bad unknown_field 's/    cooldown: 3d/    cooldwn: 3d/' 'cooldwn: 3d' 5 'unknown field "cooldwn" in rule'
bad wrong_type 's/    priority: 95/    priority: urgent/' 'priority: urgent' 15 'rule "demo_request_sdr".priority must be a number'
bad unknown_channel '0,/channel: SPECIALIST$/s//channel: SPECIALISTS/' 'channel: SPECIALISTS' 14 'rule "pricing_surge_specialist": unknown channel "SPECIALISTS"'
bad unreachable 's/      to: expanding/      to: customer/' '^  stages:' word:expanding 'stage "expanding" is unreachable'
bad unknown_timezone 's/  timezone: Europe\/London/  timezone: Europe\/Londn/' 'timezone: Europe/Londn' 13 'contact_policy.timezone: "Europe/Londn" is not an IANA time zone'
bad bad_business_hours 's/to: "18:00"}/to: "6pm"}/' 'to: "6pm"' word:'"6pm"' 'contact_policy.business_hours.to must be a local time like "08:00"'
bad experiment_unknown_rule 's/rules: \[email_reply_sdr\]/rules: [email_reply_sdrr]/' 'rules: \[email_reply_sdrr\]' 12 'experiment "reply_follow_up": unknown rule "email_reply_sdrr"'
"$bin" validate --config "$work/missing.yaml" >"$work/missing.out" 2>&1
check "validate reports an unreadable file" grep -q "cannot read the config file" "$work/missing.out"

# validate: what is not a config file is refused before it is read.
timeout 10 "$bin" validate --config /dev/zero >"$work/zero.out" 2>&1
check "validate refuses /dev/zero at once" grep -qx "/dev/zero: is not a regular file (a directory, device or pipe): name the YAML file itself" "$work/zero.out"
head -c 5000000 /dev/zero | tr '\0' '#' >"$work/big.yaml"
"$bin" validate --config "$work/big.yaml" >"$work/big.out" 2>&1
check "validate refuses a 5 MB file by its size" grep -q "big.yaml: is 5000000 bytes; a config file is at most 4194304 (4 MiB)" "$work/big.out"

# generate + replay: byte-identical and every default rule fires.
"$bin" generate --accounts 10000 --signals 100000 --seed 7 --malformed 0.01 --output "$work/signals.jsonl" 2>"$work/gen.err"
check "generate wrote 100000 lines" test "$(wc -l <"$work/signals.jsonl")" -eq 100000
for run in 1 2; do
  "$bin" replay --config deploy/config/demandcenter.yaml --input "$work/signals.jsonl" \
    --partitions 12 --output "$work/out$run.jsonl" 2>"$work/summary$run.txt" >/dev/null
done
check "replay output is byte-identical across runs" cmp -s "$work/out1.jsonl" "$work/out2.jsonl"
check "replay summary is identical across runs" cmp -s <(grep -v '^line ' "$work/summary1.txt") <(grep -v '^line ' "$work/summary2.txt")
check "replay produced outputs" test -s "$work/out1.jsonl"
check "every default rule fired" grep -qx "rules never fired: none" "$work/summary1.txt"
check "every default transition fired" grep -qx "transitions never fired: none" "$work/summary1.txt"
check "malformed lines were reported with line numbers" grep -qE '^line [0-9]+: [A-Z_]+: ' "$work/summary1.txt"
# The contact policy, audited from the outputs alone, holds; `channel: auto`
# used every branch.
check "no contact-policy violations" grep -qE '^contact policy audit: [0-9]+ actions, .* 0 violations$' "$work/summary1.txt"
check "every routing branch used" grep -qE '^routing branches \(channel auto\): .*; never used: none$' "$work/summary1.txt"
grep -vE '^line [0-9]+: ' "$work/summary1.txt" | sed 's/^/  /'

# replay refuses to write over its input, and says so before touching it.
head -100 "$work/signals.jsonl" >"$work/small.jsonl"
cp "$work/small.jsonl" "$work/small.orig"
"$bin" replay --config deploy/config/demandcenter.yaml --input "$work/small.jsonl" --output "$work/small.jsonl" \
  >/dev/null 2>"$work/same.err"
check "replay --output INPUT exits 2" test $? -eq 2
check "replay --output INPUT leaves the input alone" cmp -s "$work/small.jsonl" "$work/small.orig"
check "replay --output INPUT says why" grep -q "is the input file; writing would empty it first" "$work/same.err"
# No usable line: exit 3 (every line rejected), with the count.
printf 'not json\n{"event_id": "e1"}\n' >"$work/junk.jsonl"
"$bin" replay --config deploy/config/demandcenter.yaml --input "$work/junk.jsonl" >/dev/null 2>"$work/junk.err"
check "replay of only bad lines exits 3" test $? -eq 3
check "replay of only bad lines says so" grep -q "no line of the input could be used (2 rejected of 2 lines)" "$work/junk.err"
# A 3 MB line is refused without being read whole; the next line still counts.
{ head -c 3000000 /dev/zero | tr '\0' 'x'; echo; head -1 "$work/small.jsonl"; } >"$work/long.jsonl"
"$bin" replay --config deploy/config/demandcenter.yaml --input "$work/long.jsonl" >/dev/null 2>"$work/long.err"
check "replay with one usable line exits 0" test $? -eq 0
check "replay refuses an over-long line" grep -q "^line 1: OVERSIZE: line is longer than 1048576 bytes (max_bytes); skipped" "$work/long.err"
# A bad pool update is told in plain words with its column.
echo '{"pool_update": {"pool_id": "sdr_team", "weight": "heavy"}}' >>"$work/small.jsonl"
"$bin" replay --config deploy/config/demandcenter.yaml --input "$work/small.jsonl" >/dev/null 2>"$work/pool.err"
check "a bad pool update names field and column" grep -q "^line 101: BAD_POOL_UPDATE: column 41: pool_update.weight is not a number$" "$work/pool.err"

# demo: a broken config in the working directory is refused, not replaced.
mkdir -p "$work/demo/deploy/config"
sed 's/priority: 95/priority: urgent/' deploy/config/demandcenter.yaml >"$work/demo/deploy/config/demandcenter.yaml"
(cd "$work/demo" && "$bin" demo --duration 1s >"$work/demo.out" 2>"$work/demo.err")
check "demo with a broken config exits 1" test $? -eq 1
check "demo reports the broken config's problems" grep -q "must be a number" "$work/demo.err"
check "demo started nothing" grep -q "nothing was started" "$work/demo.err"

# run: SIGTERM while the cluster is unreachable at start-up stops it cleanly
# and soon (it used to ignore SIGTERM for 45 s); a second signal exits at
# once. No broker is needed: nothing listens on port 1.
start_unreachable() {
  "$bin" run --config deploy/config/demandcenter.yaml --bootstrap-servers 127.0.0.1:1 --state-dir "$work/state" \
    --http-bind 127.0.0.1:0 >"$work/run.log" 2>&1 &
  run_pid=$!
  for _ in $(seq 1 100); do  # until it is trying to reach the cluster
    grep -q "127.0.0.1:1/bootstrap" "$work/run.log" && return
    sleep 0.1
  done
}
wait_exit() {  # wait_exit SECONDS: sets code to run_pid's exit code, or "running" after SECONDS
  code=running
  for _ in $(seq 1 $(($1 * 20))); do
    if ! kill -0 "$run_pid" 2>/dev/null; then
      wait "$run_pid"
      code=$?
      return
    fi
    sleep 0.05
  done
}
start_unreachable
kill -TERM "$run_pid"
wait_exit 15
check "run stops on SIGTERM during start-up (exit $code)" test "$code" = 0
check "run says it stopped on a signal" grep -q "stopped on a signal" "$work/run.log"
[[ $code == running ]] && kill -9 "$run_pid"
start_unreachable
kill -TERM "$run_pid"
kill -INT "$run_pid"
wait_exit 2
# 128 + the second signal handled: INT (130), or TERM (143) when both were
# pending at once (a busy machine), as Linux delivers the lower number first.
check "a second signal exits at once (exit $code)" test "$code" = 130 -o "$code" = 143
check "a second signal says so" grep -q "second signal: exiting now" "$work/run.log"
[[ $code == running ]] && kill -9 "$run_pid"

echo "cli: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
