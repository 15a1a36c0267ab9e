#!/usr/bin/python3
"""What users run today: a boto3 reader of a DynamoDB Stream (every shard,
parents first as DescribeStream lists them), optionally writing the records
into PostgreSQL with psycopg2's execute_values.

    bench/boto3_reader.py STREAM_ARN [--to-postgres TABLE]

Prints the number of records read.  DDB_ENDPOINT and PG* as in test/harness.
"""
import argparse
import json
import os
import sys

import boto3


def read(client, arn):
    shards, start = [], None
    while True:
        kw = {"StreamArn": arn, "Limit": 100}
        if start:
            kw["ExclusiveStartShardId"] = start
        desc = client.describe_stream(**kw)["StreamDescription"]
        shards += desc["Shards"]
        start = desc.get("LastEvaluatedShardId")
        if not start:
            break
    for shard in shards:
        it = client.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                       ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        seen = 0
        while it:
            page = client.get_records(ShardIterator=it, Limit=1000)
            records = page["Records"]
            if not records and seen:
                break
            seen += len(records)
            yield from records
            it = page.get("NextShardIterator")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("arn")
    ap.add_argument("--to-postgres")
    args = ap.parse_args()
    client = boto3.client("dynamodb", endpoint_url=os.environ["DDB_ENDPOINT"],
                          region_name="us-east-1", aws_access_key_id="bench",
                          aws_secret_access_key="bench")
    streams = boto3.client("dynamodbstreams", endpoint_url=os.environ["DDB_ENDPOINT"],
                           region_name="us-east-1", aws_access_key_id="bench",
                           aws_secret_access_key="bench")
    del client
    n = 0
    if not args.to_postgres:
        for _ in read(streams, args.arn):
            n += 1
        print(n)
        return 0

    import psycopg2
    from psycopg2.extras import execute_values
    conn = psycopg2.connect(dbname="postgres")
    cur = conn.cursor()
    batch = []
    sql = "INSERT INTO %s (event_id, event_name, seq, keys, new_image, old_image) VALUES %%s" % args.to_postgres

    def flush():
        execute_values(cur, sql, batch, page_size=1000)
        batch.clear()

    for r in read(streams, args.arn):
        d = r["dynamodb"]
        batch.append((r["eventID"], r["eventName"], d["SequenceNumber"], json.dumps(d.get("Keys"), default=str),
                      json.dumps(d.get("NewImage"), default=str), json.dumps(d.get("OldImage"), default=str)))
        n += 1
        if len(batch) >= 1000:
            flush()
    if batch:
        flush()
    conn.commit()
    print(n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
