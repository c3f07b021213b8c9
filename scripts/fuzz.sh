#!/usr/bin/env bash
# Builds the signal-decoder fuzzer (clang, libFuzzer, AddressSanitizer) in
# build-fuzz/ and runs it for a bounded time.
#
#   scripts/fuzz.sh [SECONDS [LIBFUZZER_FLAG...]]     SECONDS defaults to 60
#
# Extra flags go to libFuzzer as they are, e.g. -rss_limit_mb=4096.
#
# Seeds come from fuzz/corpus/ (valid JSON, binary and schema-registry framed
# signals); inputs the fuzzer finds interesting accumulate in
# build-fuzz/fuzz-corpus/, so later runs start from where earlier ones got to.
# A crash, sanitizer report or broken decoder invariant leaves the input in
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

CXX=clang++ cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDEMANDCENTER_FUZZ=ON \
  -DDEMANDCENTER_BUILD_TESTS=OFF \
  -DDEMANDCENTER_BUILD_BENCHMARKS=OFF >/dev/null
ninja -C "$build" -j "$jobs" decoder_fuzz

corpus="$build/fuzz-corpus"
artifacts="$build/artifacts"
mkdir -p "$corpus" "$artifacts"

# Tokens of the three formats, so mutations reach past the first byte.
dict="$build/decoder_fuzz.dict"
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
DICT

echo "fuzzing decoder for ${seconds}s"
log="$build/decoder_fuzz.log"
set +e
"$build/fuzz/decoder_fuzz" \
  -max_total_time="$seconds" \
  -dict="$dict" \
  -artifact_prefix="$artifacts/" \
  -print_final_stats=1 \
  "$@" \
  "$corpus" "$root/fuzz/corpus" 2>&1 | tee "$log" | grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^Done |ERROR|decoder_fuzz:|SUMMARY|^stat::'
status="${PIPESTATUS[0]}"
set -e

if [ "$status" -ne 0 ]; then
  echo "decoder_fuzz failed (exit $status); full log: $log; inputs: $artifacts" >&2
  exit "$status"
fi
echo "decoder_fuzz: no crashes in ${seconds}s; full log: $log"
