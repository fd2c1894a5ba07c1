#!/usr/bin/env bash
# bench_study_mpi.sh: a study as one process against `mpirun -np 2` on the same machine (run by
# hand; RESULTS.md §11). Both sides run --threads 1, as a study whose numbers must not depend on the
# process layout does (OpenBLAS's results depend on its thread count), so on 2 cores the question
# is whether two ranks of one thread beat one process of one thread, dealing and all.
#
#   tests/bench/bench_study_mpi.sh [CLI] [LIMIT]
#     CLI: the cascadelens-cli to time (default build/app/cascadelens-cli beside this checkout)
#     LIMIT: documents of the bundled corpus (default 20)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cli=${1:-$here/build/app/cascadelens-cli}
limit=${2:-20}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# Wall seconds of one command (its output discarded; a failure stops the script).
wall() {
  local t0 t1
  t0=$(date +%s%N)
  "$@" > /dev/null 2> "$dir/stderr" || { cat "$dir/stderr" >&2; exit 1; }
  t1=$(date +%s%N)
  awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f", ns / 1e9 }'
}

echo "| --methods (--limit $limit, --threads 1, default quality) | one process s | mpirun -np 2 s | one / np 2 |"
echo "|---|---|---|---|"
for methods in none all; do
  # --methods none: the analysis and both ADA modes' quality; all: the CLI's default study.
  extra=(--methods "$methods")
  one=$(wall "$cli" study --out "$dir/one-$methods.h5" --quiet --threads 1 --limit "$limit" "${extra[@]}")
  two=$(wall mpirun -np 2 --allow-run-as-root --oversubscribe \
    "$cli" study --out "$dir/two-$methods.h5" --quiet --threads 1 --limit "$limit" "${extra[@]}")
  ratio=$(awk -v a="$one" -v b="$two" 'BEGIN { printf "%.2f", a / b }')
  echo "| $methods | $one | $two | $ratio |"
done
