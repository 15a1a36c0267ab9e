#!/usr/bin/python3
"""Exactly-once across crashes: a consumer's rows and positions survive or
vanish together when the backend reading it is killed with SIGKILL.

Run by test/harness check (needs PGHOST, PGPORT, DDB_ENDPOINT and the right
to signal the server's processes).  Each round writes records to DynamoDB
Local, copies them through a consumer in a transaction, and kills the
backend with SIGKILL: before COMMIT (nothing may survive) or after it
(everything must).  A kill makes the postmaster restart every backend, as
after any crash.  At the end the change log must equal the stream: no
record missing, none twice (event_id is the primary key).  The last two
rounds read the consumer through a parallel plan (a Gather joining the feed
with a local table) and copy the rows from the client.

Prints one line per check and a closing "N passed, N failed".
"""
import os
import signal
import time

import psycopg2

from scenario import check, connect as connect_once, drop_database, dynamodb, \
    fresh_database, fresh_table, run

ROUNDS = 8
PARALLEL_FROM = 7   # rounds from this one on read through a parallel plan
RECORDS_PER_ROUND = 5
TABLE = "CrashAccounts"
DB = "consumer_crash"

def connect(dbname=DB, timeout=60):
    """Connect, waiting for the server to come back after a crash."""
    deadline = time.time() + timeout
    while True:
        try:
            return connect_once(dbname)
        except psycopg2.OperationalError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def kill_backend(conn):
    """SIGKILL the connection's backend, and wait for the server's restart:
    its checkpointer is started anew after every crash."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid(), now()")
        pid, killed_at = cur.fetchone()
    os.kill(pid, signal.SIGKILL)
    try:
        conn.close()
    except psycopg2.Error:
        pass
    deadline = time.time() + 60
    while True:
        try:
            c = connect()
            started = one(c, "SELECT backend_start FROM pg_stat_activity "
                             "WHERE backend_type = 'checkpointer'")
            c.close()
            if started is not None and started > killed_at:
                return
        except psycopg2.Error:
            pass
        if time.time() > deadline:
            raise RuntimeError("the server did not restart after SIGKILL")
        time.sleep(0.1)


PARALLEL_COPY = ("SELECT f.event_id, f.seq, f.keys::text FROM feed f "
                 "JOIN ids i ON i.id = f.keys ->> 'id'")


def copy_in_parallel_plan(cur, show_plan):
    """Read the consumer in a plan with a Gather, and insert what it returned
    from the client, in the same transaction."""
    for setting in ("parallel_setup_cost", "parallel_tuple_cost",
                    "min_parallel_table_scan_size"):
        cur.execute("SET LOCAL %s = 0" % setting)
    if show_plan:
        cur.execute("EXPLAIN (COSTS OFF) " + PARALLEL_COPY)
        plan = [r[0] for r in cur.fetchall()]
        check(any("Gather" in line for line in plan),
              "the parallel rounds' plan has a Gather: %s" % " / ".join(l.strip() for l in plan[:3]))
    cur.execute(PARALLEL_COPY)
    rows = cur.fetchall()
    cur.executemany("INSERT INTO log VALUES (%s, %s, %s::jsonb)", rows)
    return len(rows)


def one(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()[0]


def main():
    ddb = dynamodb()
    fresh_table(ddb, TABLE)
    conn = fresh_database(DB, "crashkey")
    with conn.cursor() as cur:
        cur.execute("CREATE FOREIGN TABLE feed (event_id text, seq numeric, keys jsonb) "
                    "SERVER ddb OPTIONS (table_name %s, consumer 'crash')", (TABLE,))
        cur.execute("CREATE FOREIGN TABLE stream (event_id text, seq numeric, keys jsonb) "
                    "SERVER ddb OPTIONS (table_name %s)", (TABLE,))
        cur.execute("CREATE TABLE log (event_id text PRIMARY KEY, seq numeric, keys jsonb)")
        cur.execute("CREATE TABLE ids (id text, pad int)")
        cur.execute("INSERT INTO ids SELECT format('c%s', lpad(g::text, 3, '0')), g "
                    "FROM generate_series(1, 999) g")
        cur.execute("ANALYZE ids")
    conn.close()

    n = 0
    for rnd in range(1, ROUNDS + 1):
        for _ in range(RECORDS_PER_ROUND):
            n += 1
            ddb.put_item(TableName=TABLE, Item={"id": {"S": "c%03d" % n}})
        before = one(connect(), "SELECT count(*) FROM log")
        conn = connect()
        conn.autocommit = False
        with conn.cursor() as cur:
            if rnd >= PARALLEL_FROM:
                copied = copy_in_parallel_plan(cur, rnd == PARALLEL_FROM)
            else:
                cur.execute("INSERT INTO log SELECT * FROM feed")
                copied = cur.rowcount
        how = "(parallel plan) " if rnd >= PARALLEL_FROM else ""
        if rnd % 2 == 1:
            kill_backend(conn)
            after = one(connect(), "SELECT count(*) FROM log")
            check(copied == RECORDS_PER_ROUND and after == before,
                  how + "round %d: killed before COMMIT after copying %d records: %d rows kept (want %d)"
                  % (rnd, copied, after - before, 0))
        else:
            conn.commit()
            kill_backend(conn)
            after = one(connect(), "SELECT count(*) FROM log")
            # the previous round's records, rolled back by its crash, come again
            check(copied == 2 * RECORDS_PER_ROUND and after == before + copied,
                  how + "round %d: killed after COMMIT of %d records: %d rows kept (want %d)"
                  % (rnd, copied, after - before, copied))

    conn = connect()
    with conn.cursor() as cur:
        cur.execute("INSERT INTO log SELECT * FROM feed")
        check(cur.rowcount == 0, "after the last crash the consumer has nothing new: %d rows"
              % cur.rowcount)
    total = one(conn, "SELECT count(*) FROM stream")
    copied = one(conn, "SELECT count(*) FROM log")
    missing = one(conn, "SELECT count(*) FROM stream s WHERE NOT EXISTS "
                        "(SELECT 1 FROM log l WHERE l.event_id = s.event_id AND l.seq = s.seq)")
    check(total == n and copied == n and missing == 0,
          "%d records in the stream, %d in the log, %d missing, 0 twice (primary key)"
          % (total, copied, missing))
    conn.close()

    drop_database(DB)
    ddb.delete_table(TableName=TABLE)


if __name__ == "__main__":
    run(main, "crash test")
