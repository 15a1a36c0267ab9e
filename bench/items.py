#!/usr/bin/python3
"""The items source's benchmark: a full read of a table, one run, several
rounds, medians.

    test/harness run bench/items.py [--items 20000] [--rounds 3] [--segments 4]
                                    [--page-size N] [--no-fdw]

Against DynamoDB Local, for a table of N realistic items (about 300 bytes of
mixed types each), after one untimed pass of each case (the emulator's JVM
warms up), in every round and in a rotating order:
  floor           bench/floor --scan: the same parallel Scan (SEGMENTS
                  segments) over libcurl's multi interface, bodies discarded
  fdw count(*)    SELECT count(*): no column used, so the Scan fetches the
                  partition key alone (a ProjectionExpression): not like for
                  like with the floor, which fetches whole items
  fdw count       SELECT count(item): every item received, parsed and built
                  as jsonb by the server, nothing printed
  fdw to client   COPY (SELECT item ...) TO STDOUT, read by this process: every
                  item printed by the server and sent to the client
  boto3 serial    boto3's paginated Scan, one segment
  boto3 parallel  boto3's parallel Scan, SEGMENTS threads on one client
The boto3 cases end, like "fdw count", with every item parsed into the
reader's own form (Python dicts) and nothing printed: that is the like-for-like
comparison.  "fdw to client" adds what a user who reads the rows pays.  The
FDW is timed on a connection opened beforehand and the boto3 cases on a client
made beforehand (its start is 0.2 s of Python imports and models).

With --page-size N, every case sends Limit N (the foreign table gets page_size
N); without, none does and each page is DynamoDB's 1 MB.  --no-fdw, or an FDW
that cannot read items yet, leaves the FDW cases out.
Prints a table and the ratios, and writes bench/results/items.csv.
"""
import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import botocore.config

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def client(segments=1):
    return boto3.client("dynamodb", endpoint_url=os.environ["DDB_ENDPOINT"],
                        region_name="us-east-1", aws_access_key_id="bench",
                        aws_secret_access_key="bench",
                        config=botocore.config.Config(max_pool_connections=max(10, segments)))


def item(i, rnd):
    """A realistic item of about 300 bytes: strings, numbers, a flag, a set,
    a nested map and a list."""
    return {
        "id": {"S": "user-%08d" % i},
        "email": {"S": "someone.%d@example.com" % rnd.randrange(10**6)},
        "name": {"S": rnd.choice(("Ada", "Grace", "Linus", "Margaret", "Ken")) + " " +
                 rnd.choice(("Lovelace", "Hopper", "Torvalds", "Hamilton", "Thompson"))},
        "balance": {"N": "%d.%02d" % (rnd.randrange(-500, 100000), rnd.randrange(100))},
        "visits": {"N": str(rnd.randrange(10**5))},
        "active": {"BOOL": rnd.random() < 0.8},
        "created": {"S": "2025-%02d-%02dT%02d:%02d:00Z" % (rnd.randrange(1, 13), rnd.randrange(1, 29),
                                                          rnd.randrange(24), rnd.randrange(60))},
        "tags": {"SS": sorted(rnd.sample(("new", "vip", "eu", "us", "mobile", "beta", "trial"), 3))},
        "address": {"M": {"street": {"S": "%d Long Street" % rnd.randrange(1, 999)},
                          "city": {"S": rnd.choice(("Lyon", "Oslo", "Kyoto", "Lima"))},
                          "zip": {"S": "%05d" % rnd.randrange(10**5)},
                          "geo": {"M": {"lat": {"N": "%.5f" % rnd.uniform(-90, 90)},
                                        "lon": {"N": "%.5f" % rnd.uniform(-180, 180)}}}}},
        "recent": {"L": [{"N": str(rnd.randrange(1000))} for _ in range(4)]},
        "note": {"NULL": True} if i % 5 == 0 else {"S": "plan %s, renews monthly, billed in EUR" % rnd.choice(("free", "pro", "team"))},
        "agent": {"S": "Mozilla/5.0 (X11; Linux x86_64) Firefox/%d.0" % rnd.randrange(100, 140)},
    }


def ddb_size(av):
    """An AttributeValue's size as DynamoDB counts it (roughly, for N)."""
    (t, v), = av.items()
    if t == "S":
        return len(v.encode())
    if t == "N":
        return (len(v.lstrip("-").replace(".", "")) + 1) // 2 + 1
    if t in ("BOOL", "NULL"):
        return 1
    if t == "SS":
        return sum(len(x.encode()) for x in v)
    if t == "L":
        return 3 + sum(1 + ddb_size(x) for x in v)
    if t == "M":
        return 3 + sum(1 + len(k.encode()) + ddb_size(x) for k, x in v.items())
    raise ValueError(t)


def load(table, n):
    """Create the table and write n items, 4 BatchWriteItem writers at once."""
    ddb = client()
    if table in ddb.list_tables()["TableNames"]:
        ddb.delete_table(TableName=table)
    ddb.create_table(TableName=table,
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     BillingMode="PAY_PER_REQUEST")
    rnd = random.Random(1)
    items = [item(i, rnd) for i in range(n)]

    def write(part):
        c = client()
        for k in range(0, len(part), 25):
            requests = {table: [{"PutRequest": {"Item": it}} for it in part[k:k + 25]]}
            while requests:
                requests = c.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, [items[k::4] for k in range(4)]))
    return (sum(ddb_size({"M": it}) - 3 for it in items) / n,
            sum(len(json.dumps(it)) for it in items) / n)


def boto3_scan(ddb, table, page_size, segment=None, segments=None):
    kw = {"TableName": table}
    if page_size:
        kw["Limit"] = page_size
    if segments:
        kw.update(Segment=segment, TotalSegments=segments)
    n = 0
    while True:
        page = ddb.scan(**kw)
        n += len(page["Items"])
        if "LastEvaluatedKey" not in page:
            return n
        kw["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def boto3_parallel(ddb, table, page_size, segments):
    with ThreadPoolExecutor(segments) as pool:
        return sum(pool.map(lambda s: boto3_scan(ddb, table, page_size, s, segments), range(segments)))


class Drain:
    """A file for copy_expert that counts lines and keeps nothing."""
    def __init__(self):
        self.lines = 0

    def write(self, data):
        self.lines += data.count("\n") if isinstance(data, str) else data.count(b"\n")


def fdw_setup(table, segments, page_size):
    import psycopg2
    conn = psycopg2.connect(dbname="postgres")
    conn.autocommit = True
    options = "table_name '%s', source 'items', scan_segments '%d'" % (table, segments)
    if page_size:
        options += ", page_size '%d'" % page_size
    with conn.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS ddbstream_fdw")
        cur.execute("CREATE SERVER IF NOT EXISTS bench FOREIGN DATA WRAPPER ddbstream_fdw "
                    "OPTIONS (region 'us-east-1', endpoint %s)", (os.environ["DDB_ENDPOINT"],))
        cur.execute("CREATE USER MAPPING IF NOT EXISTS FOR CURRENT_USER SERVER bench "
                    "OPTIONS (access_key_id 'bench', secret_access_key 'bench')")
        cur.execute("DROP FOREIGN TABLE IF EXISTS bench_items")
        cur.execute("CREATE FOREIGN TABLE bench_items (keys jsonb, item jsonb) SERVER bench "
                    "OPTIONS (%s)" % options)
    return conn


def fdw_count(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT count(item) FROM bench_items")
        return cur.fetchone()[0]


def fdw_count_star(conn):
    """count(*): only the partition keys fetched, nothing built."""
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM bench_items")
        return cur.fetchone()[0]


def fdw_to_client(conn):
    drain = Drain()
    with conn.cursor() as cur:
        cur.copy_expert("COPY (SELECT item FROM bench_items) TO STDOUT", drain)
    return drain.lines


def explain(conn):
    """EXPLAIN ANALYZE of the count: the lines that say what was sent."""
    with conn.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, COSTS OFF, SUMMARY OFF) SELECT count(item) FROM bench_items")
        return [r[0].strip() for r in cur.fetchall()
                if "DynamoDB" in r[0] or "Requests" in r[0] or "Items" in r[0] or "Network" in r[0]]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--segments", type=int, default=4)
    ap.add_argument("--page-size", type=int, default=0)
    ap.add_argument("--no-fdw", action="store_true")
    args = ap.parse_args()
    n, segs, limit = args.items, args.segments, args.page_size
    table = "BenchItems%d" % n

    subprocess.run(["make", "-s", "-C", ROOT, "bench/floor"], check=True)
    t = time.perf_counter()
    size, json_size = load(table, n)
    print("loaded %d items of about %.0f bytes (%.0f as DynamoDB JSON) in %.1f s"
          % (n, size, json_size, time.perf_counter() - t), flush=True)

    floor_cmd = [os.path.join(HERE, "floor"), "--scan", os.environ["DDB_ENDPOINT"], table, str(segs)]
    if limit:
        floor_cmd.append(str(limit))
    floor_requests = []

    def floor():
        out = subprocess.run(floor_cmd, check=True, capture_output=True, text=True).stdout.split()
        floor_requests.append(int(out[2]))
        return int(out[0])

    serial_client, parallel_client = client(), client(segs)
    cases = [
        ("floor", floor),
        ("boto3 serial", lambda: boto3_scan(serial_client, table, limit)),
        ("boto3 parallel", lambda: boto3_parallel(parallel_client, table, limit, segs)),
    ]
    conn = None
    if not args.no_fdw:
        try:
            conn = fdw_setup(table, segs, limit)
            fdw_count(conn)
            cases[1:1] = [("fdw count", lambda: fdw_count(conn)),
                          ("fdw count(*)", lambda: fdw_count_star(conn)),
                          ("fdw to client", lambda: fdw_to_client(conn))]
        except Exception as e:  # noqa: BLE001 - reported, and the rest measured
            print("the FDW cannot read items here, left out: %s" % str(e).strip().splitlines()[0])
            conn = None

    # one pass of each, untimed: DynamoDB Local's JVM warms up on the first
    for name, run in cases:
        run()
    times = {name: [] for name, _ in cases}
    for r in range(args.rounds):
        order = cases[r % len(cases):] + cases[:r % len(cases)]
        for name, run in order:
            t = time.perf_counter()
            got = run()
            times[name].append(time.perf_counter() - t)
            if got != n:
                sys.exit("%s read %d items, not %d" % (name, got, n))
    med = {name: statistics.median(v) for name, v in times.items()}

    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "items.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["case", "items", "segments", "page_size", "median_s", "items_per_s"] +
                   ["round%d_s" % i for i in range(args.rounds)])
        for name, v in times.items():
            w.writerow([name, n, segs if name != "boto3 serial" else 1, limit or "",
                        "%.4f" % med[name], "%.0f" % (n / med[name])] + ["%.4f" % x for x in v])

    print("%d items, %d segments, %s, %d rounds" % (n, segs, "Limit %d" % limit if limit else "1 MB pages",
                                                    args.rounds))
    print("| case | median seconds | items/s |")
    print("|---|---:|---:|")
    for name in times:
        print("| %s | %.3f | %.0f |" % (name, med[name], n / med[name]))
    print()
    print("floor: %d Scan requests" % floor_requests[0])
    print("boto3 serial / boto3 parallel: %.2f" % (med["boto3 serial"] / med["boto3 parallel"]))
    if conn is not None:
        for fdw in ("fdw count", "fdw to client"):
            print("%s: boto3 serial / fdw %.2f (target ≥ 5), boto3 parallel / fdw %.2f (target > 1), "
                  "fdw / floor %.2f (target ≤ 1.5)"
                  % (fdw, med["boto3 serial"] / med[fdw], med["boto3 parallel"] / med[fdw],
                     med[fdw] / med["floor"]))
        print("EXPLAIN ANALYZE of the count:")
        for line in explain(conn):
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
