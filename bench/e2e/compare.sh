#!/bin/bash
# A/B (or A/B/C...) of agent variants end to end: one auditship-e2e run of each arm in turn,
# N rounds, so the machine's drift hits every arm alike; prints each arm's median records/s,
# CPU µs per record and peak RSS of the restarted agent (the `auditship-warm` subject), and
# each arm against the first paired by round (median ratio and difference, rounds it won).
#
#   bench/e2e/compare.sh [-n ROUNDS] [-r RECORDS] ARM...
#   ARM = "BINARY|ENV|YAML|PROPERTIES[|KAFKA]" (empty fields allowed; KAFKA is one more key of
#   the kafka section, e.g. 'headers: false'), e.g.
#   bench/e2e/compare.sh -n 7 "build/auditship||" "build/auditship|||linger.ms=5" \
#                             "/tmp/old/auditship|GLIBC_TUNABLES=glibc.malloc.arena_max=2||"
set -euo pipefail
rounds=5 records=200000
while getopts "n:r:" opt; do
  case $opt in
    n) rounds=$OPTARG ;;
    r) records=$OPTARG ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { sed -n '2,9p' "$0" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
e2e=${E2E:-$here/../../build/bench/auditship-e2e}
work=$(mktemp -d /tmp/auditship-compare.XXXXXX)
trap 'rm -rf "$work"' EXIT
results=$work/results

for ((round = 1; round <= rounds; round++)); do
  arm=0
  for spec in "$@"; do
    IFS='|' read -r binary env yaml properties kafka <<<"$spec"
    binary=$(realpath "$binary")
    printf '#!/bin/sh\n%s exec %s "$@"\n' "$env" "$binary" >"$work/agent-$arm.sh"
    chmod +x "$work/agent-$arm.sh"
    args=(--records "$records" --runs 1 --warm --subjects auditship --workdir "$work/e2e" --agent "$work/agent-$arm.sh")
    [ -n "$yaml" ] && args+=(--yaml "$yaml")
    [ -n "$properties" ] && args+=(--properties "$properties")
    [ -n "$kafka" ] && args+=(--kafka "$kafka")
    line=$("$e2e" "${args[@]}" 2>&1 | grep '^| auditship-warm ' || true)
    if [ -z "$line" ]; then
      echo "arm $arm ($spec): the harness reported no result; run it by hand to see why" >&2
      exit 1
    fi
    awk -v arm=$arm -F'|' '{gsub(/ /, "", $3); gsub(/ /, "", $5); gsub(/ /, "", $6); print arm, $3, $5, $6}' <<<"$line" >>"$results"
    arm=$((arm + 1))
  done
done

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
column() { awk -v a="$1" -v c="$2" '$1 == a {print $c}' "$results"; }
# Each round's figure for arm $1 against arm 0's in the same round, combined by awk's $3.
paired() { paste <(column "$1" "$2") <(column 0 "$2") | awk "{print $3}"; }
arm=0
for spec in "$@"; do
  rps=$(column $arm 2 | median)
  cpu=$(column $arm 3 | median)
  rss=$(column $arm 4 | median)
  printf 'arm %d: %8.0f records/s  %5.2f µs/record  %5.1f MB  (%s)\n' $arm "$rps" "$cpu" "$rss" "$spec"
  arm=$((arm + 1))
done
# Paired by round, so drift of the machine between rounds cancels: the median of the per-round
# differences, and in how many rounds the arm used less CPU than arm 0.
for ((arm = 1; arm < $#; arm++)); do
  ratio=$(paired $arm 2 '$1 / $2' | median)
  delta=$(paired $arm 3 '$1 - $2' | median)
  less=$(paired $arm 3 '$1 < $2' | awk '{n += $1} END {print n}')
  printf 'arm %d against arm 0, by round: records/s %.3f×, CPU %+.2f µs/record, less CPU in %d of %d rounds\n' \
    $arm "$ratio" "$delta" "$less" "$rounds"
done
