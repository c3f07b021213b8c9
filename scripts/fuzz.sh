#!/usr/bin/env bash
# Builds a signal-decoder fuzzer (clang, libFuzzer, AddressSanitizer) in
# build-fuzz/ and runs it for a bounded time.
#
#   scripts/fuzz.sh [SECONDS [LIBFUZZER_FLAG...]]     SECONDS defaults to 60
#
# Extra flags go to libFuzzer as they are, e.g. -rss_limit_mb=4096 or -jobs=2.
#
# FUZZ_TARGET picks the fuzzer:
#   decoder_fuzz (default)   DecodeSignal on any bytes: its contract, and JSON
#                            values checked against protobuf's JSON parser;
#   json_differential_fuzz   only the JSON decoder against protobuf's parser
#                            (each input also tried inside a valid signal);
#   config_fuzz              the config loader (YAML and every check) on any
#                            bytes: no crash, a config or errors;
#   pool_update_fuzz         replay's pool_update lines: refusals in printable
#                            ASCII;
#   http_fuzz                the HTTP server on any request bytes: /healthz
#                            still answers after each.
#
# Seeds come from fuzz/corpus/ (valid JSON, binary and schema-registry framed
# signals; fuzz/corpus-<what>/ for the others); inputs the fuzzer finds interesting accumulate in
# build-fuzz/fuzz-corpus/ (decoder_fuzz) or build-fuzz/<target>-corpus/, so
# later runs start from where earlier ones got to. A crash, sanitizer report,
# broken decoder invariant or difference from protobuf leaves the input in
# build-fuzz/artifacts/ and makes this script exit non-zero.
set -euo pipefail

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "usage: $0 [SECONDS [LIBFUZZER_FLAG...]]   (SECONDS a positive whole number; default 60)" >&2
  exit 2
fi
shift $(($# > 0 ? 1 : 0))

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build-fuzz"
jobs="${FUZZ_BUILD_JOBS:-2}"
target="${FUZZ_TARGET:-decoder_fuzz}"
case "$target" in
  decoder_fuzz) corpus="$build/fuzz-corpus" ;;
  json_differential_fuzz) corpus="$build/$target-corpus" ;;
  config_fuzz) corpus="$build/$target-corpus" seeds="$root/fuzz/corpus-config" ;;
  pool_update_fuzz) corpus="$build/$target-corpus" seeds="$root/fuzz/corpus-pool-update" ;;
  http_fuzz) corpus="$build/$target-corpus" seeds="$root/fuzz/corpus-http" ;;
  *) echo "FUZZ_TARGET must be decoder_fuzz, json_differential_fuzz, config_fuzz, pool_update_fuzz or http_fuzz" \
          "(got $target)" >&2; exit 2 ;;
esac

# -O1 and line tables only: what libFuzzer and ASan reports need, in about
# two thirds of the build time of -O2 -g.
CXX=clang++ cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
  -DDEMANDCENTER_FUZZ=ON \
  -DDEMANDCENTER_BUILD_TESTS=OFF \
  -DDEMANDCENTER_BUILD_BENCHMARKS=OFF >/dev/null
ninja -C "$build" -j "$jobs" "$target"

artifacts="$build/artifacts"
mkdir -p "$corpus" "$artifacts"

# Tokens of the three formats, so mutations reach past the first byte.
dict="$build/decoder_fuzz.dict"  # shared by both targets
cat >"$dict" <<'DICT'
"{"
"}"
"\""
":"
","
"null"
"true"
"\"event_id\""
"\"eventId\""
"\"occurred_at\""
"\"occurredAt\""
"\"type\""
"\"account_id\""
"\"accountId\""
"\"contact_id\""
"\"email\""
"\"anonymous_id\""
"\"source_system\""
"\"web_visit\""
"\"webVisit\""
"\"email_engagement\""
"\"crm_activity\""
"\"crmActivity\""
"\"product_usage\""
"\"attributes\""
"\"bounce_kind\""
"\"HARD\""
"\"snooze_until\""
"\"amount\""
"\"duration_ms\""
"\"2026-03-01T09:30:00Z\""
"\"1969-12-31T23:59:59Z\""
"\"9999-12-31T23:59:59.999999999Z\""
"\"web.page_view\""
"\\u0000"
"\x00\x00\x00\x00\x01\x00"
"\x00\x00\x00\x00\x01\x02\x00"
"\x0a"
"\x12\x06\x08\x80\xe4\xbd\xcd\x06"
"\x1a"
"'"
"["
"]"
","
"false"
"\\u"
"\\ud83d\\ude00"
"\\"
"-"
"0x1e"
"1e999"
"\"NaN\""
"\"Infinity\""
"\"seconds\""
"\"nanos\""
"\"key\""
"\"value\""
"\"bounceKind\""
"\"SOFT\""
"\"productCount\""
"\"do_not_contact\""
"\"yes\""
"\"2026-3-1T9:30:0+1:5\""
"\"web.page_view\""
"\xc3\xa9"
"\xed\xa0\x80"
DICT

echo "fuzzing $target for ${seconds}s"
log="$build/$target.log"
set +e
"$build/fuzz/$target" \
  -max_total_time="$seconds" \
  -dict="$dict" \
  -artifact_prefix="$artifacts/" \
  -print_final_stats=1 \
  "$@" \
  "$corpus" "${seeds:-$root/fuzz/corpus}" 2>&1 | tee "$log" | grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^Done |ERROR|_fuzz:|SUMMARY|^stat::'
status="${PIPESTATUS[0]}"
set -e

if [ "$status" -ne 0 ]; then
  echo "$target failed (exit $status); full log: $log; inputs: $artifacts" >&2
  exit "$status"
fi
echo "$target: no crashes in ${seconds}s; full log: $log"
