#!/usr/bin/env bash
# End-to-end replay timing: generate N signals, replay them with the default
# config, and compare with a baseline measured in the same run on the same
# file — a replay whose config has one stage and no rules (decode, identity,
# dedup and I/O only). Prints signals/s for both and their ratio.
#
#   benchmarks/replay_e2e.sh [BUILD_DIR] [SIGNALS] [ACCOUNTS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
signals=${2:-1000000}
accounts=${3:-100000}
bin="$build/demandcenter"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin" generate --accounts "$accounts" --signals "$signals" --seed 42 --output "$work/signals.jsonl" 2>/dev/null
cat > "$work/baseline.yaml" <<'YAML'
journey: {stages: [unaware]}
YAML

best() {  # best of 3 wall-clock seconds of "$@"
  local best="" start end t
  for _ in 1 2 3; do
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    t=$(( end - start ))
    if [[ -z $best ]] || (( t < best )); then best=$t; fi
  done
  echo "$best"
}

core=$(best "$bin" replay --config deploy/config/demandcenter.yaml --input "$work/signals.jsonl" --output "$work/out.jsonl" --partitions 12)
base=$(best "$bin" replay --config "$work/baseline.yaml" --input "$work/signals.jsonl" --output "$work/out-baseline.jsonl" --partitions 12)
outputs=$(wc -l < "$work/out.jsonl")
awk -v n="$signals" -v a="$accounts" -v c="$core" -v b="$base" -v o="$outputs" 'BEGIN {
  printf "replay of %d signals (%d accounts, 12 partitions), best of 3:\n", n, a
  printf "  default config: %.2f s, %.0f signals/s, %d outputs\n", c / 1e9, n / (c / 1e9), o
  printf "  baseline (no rules): %.2f s, %.0f signals/s\n", b / 1e9, n / (b / 1e9)
  printf "  ratio default/baseline time: %.2f\n", c / b
}'
