#!/usr/bin/env bash
# bench/concurrency.sh — reading many shards at once.  The scripted split
# server (test/split_stream_server.py) serves stream "Wide" (64 closed shards
# of 50 records) with a fixed latency per GetShardIterator and GetRecords
# request; each shard costs two round trips, so one request at a time takes
# about 64 × 2 × latency, and k shards at once about 1/k of that.
#
#   test/harness run bench/concurrency.sh [LATENCY_MS] [REPS]    (default 20 3)
#
# Prints a table and writes bench/results/concurrency.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
latency=${1:-20}
reps=${2:-3}
mkdir -p bench/results
work=$(mktemp -d)
trap 'kill $server_pid 2>/dev/null || true; rm -rf "$work"' EXIT

/usr/bin/python3 test/split_stream_server.py --port 0 --port-file "$work/port" \
  --latency-ms "$latency" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
endpoint="http://127.0.0.1:$(cat "$work/port")"

psql -X -q -d postgres <<SQL
CREATE EXTENSION IF NOT EXISTS ddbstream_fdw;
DROP SERVER IF EXISTS bench_wide CASCADE;
CREATE SERVER bench_wide FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint '$endpoint');
CREATE USER MAPPING FOR CURRENT_USER SERVER bench_wide
  OPTIONS (access_key_id 'bench', secret_access_key 'bench');
CREATE FOREIGN TABLE bench_wide (seq numeric, shard_id text)
  SERVER bench_wide OPTIONS (table_name 'Wide');
SQL

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "max_concurrency,seconds,records,speedup" > bench/results/concurrency.csv
printf '%-16s %9s %8s %8s\n' max_concurrency seconds records speedup
base=""
for k in 1 2 4 8 16 32 64; do
  psql -X -q -d postgres -c "ALTER FOREIGN TABLE bench_wide OPTIONS (ADD max_concurrency '$k')" 2>/dev/null ||
    psql -X -q -d postgres -c "ALTER FOREIGN TABLE bench_wide OPTIONS (SET max_concurrency '$k')"
  times=()
  for _ in $(seq "$reps"); do
    start=$(date +%s.%N)
    n=$(psql -X -q -At -d postgres -c "SELECT count(*) FROM bench_wide")
    end=$(date +%s.%N)
    times+=("$(python3 -c "print(round($end - $start, 3))")")
  done
  t=$(printf '%s\n' "${times[@]}" | median)
  [ -z "$base" ] && base=$t
  speedup=$(python3 -c "print(round($base / $t, 1))")
  printf '%-16s %9s %8s %8s\n' "$k" "$t" "$n" "$speedup"
  echo "$k,$t,$n,$speedup" >> bench/results/concurrency.csv
done
psql -X -q -d postgres -c "DROP SERVER bench_wide CASCADE"
