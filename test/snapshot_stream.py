#!/usr/bin/python3
"""The README's "Start a mirror of a table that already holds data" under
writes: positions first, then the table's items, then the consumer's MERGE.

Run by test/harness check (needs PGHOST, PGPORT and DDB_ENDPOINT).  A table
with a NEW_AND_OLD_IMAGES stream is pre-filled with 2,000 items; a writer
thread puts, updates and deletes items through the whole start (steps 1 to
3) and two more syncs; after the writer stops and a last sync, the mirror
must equal a DynamoDB Scan.  Then:
  - a start whose step 2 fails, run again from step 2 (the positions of
    step 1 kept), under writes: it converges too;
  - a consumer position trimmed from the stream: the sync fails with the
    consumer's error, and starting again (the recipe's answer) converges;
  - a table without a stream: step 1 fails with "has no stream", and the
    mirror is left alone; a copy refreshed whole works;
  - a KEYS_ONLY stream: the start works, the first sync that reads an
    INSERT fails on the mirror's NOT NULL (what the README says).

Step 2 reads the items through a foreign table with source 'items'
(--snapshot items), or, until that source is in the tree, with a boto3 Scan
(ConsistentRead) inserted by this script in one transaction of the same
statements (--snapshot boto3, the default for now).  In items mode the
procedure start_<name>() of the README is what starts and restarts a mirror.

Prints one line per check and a closing "N passed, N failed".
With --items-first, only the first scenario, with steps 1 and 2 the wrong
way round (the items copied before the positions are read): that shows the
differences the order prevents.
"""
import json
import random
import sys
import threading
import time
from decimal import Decimal

import psycopg2
from psycopg2.extras import execute_values

from scenario import check, connect, drop_database, dynamodb, fresh_database, \
    fresh_table, run

TABLE = "SnapshotStream"
NO_STREAM_TABLE = "SnapshotNoStream"
KEYS_ONLY_TABLE = "SnapshotKeysOnly"
DB = "snapshot_stream"
PREFILL = 2000
KEYS = 2200             # the writer's key space: the pre-filled items and 200 more
MAX_WRITES = 20000      # a bound on the writer, whatever the speed of the machine
SCAN_PAGE = 100         # items per Scan page: a snapshot of 20 pages
ROW_DELAY = 0.001       # seconds per row copied by step 2: its Scan spreads over 2 s

# Step 2 until the items source is in the tree: "boto3".  Then "items".
SNAPSHOT_DEFAULT = "items"

# The README's procedures, with the names of one mirror: feed_<name> (the
# consumer), items_<name> (source 'items'), mirror_<name>, sync_<name>(),
# start_<name>().
LOCK = "SELECT pg_advisory_xact_lock(hashtext('sync_{name}'))"
MERGE = """
  WITH changes AS MATERIALIZED (
    SELECT keys, event_name, new_image, row_number() OVER () AS n FROM feed_{name}
  ), latest AS (
    SELECT DISTINCT ON (keys) * FROM changes ORDER BY keys, n DESC
  )
  MERGE INTO mirror_{name} p
  USING latest c ON p.key = c.keys
  WHEN MATCHED AND c.event_name = 'REMOVE' THEN DELETE
  WHEN MATCHED THEN UPDATE SET item = c.new_image
  WHEN NOT MATCHED AND c.event_name <> 'REMOVE' THEN
    INSERT (key, item) VALUES (c.keys, c.new_image)"""
STEP1 = ["SELECT FROM ddbstream_fdw.consumers WHERE consumer = '{consumer}' FOR UPDATE",
         "DELETE FROM ddbstream_fdw.checkpoints WHERE consumer = '{consumer}'",
         "SELECT count(*) FROM feed_{name}"]
STEP2 = [LOCK, "DELETE FROM mirror_{name}",
         "INSERT INTO mirror_{name} SELECT keys, item FROM items_{name}"]
START = """
CREATE PROCEDURE start_{name}() LANGUAGE plpgsql AS $$
BEGIN
  PERFORM FROM ddbstream_fdw.consumers WHERE consumer = '{consumer}' FOR UPDATE;
  DELETE FROM ddbstream_fdw.checkpoints WHERE consumer = '{consumer}';
  PERFORM count(*) FROM feed_{name};
  COMMIT;
  PERFORM pg_advisory_xact_lock(hashtext('sync_{name}'));
  DELETE FROM mirror_{name};
  INSERT INTO mirror_{name} SELECT keys, item FROM items_{name};
  COMMIT;
  CALL sync_{name}();
END
$$"""


class Mirror:
    """One mirror of a DynamoDB table, kept by one consumer, as the README
    builds it; its steps run in one of the two snapshot modes."""

    def __init__(self, conn, ddb, mode, name, table, consumer, slow=False):
        """slow: each row step 2 inserts waits ROW_DELAY, so that the pages
        of its Scan (SCAN_PAGE items each) are read over a while, with
        writes in between, as on a large table."""
        self.conn, self.ddb, self.mode = conn, ddb, mode
        self.name, self.table, self.consumer = name, table, consumer
        self.fmt = {"name": name, "consumer": consumer}
        with conn.cursor() as cur:
            cur.execute("CREATE FOREIGN TABLE feed_%s (event_name text, keys jsonb, new_image jsonb) "
                        "SERVER ddb OPTIONS (table_name %%s, consumer %%s)" % name, (table, consumer))
            if mode == "items":
                cur.execute("CREATE FOREIGN TABLE items_%s (keys jsonb, item jsonb) SERVER ddb "
                            "OPTIONS (table_name %%s, source 'items', consistent_read 'true', "
                            "page_size '%d')" % (name, SCAN_PAGE), (table,))
            cur.execute("CREATE TABLE mirror_%s (key jsonb PRIMARY KEY, item jsonb NOT NULL)" % name)
            if slow:
                cur.execute("""CREATE FUNCTION slow_%s() RETURNS trigger LANGUAGE plpgsql AS $$
                               BEGIN PERFORM pg_sleep(%s); RETURN NEW; END $$""" % (name, ROW_DELAY))
                cur.execute("CREATE TRIGGER slow BEFORE INSERT ON mirror_%s "
                            "FOR EACH ROW EXECUTE FUNCTION slow_%s()" % (name, name))
            cur.execute(("CREATE PROCEDURE sync_{name}() LANGUAGE sql AS $$ " + LOCK + ";" + MERGE
                         + "; $$").format(**self.fmt))
            cur.execute(START.format(**self.fmt))

    def transaction(self, statements, between=None):
        """Runs the statements in one transaction; returns the last one's
        row count.  between(cur) runs after them, before COMMIT."""
        with self.conn.cursor() as cur:
            cur.execute("BEGIN")
            try:
                for s in statements:
                    cur.execute(s.format(**self.fmt))
                rows = cur.rowcount
                if between:
                    rows = between(cur)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        return rows

    def step1(self):
        """Positions: the old ones forgotten, the stream read to its end."""
        self.transaction(STEP1)

    def step2(self):
        """Items: the mirror emptied and filled with the table's items, in
        one transaction that holds the sync's lock.  Returns the rows copied."""
        if self.mode == "items":
            return self.transaction(STEP2)
        return self.transaction(STEP2[:2], between=self.copy_scan)

    def copy_scan(self, cur):
        """boto3 mode's step 2: a consistent Scan, page by page, inserted
        (what INSERT ... SELECT FROM items_<name> does in items mode)."""
        copied, kwargs = 0, {"TableName": self.table, "ConsistentRead": True, "Limit": SCAN_PAGE}
        while True:
            resp = self.ddb.scan(**kwargs)
            rows = [(json.dumps({"id": i["id"]["S"]}), plain_json({"M": i})) for i in resp["Items"]]
            if rows:
                execute_values(cur, "INSERT INTO mirror_%s (key, item) VALUES %%s" % self.name, rows,
                               template="(%s::jsonb, %s::jsonb)")
            copied += len(rows)
            if "LastEvaluatedKey" not in resp:
                return copied
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def sync(self):
        """The README's sync procedure, run as its statements so that the
        MERGE's row count is seen: returns the rows it changed."""
        return self.transaction([LOCK, MERGE])

    def call_sync(self):
        with self.conn.cursor() as cur:
            cur.execute("CALL sync_%s()" % self.name)

    def start(self):
        """The whole start: the README's procedure in items mode, its
        three steps from here in boto3 mode."""
        if self.mode == "items":
            with self.conn.cursor() as cur:
                cur.execute("CALL start_%s()" % self.name)
            return
        self.step1()
        self.step2()
        self.sync()

    def differences(self):
        """Items that differ between a DynamoDB Scan and the mirror."""
        scanned = scan_items(self.ddb, self.table)
        with self.conn.cursor() as cur:
            cur.execute("SELECT item::text FROM mirror_%s" % self.name)
            mirrored = {}
            for (text,) in cur.fetchall():
                item = json.loads(text, parse_float=Decimal, parse_int=Decimal)
                mirrored[item["id"]] = item
        diff = [k for k in set(scanned) | set(mirrored) if scanned.get(k) != mirrored.get(k)]
        return len(scanned), len(mirrored), diff


def plain(av):
    """An AttributeValue as image_format 'plain' shows it, read back."""
    (kind, v), = av.items()
    if kind == "S":
        return v
    if kind == "N":
        return Decimal(v)
    if kind in ("BOOL", "NULL"):
        return None if kind == "NULL" else v
    if kind == "M":
        return {k: plain(x) for k, x in v.items()}
    if kind == "L":
        return [plain(x) for x in v]
    raise ValueError("unexpected AttributeValue %r" % av)


def plain_json(av):
    """An AttributeValue as image_format 'plain' writes it (JSON text)."""
    (kind, v), = av.items()
    if kind == "S":
        return json.dumps(v)
    if kind == "N":
        return v
    if kind == "BOOL":
        return "true" if v else "false"
    if kind == "NULL":
        return "null"
    if kind == "M":
        return "{" + ",".join("%s:%s" % (json.dumps(k), plain_json(x)) for k, x in v.items()) + "}"
    if kind == "L":
        return "[" + ",".join(plain_json(x) for x in v) + "]"
    raise ValueError("unexpected AttributeValue %r" % av)


def scan_items(ddb, table):
    items, kwargs = [], {"TableName": table, "ConsistentRead": True}
    while True:
        resp = ddb.scan(**kwargs)
        items += resp["Items"]
        if "LastEvaluatedKey" not in resp:
            return {i["id"]["S"]: plain({"M": i}) for i in items}
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def an_item(n, rnd, note):
    return {"id": {"S": "p%05d" % n}, "v": {"N": str(rnd.randrange(10**6))},
            "note": {"S": note}, "active": {"BOOL": rnd.random() < 0.5},
            "dims": {"M": {"w": {"N": str(rnd.randrange(100))},
                           "tags": {"L": [{"S": "t%d" % rnd.randrange(9)}]}}}}


def prefill(ddb, table, count, rnd):
    for first in range(0, count, 25):
        batch = [{"PutRequest": {"Item": an_item(n, rnd, "prefill")}}
                 for n in range(first, min(first + 25, count))]
        while batch:
            resp = ddb.batch_write_item(RequestItems={table: batch})
            batch = resp.get("UnprocessedItems", {}).get(table, [])


class Writer(threading.Thread):
    """Puts, updates and deletes on the table until stopped; counts them."""

    def __init__(self, ddb, table, seed):
        super().__init__()
        self.ddb, self.table, self.rnd = ddb, table, random.Random(seed)
        self.stop = threading.Event()
        self.counts = {"put": 0, "update": 0, "delete": 0}

    def total(self):
        return sum(self.counts.values())

    def run(self):
        rnd = self.rnd
        while not self.stop.is_set() and self.total() < MAX_WRITES:
            n = rnd.randrange(KEYS)
            op = rnd.random()
            if op < 0.4:
                self.ddb.put_item(TableName=self.table, Item=an_item(n, rnd, "put %d" % self.total()))
                self.counts["put"] += 1
            elif op < 0.75:
                self.ddb.update_item(TableName=self.table, Key={"id": {"S": "p%05d" % n}},
                                     UpdateExpression="SET v = :v, note = :n",
                                     ExpressionAttributeValues={":v": {"N": str(rnd.randrange(10**6))},
                                                                ":n": {"S": "update %d" % self.total()}})
                self.counts["update"] += 1
            else:
                self.ddb.delete_item(TableName=self.table, Key={"id": {"S": "p%05d" % n}})
                self.counts["delete"] += 1

    def finish(self):
        self.stop.set()
        self.join()


def error_of(f):
    """The first line of the PostgreSQL error f() raises, or None."""
    try:
        f()
    except psycopg2.Error as e:
        return str(e).splitlines()[0]
    return None


def kinds(counts):
    return "%d puts, %d updates, %d deletes" % (counts["put"], counts["update"], counts["delete"])


def under_writes(ddb, m, items_first):
    """The start, step by step, and two syncs while a writer runs; then a
    last sync.  Returns what was counted.  items_first: steps 1 and 2 the
    wrong way round."""
    writer = Writer(ddb, m.table, 11)
    writer.start()
    time.sleep(0.5)
    times, writes = {}, {}

    def timed(step, f):
        t, w = time.time(), writer.total()
        result = f()
        times[step], writes[step] = time.time() - t, writer.total() - w
        return result

    try:
        if items_first:
            copied = timed(2, m.step2)
            timed(1, m.step1)
        else:
            timed(1, m.step1)
            copied = timed(2, m.step2)
        merged = timed(3, lambda: [m.sync(), m.sync(), m.sync()])
    finally:
        writer.finish()
    merged.append(m.sync())
    print("# steps: 1 took %.1f s, 2 took %.1f s (%d writes meanwhile), 3 and two syncs %.1f s"
          % (times[1], times[2], writes[2], times[3]), flush=True)
    return writer.counts, writes[2], copied, merged


def main_scenario(conn, ddb, mode, items_first=False):
    fresh_table(ddb, TABLE)
    prefill(ddb, TABLE, PREFILL, random.Random(1))
    m = Mirror(conn, ddb, mode, "main", TABLE, "mirror", slow=True)
    counts, during_copy, copied, merged = under_writes(ddb, m, items_first)
    scanned, mirrored, diff = m.differences()
    check(not diff and during_copy > 0,
          "start under writes (%s snapshot%s): %d items pre-filled; %d writes during the start and "
          "two syncs (%s), %d of them during step 2; %d rows copied; rows merged by step 3, two "
          "syncs and a last one: %s; %d items scanned, %d mirrored, %d differences%s"
          % (mode, ", items first" if items_first else "", PREFILL, sum(counts.values()), kinds(counts), during_copy, copied,
             " + ".join(map(str, merged)), scanned, mirrored, len(diff),
             "" if not diff else " (" + ", ".join(sorted(diff)[:5]) + ")"))
    return m


def rerun_scenario(conn, ddb, mode):
    """Step 2 fails half-way; steps 2 and 3 run again on step 1's positions."""
    m = Mirror(conn, ddb, mode, "rerun", TABLE, "rerun", slow=True)
    with conn.cursor() as cur:
        cur.execute("CREATE SEQUENCE rerun_rows")
        cur.execute("""CREATE FUNCTION fail_copy() RETURNS trigger LANGUAGE plpgsql AS $$
                       BEGIN
                         IF nextval('rerun_rows') = 500 THEN
                           RAISE EXCEPTION 'step 2 fails on purpose';
                         END IF;
                         RETURN NEW;
                       END $$""")
        cur.execute("CREATE TRIGGER fail_copy BEFORE INSERT ON mirror_rerun "
                    "FOR EACH ROW EXECUTE FUNCTION fail_copy()")
    writer = Writer(ddb, TABLE, 12)
    writer.start()
    try:
        m.step1()
        failed = error_of(m.step2)
        with conn.cursor() as cur:
            cur.execute("DROP TRIGGER fail_copy ON mirror_rerun")
            cur.execute("SELECT count(*) FROM mirror_rerun")
            left = cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM ddbstream_fdw.checkpoints WHERE consumer = 'rerun'")
            positions = cur.fetchone()[0]
        copied = m.step2()
        merged = [m.sync(), m.sync()]
    finally:
        writer.finish()
    merged.append(m.sync())
    scanned, mirrored, diff = m.differences()
    check(failed == "step 2 fails on purpose" and left == 0 and positions > 0 and not diff,
          "step 2 failed (%s), leaving %d rows and %d saved positions; steps 2 and 3 again under "
          "%d writes (%s): %d rows copied, %s merged, %d differences"
          % (failed, left, positions, writer.total(), kinds(writer.counts), copied,
             " + ".join(map(str, merged)), len(diff)))

    # the whole start again (in items mode, the README's procedure)
    m.start()
    scanned, mirrored, diff = m.differences()
    check(not diff, "the whole start run again on a mirror in use: %d items, %d differences"
          % (mirrored, len(diff)))


def trimmed_scenario(conn, ddb, m):
    """A position the stream no longer lists: the consumer's error, then a
    new start (not on_trimmed 'skip')."""
    with conn.cursor() as cur:
        cur.execute("""INSERT INTO ddbstream_fdw.checkpoints (consumer, stream_arn, shard_id, sequence_number)
                       SELECT consumer, stream_arn, 'shardId-00000001700000000000-trimmed', 1
                       FROM ddbstream_fdw.checkpoints WHERE consumer = 'mirror' LIMIT 1""")
    failed = error_of(m.sync) or ""
    ddb.put_item(TableName=TABLE, Item=an_item(PREFILL + 500, random.Random(5), "after the trim"))
    m.start()
    scanned, mirrored, diff = m.differences()
    expected = ('consumer "mirror" lost records: shard "shardId-00000001700000000000-trimmed" was '
                'trimmed from the stream before the consumer finished it')
    check(failed == expected and not diff,
          "a trimmed position fails the sync (%s); a new start converges: %d items, %d differences"
          % (failed, mirrored, len(diff)))


def no_stream_scenario(conn, ddb, mode):
    fresh_table(ddb, NO_STREAM_TABLE, view=None)
    prefill(ddb, NO_STREAM_TABLE, 50, random.Random(2))
    m = Mirror(conn, ddb, mode, "nostream", NO_STREAM_TABLE, "nostream")
    with conn.cursor() as cur:
        cur.execute("INSERT INTO mirror_nostream VALUES ('{\"id\": \"old\"}', '{\"id\": \"old\"}')")
    failed = error_of(m.start)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM mirror_nostream")
        left = cur.fetchone()[0]
        cur.execute("DELETE FROM mirror_nostream")
    copied = m.step2()      # the copy refreshed whole, with no stream
    scanned, mirrored, diff = m.differences()
    check(failed == 'DynamoDB table "%s" has no stream' % NO_STREAM_TABLE and left == 1
          and copied == 50 and not diff,
          "a table without a stream: the start fails (%s), the mirror left alone (%d row); a "
          "copy alone: %d rows, %d differences" % (failed, left, copied, len(diff)))


def keys_only_scenario(conn, ddb, mode):
    fresh_table(ddb, KEYS_ONLY_TABLE, view="KEYS_ONLY")
    prefill(ddb, KEYS_ONLY_TABLE, 20, random.Random(3))
    m = Mirror(conn, ddb, mode, "keysonly", KEYS_ONLY_TABLE, "keysonly")
    started = error_of(m.start)
    ddb.put_item(TableName=KEYS_ONLY_TABLE, Item=an_item(100, random.Random(4), "new"))
    failed = error_of(m.sync) or ""
    check(started is None and failed.startswith('null value in column "item" of relation '
                                                '"mirror_keysonly" violates not-null constraint'),
          "a KEYS_ONLY stream: the start %s; the sync after a put fails: %s"
          % ("works" if started is None else "fails: " + started, failed))


def main():
    mode, items_first = SNAPSHOT_DEFAULT, False
    for arg in sys.argv[1:]:
        if arg.startswith("--snapshot="):
            mode = arg.split("=", 1)[1]
        elif arg == "--items-first":
            items_first = True
        else:
            mode = None
    if mode not in ("items", "boto3"):
        sys.exit("usage: test/snapshot_stream.py [--snapshot=items|boto3] [--items-first]")
    ddb = dynamodb()
    conn = fresh_database(DB, "snapshotkey")
    m = main_scenario(conn, ddb, mode, items_first)
    if not items_first:
        rerun_scenario(conn, ddb, mode)
        trimmed_scenario(conn, ddb, m)
        no_stream_scenario(conn, ddb, mode)
        keys_only_scenario(conn, ddb, mode)
    conn.close()
    drop_database(DB)
    for t in (TABLE, NO_STREAM_TABLE, KEYS_ONLY_TABLE):
        try:
            ddb.delete_table(TableName=t)
        except ddb.exceptions.ResourceNotFoundException:
            pass


if __name__ == "__main__":
    run(main, "snapshot-then-stream test")
