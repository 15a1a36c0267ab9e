"""Scaffolding shared by the scenario tests that drive PostgreSQL and
DynamoDB Local from Python (test/consumer_crash.py,
test/mirror_concurrency.py, test/snapshot_stream.py): TAP-like checks,
connections, a fresh DynamoDB table with a stream, and a fresh database with
the extension and a server.

Needs PGHOST, PGPORT and DDB_ENDPOINT, as test/harness sets them.
"""
import os
import sys

import boto3
import psycopg2

results = []


def check(ok, what):
    """One check: prints "ok N - what" or "not ok N - what"."""
    results.append(ok)
    print(("ok" if ok else "not ok") + " %d - %s" % (len(results), what), flush=True)


def run(main, name):
    """Run main(); a failure to run is a failed check, with its cause. Ends
    with the closing "N passed, N failed" line and the exit status."""
    try:
        main()
    except Exception as e:  # noqa: BLE001 - reported as a failed check
        check(False, "the %s could not run: %s: %s" % (name, type(e).__name__, e))
    failed = results.count(False)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    sys.exit(1 if failed else 0)


def connect(dbname):
    conn = psycopg2.connect(dbname=dbname, host=os.environ["PGHOST"],
                            port=os.environ["PGPORT"], user="postgres")
    conn.autocommit = True
    return conn


def dynamodb():
    return boto3.client("dynamodb", endpoint_url=os.environ["DDB_ENDPOINT"],
                        region_name="us-east-1")


def fresh_table(ddb, table, view="NEW_AND_OLD_IMAGES"):
    """A new, empty table with key "id" and a stream of the given
    StreamViewType (None: no stream)."""
    try:
        ddb.delete_table(TableName=table)
    except ddb.exceptions.ResourceNotFoundException:
        pass
    stream = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": view}} if view else {}
    ddb.create_table(TableName=table,
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     BillingMode="PAY_PER_REQUEST", **stream)


def fresh_database(db, key):
    """A new database with ddbstream_fdw, server "ddb" on DynamoDB Local and
    a user mapping with access key "key"; returns a connection to it."""
    admin = connect("postgres")
    with admin.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS %s" % db)
        cur.execute("CREATE DATABASE %s" % db)
    admin.close()
    conn = connect(db)
    with conn.cursor() as cur:
        cur.execute("CREATE EXTENSION ddbstream_fdw")
        cur.execute("CREATE SERVER ddb FOREIGN DATA WRAPPER ddbstream_fdw "
                    "OPTIONS (region 'us-east-1', endpoint %s)", (os.environ["DDB_ENDPOINT"],))
        cur.execute("CREATE USER MAPPING FOR CURRENT_USER SERVER ddb "
                    "OPTIONS (access_key_id %s, secret_access_key %s)", (key, key + "secret"))
    return conn


def drop_database(db):
    admin = connect("postgres")
    with admin.cursor() as cur:
        cur.execute("DROP DATABASE %s" % db)
    admin.close()
