#!/usr/bin/python3
"""The README's mirror recipe under concurrent runs: two syncers calling the
MERGE procedure in loops while a writer changes the DynamoDB table.

Run by test/harness check (needs PGHOST, PGPORT and DDB_ENDPOINT).  The
writer puts, updates and deletes items of a small key space for a bounded
time; two sessions run CALL sync_mirror() back to back, so that their runs
overlap all the time.  Every run must succeed (the procedure's advisory lock
makes the second run wait and then see the first one's rows), and after a last run
the mirror must equal a DynamoDB Scan of the table.

Prints one line per check and a closing "N passed, N failed".
With --without-lock the procedure lacks its advisory lock (the recipe as it
was before): that shows the failures the lock prevents.
"""
import json
import random
import sys
import threading
import time
from decimal import Decimal

import psycopg2

from scenario import check, connect, drop_database, dynamodb, fresh_database, \
    fresh_table, run

TABLE = "ConcurrentMirror"
DB = "mirror_concurrency"
WRITE_SECONDS = 20
MAX_WRITES = 3000
KEYS = 40

def setup(ddb, with_lock):
    fresh_table(ddb, TABLE)
    conn = fresh_database(DB, "mirrorkey")
    with conn.cursor() as cur:
        cur.execute("CREATE FOREIGN TABLE feed (event_name text, keys jsonb, new_image jsonb) "
                    "SERVER ddb OPTIONS (table_name %s, consumer 'mirror')", (TABLE,))
        cur.execute("CREATE TABLE mirror (key jsonb PRIMARY KEY, item jsonb NOT NULL)")
        # The README's procedure, names aside.
        cur.execute("""
            CREATE PROCEDURE sync_mirror() LANGUAGE sql AS $$
              %s
              WITH changes AS MATERIALIZED (
                SELECT keys, event_name, new_image, row_number() OVER () AS n FROM feed
              ), latest AS (
                SELECT DISTINCT ON (keys) * FROM changes ORDER BY keys, n DESC
              )
              MERGE INTO mirror m
              USING latest c ON m.key = c.keys
              WHEN MATCHED AND c.event_name = 'REMOVE' THEN DELETE
              WHEN MATCHED THEN UPDATE SET item = c.new_image
              WHEN NOT MATCHED AND c.event_name <> 'REMOVE' THEN
                INSERT (key, item) VALUES (c.keys, c.new_image);
            $$""" % ("SELECT pg_advisory_xact_lock(hashtext('sync_mirror'));" if with_lock else ""))
    conn.close()


def writer(ddb, stop, counts):
    rnd = random.Random(7)
    deadline = time.time() + WRITE_SECONDS
    while time.time() < deadline and counts["writes"] < MAX_WRITES and not stop.is_set():
        key = {"id": {"S": "k%02d" % rnd.randrange(KEYS)}}
        op = rnd.random()
        if op < 0.5:
            ddb.put_item(TableName=TABLE, Item=dict(key, v={"N": str(rnd.randrange(10**6))},
                                                    note={"S": "put %d" % counts["writes"]}))
        elif op < 0.8:
            ddb.update_item(TableName=TABLE, Key=key, UpdateExpression="SET v = :v",
                            ExpressionAttributeValues={":v": {"N": str(rnd.randrange(10**6))}})
        else:
            ddb.delete_item(TableName=TABLE, Key=key)
        counts["writes"] += 1


def syncer(name, stop, counts, errors):
    conn = connect(DB)
    rnd = random.Random(name)
    while not stop.is_set():
        try:
            with conn.cursor() as cur:
                cur.execute("CALL sync_mirror()")
            counts[name] += 1
        except psycopg2.Error as e:
            errors.append("%s: %s" % (name, str(e).splitlines()[0]))
        time.sleep(rnd.random() * 0.02)
    conn.close()


def plain(av):
    """An AttributeValue as image_format 'plain' shows it (the types used here)."""
    if "S" in av:
        return av["S"]
    if "N" in av:
        return Decimal(av["N"])
    raise ValueError("unexpected AttributeValue %r" % av)


def scan_items(ddb):
    items, kwargs = [], {"TableName": TABLE, "ConsistentRead": True}
    while True:
        resp = ddb.scan(**kwargs)
        items += resp["Items"]
        if "LastEvaluatedKey" not in resp:
            return {i["id"]["S"]: {k: plain(v) for k, v in i.items()} for i in items}
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def mirror_items(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT item::text FROM mirror")
        rows = [json.loads(r[0], parse_float=Decimal) for r in cur.fetchall()]
    return {r["id"]: {k: (Decimal(v) if isinstance(v, int) else v) for k, v in r.items()}
            for r in rows}


def main():
    ddb = dynamodb()
    setup(ddb, "--without-lock" not in sys.argv)
    stop = threading.Event()
    counts = {"writes": 0, "a": 0, "b": 0}
    errors = []
    threads = [threading.Thread(target=syncer, args=(n, stop, counts, errors)) for n in "ab"]
    for t in threads:
        t.start()
    writer(ddb, stop, counts)
    stop.set()
    for t in threads:
        t.join()

    check(not errors and counts["a"] > 0 and counts["b"] > 0,
          "two syncers ran %d and %d runs during %d writes: %d failed%s"
          % (counts["a"], counts["b"], counts["writes"], len(errors),
             "" if not errors else " (" + "; ".join(errors[:3]) + ")"))

    conn = connect(DB)
    with conn.cursor() as cur:
        cur.execute("CALL sync_mirror()")
    scanned = scan_items(ddb)
    mirrored = mirror_items(conn)
    diff = [k for k in set(scanned) | set(mirrored) if scanned.get(k) != mirrored.get(k)]
    check(not diff, "after a last run the mirror equals a DynamoDB Scan: %d items scanned, "
          "%d mirrored, %d differences" % (len(scanned), len(mirrored), len(diff)))
    conn.close()

    drop_database(DB)
    ddb.delete_table(TableName=TABLE)


if __name__ == "__main__":
    run(main, "mirror concurrency test")
