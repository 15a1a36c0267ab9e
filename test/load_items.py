#!/usr/bin/python3
"""Write N items into a DynamoDB table (created with a stream if missing).

Used by tests and benchmarks to make streams of a known size quickly:
BatchWriteItem, 25 items a call, through boto3 (Debian's python3-boto3).

    test/load_items.py TABLE N [--start K] [--view NEW_AND_OLD_IMAGES]

Each item is a realistic record: a string key, ten attributes, a nested map
and a string set.  DDB_ENDPOINT names the endpoint (as in test/ddb).
"""
import argparse
import os
import sys

import boto3


def item(i):
    return {
        "id": {"S": "item-%08d" % i},
        "n": {"N": str(i)},
        "brand": {"S": ("Fairphone", "Google", "Nokia", "Apple")[i % 4]},
        "model": {"S": "model %d" % (i % 97)},
        "price": {"N": "%d.%02d" % (100 + i % 900, i % 100)},
        "in_stock": {"BOOL": i % 3 != 0},
        "weight_g": {"N": str(150 + i % 80)},
        "released": {"S": "2024-%02d-%02dT00:00:00Z" % (1 + i % 12, 1 + i % 28)},
        "colors": {"SS": ["black", "white", "color-%d" % (i % 7)]},
        "specs": {"M": {"ram_gb": {"N": str(4 + i % 8)},
                        "storage_gb": {"N": str(64 * (1 + i % 4))},
                        "5g": {"BOOL": i % 2 == 0},
                        "screen": {"M": {"inches": {"N": "6.1"}, "hz": {"N": "120"}}}}},
        "notes": {"S": "lorem ipsum dolor sit amet " * 2},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("table")
    ap.add_argument("count", type=int)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--view", default="NEW_AND_OLD_IMAGES")
    args = ap.parse_args()

    client = boto3.client(
        "dynamodb",
        endpoint_url=os.environ["DDB_ENDPOINT"],
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "loader"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "loader"),
    )
    if args.table not in client.list_tables()["TableNames"]:
        client.create_table(
            TableName=args.table,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": args.view},
        )
    i = args.start
    end = args.start + args.count
    while i < end:
        batch = [{"PutRequest": {"Item": item(k)}} for k in range(i, min(i + 25, end))]
        requests = {args.table: batch}
        while requests:
            resp = client.batch_write_item(RequestItems=requests)
            requests = resp.get("UnprocessedItems") or {}
        i += len(batch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
