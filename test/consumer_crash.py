#!/usr/bin/python3
"""Exactly-once across crashes: a consumer's rows and positions survive or
vanish together when the backend reading it is killed with SIGKILL.

Run by test/harness check (needs PGHOST, PGPORT, DDB_ENDPOINT and the right
to signal the server's processes).  Each round writes records to DynamoDB
Local, copies them through a consumer in a transaction, and kills the
backend with SIGKILL: before COMMIT (nothing may survive) or after it
(everything must).  A kill makes the postmaster restart every backend, as
after any crash.  At the end the change log must equal the stream: no
record missing, none twice (event_id is the primary key).

Prints one line per check and a closing "N passed, N failed".
"""
import os
import signal
import sys
import time

import boto3
import psycopg2

ROUNDS = 6
RECORDS_PER_ROUND = 5
TABLE = "CrashAccounts"
DB = "consumer_crash"

results = []


def check(ok, what):
    results.append(ok)
    print(("ok" if ok else "not ok") + " %d - %s" % (len(results), what), flush=True)


def connect(dbname=DB, timeout=60):
    """Connect, waiting for the server to come back after a crash."""
    deadline = time.time() + timeout
    while True:
        try:
            conn = psycopg2.connect(dbname=dbname, host=os.environ["PGHOST"],
                                    port=os.environ["PGPORT"], user="postgres")
            conn.autocommit = True
            return conn
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


def one(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()[0]


def main():
    ddb = boto3.client("dynamodb", endpoint_url=os.environ["DDB_ENDPOINT"],
                       region_name="us-east-1")
    try:
        ddb.delete_table(TableName=TABLE)
    except ddb.exceptions.ResourceNotFoundException:
        pass
    ddb.create_table(TableName=TABLE,
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     BillingMode="PAY_PER_REQUEST",
                     StreamSpecification={"StreamEnabled": True,
                                          "StreamViewType": "NEW_AND_OLD_IMAGES"})

    admin = connect("postgres")
    with admin.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS %s" % DB)
        cur.execute("CREATE DATABASE %s" % DB)
    admin.close()
    conn = connect()
    with conn.cursor() as cur:
        cur.execute("CREATE EXTENSION ddbstream_fdw")
        cur.execute("CREATE SERVER ddb FOREIGN DATA WRAPPER ddbstream_fdw "
                    "OPTIONS (region 'us-east-1', endpoint %s)", (os.environ["DDB_ENDPOINT"],))
        cur.execute("CREATE USER MAPPING FOR CURRENT_USER SERVER ddb "
                    "OPTIONS (access_key_id 'crashkey', secret_access_key 'crashsecret')")
        cur.execute("CREATE FOREIGN TABLE feed (event_id text, seq numeric, keys jsonb) "
                    "SERVER ddb OPTIONS (table_name %s, consumer 'crash')", (TABLE,))
        cur.execute("CREATE FOREIGN TABLE stream (event_id text, seq numeric, keys jsonb) "
                    "SERVER ddb OPTIONS (table_name %s)", (TABLE,))
        cur.execute("CREATE TABLE log (event_id text PRIMARY KEY, seq numeric, keys jsonb)")
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
            cur.execute("INSERT INTO log SELECT * FROM feed")
            copied = cur.rowcount
        if rnd % 2 == 1:
            kill_backend(conn)
            after = one(connect(), "SELECT count(*) FROM log")
            check(copied == RECORDS_PER_ROUND and after == before,
                  "round %d: killed before COMMIT after copying %d records: %d rows kept (want %d)"
                  % (rnd, copied, after - before, 0))
        else:
            conn.commit()
            kill_backend(conn)
            after = one(connect(), "SELECT count(*) FROM log")
            # the previous round's records, rolled back by its crash, come again
            check(copied == 2 * RECORDS_PER_ROUND and after == before + copied,
                  "round %d: killed after COMMIT of %d records: %d rows kept (want %d)"
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

    admin = connect("postgres")
    with admin.cursor() as cur:
        cur.execute("DROP DATABASE %s" % DB)
    admin.close()
    ddb.delete_table(TableName=TABLE)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a failure to run is a failed check, with its cause
        check(False, "the crash test could not run: %s: %s" % (type(e).__name__, e))
    failed = results.count(False)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    sys.exit(1 if failed else 0)
