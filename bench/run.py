#!/usr/bin/python3
"""The ddbstream_fdw benchmark: one run, several repetitions, medians.

    test/harness run bench/run.py [--records 20000] [--reps 5]

Against DynamoDB Local, for a stream of N realistic records (test/load_items.py):
  floor         bench/floor: the same requests over libcurl, bodies discarded
  fdw count     SELECT count(*) FROM stream
  fdw select    SELECT * FROM stream, all columns built and output by the
                server (COPY ... TO '/dev/null': no client formatting)
  fdw insert    INSERT INTO t SELECT * FROM stream
  boto3         a boto3 reader of every shard
  boto3+pg      the boto3 reader writing rows with psycopg2 execute_values
Prints a table (records/s, ratios) and writes bench/results/bench.csv.
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import time

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

COLUMNS = """event_id text, event_name text, seq numeric, shard_id text, created_at timestamptz,
  keys jsonb, new_image jsonb, old_image jsonb, size_bytes integer, stream_view_type text,
  user_identity jsonb, record jsonb"""


def psql(sql, out=None):
    subprocess.run(["psql", "-X", "-q", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql],
                   check=True, stdout=out or subprocess.DEVNULL)


def timed(cmd, **kw):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=20000)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    n = args.records
    table = "Bench%d" % n
    endpoint = os.environ["DDB_ENDPOINT"]

    subprocess.run(["make", "-s", "-C", ROOT, "bench/floor"], check=True)
    subprocess.run([os.path.join(ROOT, "test/load_items.py"), table, str(n)], check=True)
    arn = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="bench", aws_secret_access_key="bench"
                       ).describe_table(TableName=table)["Table"]["LatestStreamArn"]

    psql("CREATE EXTENSION IF NOT EXISTS ddbstream_fdw")
    psql("CREATE SERVER IF NOT EXISTS bench FOREIGN DATA WRAPPER ddbstream_fdw "
         "OPTIONS (region 'us-east-1', endpoint '%s')" % endpoint)
    psql("CREATE USER MAPPING IF NOT EXISTS FOR CURRENT_USER SERVER bench "
         "OPTIONS (access_key_id 'bench', secret_access_key 'bench')")
    psql("DROP FOREIGN TABLE IF EXISTS bench_stream; CREATE FOREIGN TABLE bench_stream (%s) "
         "SERVER bench OPTIONS (table_name '%s')" % (COLUMNS, table))
    psql("DROP TABLE IF EXISTS bench_copy, bench_boto; CREATE TABLE bench_copy (%s); "
         "CREATE TABLE bench_boto (event_id text, event_name text, seq numeric, keys jsonb, "
         "new_image jsonb, old_image jsonb)" % COLUMNS)

    cases = [
        ("floor", lambda: timed([os.path.join(HERE, "floor"), endpoint, arn])),
        ("fdw count", lambda: timed(["psql", "-X", "-q", "-d", "postgres", "-c",
                                     "SELECT count(*) FROM bench_stream"])),
        # every column built and turned into text by the server, written nowhere
        ("fdw select", lambda: timed(["psql", "-X", "-q", "-d", "postgres", "-c",
                                      "COPY (SELECT * FROM bench_stream) TO '/dev/null'"])),
        ("fdw insert", lambda: (psql("TRUNCATE bench_copy"),
                                timed(["psql", "-X", "-q", "-d", "postgres", "-c",
                                       "INSERT INTO bench_copy SELECT * FROM bench_stream"]))[1]),
        ("boto3", lambda: timed([os.path.join(HERE, "boto3_reader.py"), arn])),
        ("boto3+pg", lambda: (psql("TRUNCATE bench_boto"),
                              timed([os.path.join(HERE, "boto3_reader.py"), arn,
                                     "--to-postgres", "bench_boto"]))[1]),
    ]
    times = {name: [] for name, _ in cases}
    for _ in range(args.reps):
        for name, run in cases:
            times[name].append(run())
    med = {name: statistics.median(v) for name, v in times.items()}

    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "bench.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["case", "records", "median_s", "records_per_s"] + ["rep%d_s" % i for i in range(args.reps)])
        for name, v in times.items():
            w.writerow([name, n, "%.4f" % med[name], "%.0f" % (n / med[name])] + ["%.4f" % x for x in v])

    print("| case | median seconds | records/s |")
    print("|---|---:|---:|")
    for name in times:
        print("| %s | %.3f | %.0f |" % (name, med[name], n / med[name]))
    print()
    print("fdw select / floor: %.2f   (target <= 1.25)" % (med["fdw select"] / med["floor"]))
    print("fdw count / floor:  %.2f   (target <= 1.10)" % (med["fdw count"] / med["floor"]))
    print("boto3+pg / fdw insert: %.1f   (target >= 5)" % (med["boto3+pg"] / med["fdw insert"]))
    print("boto3 / fdw select: %.1f" % (med["boto3"] / med["fdw select"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
