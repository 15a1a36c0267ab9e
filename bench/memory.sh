#!/usr/bin/env bash
# bench/memory.sh — the backend's peak memory while scanning a small and a
# large stream: a scan keeps one GetRecords page in memory at a time, so the
# peak should not grow with the stream.
#
#   test/harness run bench/memory.sh [SMALL] [LARGE]     (default 20000 100000)
#
# Prints a table and writes bench/results/memory.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
small=${1:-20000}
large=${2:-100000}
mkdir -p bench/results

psql -X -q -d postgres <<SQL
CREATE EXTENSION IF NOT EXISTS ddbstream_fdw;
CREATE SERVER IF NOT EXISTS bench FOREIGN DATA WRAPPER ddbstream_fdw
  OPTIONS (region 'us-east-1', endpoint '$DDB_ENDPOINT');
CREATE USER MAPPING IF NOT EXISTS FOR CURRENT_USER SERVER bench
  OPTIONS (access_key_id 'bench', secret_access_key 'bench');
SQL

echo "records,peak_kb,seconds" > bench/results/memory.csv
for n in "$small" "$large"; do
  table="BenchMemory$n"
  test/load_items.py "$table" "$n"
  psql -X -q -d postgres -c "CREATE FOREIGN TABLE IF NOT EXISTS \"bench_$n\" (
      event_id text, event_name text, seq numeric, shard_id text, created_at timestamptz,
      keys jsonb, new_image jsonb, old_image jsonb, size_bytes integer,
      stream_view_type text, user_identity jsonb, record jsonb)
    SERVER bench OPTIONS (table_name '$table')"
  # A new backend per measurement: VmHWM is the process's peak resident size.
  start=$(date +%s.%N)
  peak=$(psql -X -q -At -d postgres <<SQL
SELECT count(*), sum(length(record::text) + length(new_image::text)) FROM "bench_$n" \\g /dev/null
SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+)'))[1];
SQL
)
  end=$(date +%s.%N)
  secs=$(python3 -c "print(round($end - $start, 2))")
  echo "$n,$peak,$secs" >> bench/results/memory.csv
done

python3 - <<'PY'
import csv
rows = list(csv.DictReader(open("bench/results/memory.csv")))
print("| records | backend peak memory | scan time |")
print("|---:|---:|---:|")
for r in rows:
    print("| %s | %.1f MB | %s s |" % (r["records"], int(r["peak_kb"]) / 1024, r["seconds"]))
a, b = int(rows[0]["peak_kb"]), int(rows[-1]["peak_kb"])
print("\npeak at %s records / peak at %s records: %.3f" % (rows[-1]["records"], rows[0]["records"], b / a))
PY
