#!/usr/bin/python3
"""A scripted DynamoDB Streams server for tests of shard lineage.

DynamoDB Local makes one shard per stream and never splits it, so the cases
that matter on AWS (closed parents, children, trimmed ancestors, paginated
DescribeStream, empty pages inside a shard) are served from here instead.
Standard library only; listens on 127.0.0.1.

    test/split_stream_server.py --port 0 --port-file PATH [--latency-ms MS]
                                [--tls-cert PEM --tls-key PEM]

It speaks the JSON 1.0 protocol of AWS (X-Amz-Target DynamoDB_20120810.* and
DynamoDBStreams_20120810.*) and checks for a SigV4 Authorization header but
not the signature.  Test.Stats and Test.Reset report and zero what it was
asked, per operation and per shard, plus the last credential seen.

Streams (see STREAMS below):
  Split     root (closed; parent trimmed away) -> left, right (closed)
            left -> leftchild (open, 2 empty pages before its 2 records)
            right -> rightchild (open, no records); listed children first,
            two shards per DescribeStream page
  Gappy     one closed shard, 5 records, 2 empty pages after the 2nd
  Fresh     one open shard whose records are stamped an hour in the future
  Empty     one open shard, no records
  Wide      64 closed root shards of 50 records each
  NoStream  a table without a stream
"""
import argparse
import base64
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

from loopback_server import listed_shard, serve

REGION = "us-east-1"


def seq(n):
    return "%021d" % (100000000000000000000 + n)


def shard(shard_id, parent, first, last, closed, empty_before=None, created=None):
    """A shard with records numbered first..last (inclusive; none if last < first)."""
    return {
        "id": shard_id,
        "parent": parent,
        "records": list(range(first, last + 1)),
        "start": first,
        "end": last if closed else None,
        "empty_before": empty_before or {},   # record index -> empty pages served before it
        "created": created,
    }


STREAMS = {
    "Split": {
        "page": 2,
        "shards": [
            shard("shardId-0005-rightchild", "shardId-0003-right", 41, 40, False),
            shard("shardId-0004-leftchild", "shardId-0002-left", 31, 32, False, {0: 2}),
            shard("shardId-0003-right", "shardId-0001-root", 21, 22, True),
            shard("shardId-0002-left", "shardId-0001-root", 11, 13, True),
            shard("shardId-0001-root", "shardId-0000-trimmed", 1, 3, True),
        ],
    },
    "Gappy": {"page": 100, "shards": [shard("shardId-gappy", None, 1, 5, True, {2: 2})]},
    "Fresh": {"page": 100, "shards": [shard("shardId-fresh", None, 1, 3, False, created="future")]},
    "Empty": {"page": 100, "shards": [shard("shardId-empty", None, 1, 0, False)]},
    "Wide": {
        "page": 100,
        "shards": [shard("shardId-wide-%02d" % i, None, 1000 * (i + 1), 1000 * (i + 1) + 49, True)
                   for i in range(64)],
    },
}
NO_STREAM_TABLES = {"NoStream"}


def arn(table):
    return "arn:aws:dynamodb:%s:000000000000:table/%s/stream/2024-01-01T00:00:00.000" % (REGION, table)


ARNS = {arn(t): t for t in STREAMS}


def record(table, sh, n, ordinal):
    """A stream record; Split's root shard holds an INSERT, MODIFY and a Time to Live REMOVE of key "a"."""
    if table == "Split" and sh["id"].endswith("root"):
        event = ("INSERT", "MODIFY", "REMOVE")[ordinal]
        key = "a"
    else:
        event = "INSERT"
        key = "%s-%d" % (sh["id"].rsplit("-", 1)[-1], ordinal)
    image = {"pk": {"S": key}, "n": {"N": str(ordinal)}, "shard": {"S": sh["id"]}}
    created = 1700000000 + n
    if sh["created"] == "future":
        created = int(time.time()) + 3600
    ddb = {
        "ApproximateCreationDateTime": created,
        "Keys": {"pk": {"S": key}},
        "SequenceNumber": seq(n),
        "SizeBytes": 20 + len(key),
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if event != "REMOVE":
        ddb["NewImage"] = image
    if event != "INSERT":
        ddb["OldImage"] = dict(image, n={"N": str(ordinal - 1)})
    result = {"eventID": "%s-%s" % (table.lower(), seq(n)), "eventName": event, "eventVersion": "1.1",
              "eventSource": "aws:dynamodb", "awsRegion": REGION, "dynamodb": ddb}
    if event == "REMOVE":
        # deleted by Time to Live, as AWS marks such deletes
        result["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return result


class AwsError(Exception):
    def __init__(self, status, kind, message):
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


def not_found(message):
    return AwsError(400, "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", message)


def invalid(message):
    return AwsError(400, "com.amazon.coral.validate#ValidationException", message)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.requests = {op: 0 for op in ("DescribeTable", "DescribeStream", "GetShardIterator", "GetRecords")}
        self.by_shard = {}
        self.last_credential = None
        self.last_signed_headers = None

    def count(self, op, shard_id=None):
        with self.lock:
            self.requests[op] = self.requests.get(op, 0) + 1
            if shard_id:
                ops = self.by_shard.setdefault(shard_id, {"GetShardIterator": 0, "GetRecords": 0})
                ops[op] += 1

    def json(self):
        with self.lock:
            return {"requests": dict(self.requests), "by_shard": json.loads(json.dumps(self.by_shard)),
                    "last_credential": self.last_credential, "last_signed_headers": self.last_signed_headers}


STATS = Stats()


def find_shard(body):
    table = ARNS.get(body.get("StreamArn"))
    if table is None:
        raise not_found("Requested resource not found: Stream: %s not found" % body.get("StreamArn"))
    for sh in STREAMS[table]["shards"]:
        if sh["id"] == body.get("ShardId"):
            return table, sh
    raise not_found("Requested resource not found: Shard: %s not found" % body.get("ShardId"))


def make_iterator(table, shard_id, index, empties):
    state = json.dumps([table, shard_id, index, empties]).encode()
    return base64.urlsafe_b64encode(state).decode()


def read_iterator(it):
    try:
        table, shard_id, index, empties = json.loads(base64.urlsafe_b64decode(it.encode()))
        sh = next(s for s in STREAMS[table]["shards"] if s["id"] == shard_id)
        return table, sh, int(index), int(empties)
    except Exception:
        raise invalid("Invalid ShardIterator")


def describe_table(body):
    name = body.get("TableName")
    if name in NO_STREAM_TABLES:
        return {"Table": {"TableName": name, "TableStatus": "ACTIVE"}}
    if name not in STREAMS:
        raise not_found("Cannot do operations on a non-existent table")
    return {"Table": {"TableName": name, "TableStatus": "ACTIVE",
                      "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
                      "LatestStreamArn": arn(name), "LatestStreamLabel": "2024-01-01T00:00:00.000"}}


def describe_stream(body):
    table = ARNS.get(body.get("StreamArn"))
    if table is None:
        raise not_found("Requested resource not found: Stream: %s not found" % body.get("StreamArn"))
    stream = STREAMS[table]
    shards = stream["shards"]
    start = 0
    if body.get("ExclusiveStartShardId"):
        ids = [s["id"] for s in shards]
        if body["ExclusiveStartShardId"] not in ids:
            raise invalid("Invalid ExclusiveStartShardId")
        start = ids.index(body["ExclusiveStartShardId"]) + 1
    page = min(int(body.get("Limit", 100)), stream["page"])
    listed = [listed_shard(sh, seq) for sh in shards[start:start + page]]
    desc = {"StreamArn": arn(table), "StreamLabel": "2024-01-01T00:00:00.000", "StreamStatus": "ENABLED",
            "StreamViewType": "NEW_AND_OLD_IMAGES", "TableName": table, "CreationRequestDateTime": 1700000000,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "Shards": listed}
    if start + page < len(shards):
        desc["LastEvaluatedShardId"] = listed[-1]["ShardId"]
    return {"StreamDescription": desc}


def get_shard_iterator(body):
    table, sh = find_shard(body)
    STATS.count("GetShardIterator", sh["id"])
    kind = body.get("ShardIteratorType")
    records = sh["records"]
    if kind == "TRIM_HORIZON":
        index = 0
    elif kind == "LATEST":
        index = len(records)
    elif kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        number = body.get("SequenceNumber", "")
        if not (21 <= len(number) <= 40 and number.isdigit()):
            raise invalid("1 validation error detected: Value '%s' at 'sequenceNumber' failed to satisfy constraint" % number)
        n = int(number) - 100000000000000000000
        if n < sh["start"] or (sh["end"] is not None and n > sh["end"]):
            raise invalid("Invalid SequenceNumber for the shard")
        index = sum(1 for r in records if r < n or (kind == "AFTER_SEQUENCE_NUMBER" and r == n))
    else:
        raise invalid("Invalid ShardIteratorType")
    return {"ShardIterator": make_iterator(table, sh["id"], index, 0)}


def get_records(body):
    table, sh, index, empties = read_iterator(body.get("ShardIterator", ""))
    STATS.count("GetRecords", sh["id"])
    limit = int(body.get("Limit", 1000))
    if not 1 <= limit <= 1000:
        raise invalid("Limit must be between 1 and 1000")
    records = sh["records"]
    scripted = sh["empty_before"].get(index, 0)
    if index < len(records) and empties < scripted:
        return {"Records": [], "NextShardIterator": make_iterator(table, sh["id"], index, empties + 1)}
    page = []
    i = index
    while i < len(records) and len(page) < limit:
        if i > index and sh["empty_before"].get(i, 0):
            break   # the next record sits behind scripted empty pages
        page.append(record(table, sh, records[i], i))
        i += 1
    result = {"Records": page}
    if i < len(records) or sh["end"] is None:
        result["NextShardIterator"] = make_iterator(table, sh["id"], i, 0)
    return result


OPERATIONS = {
    "DynamoDB_20120810.DescribeTable": ("DescribeTable", describe_table),
    "DynamoDBStreams_20120810.DescribeStream": ("DescribeStream", describe_stream),
    "DynamoDBStreams_20120810.GetShardIterator": (None, get_shard_iterator),
    "DynamoDBStreams_20120810.GetRecords": (None, get_records),
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    latency = 0.0
    verbose = False

    def log_message(self, fmt, *args):
        if self.verbose:
            super().log_message(fmt, *args)

    def reply(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/stats":
            return self.reply(200, STATS.json())
        self.reply(404, {"message": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(length)
        target = self.headers.get("X-Amz-Target", "")
        if target == "Test.Stats":
            return self.reply(200, STATS.json())
        if target == "Test.Reset" or self.path == "/reset":
            STATS.reset()
            return self.reply(200, {})
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 Credential="):
            return self.reply(400, {"__type": "com.amazon.coral.service#MissingAuthenticationTokenException",
                                    "message": "Request is missing Authentication Token"})
        with STATS.lock:
            STATS.last_credential = auth.split("Credential=", 1)[1].split(",", 1)[0]
            STATS.last_signed_headers = auth.split("SignedHeaders=", 1)[1].split(",", 1)[0] \
                if "SignedHeaders=" in auth else None
        if target not in OPERATIONS:
            return self.reply(400, {"__type": "com.amazon.coral.service#UnknownOperationException",
                                    "message": "Unknown operation %s" % target})
        counted, handler = OPERATIONS[target]
        if counted:
            STATS.count(counted)
        if self.latency and counted is None:
            time.sleep(self.latency)
        try:
            body = json.loads(raw or b"{}")
            self.reply(200, handler(body))
        except AwsError as e:
            self.reply(e.status, {"__type": e.kind, "message": e.message})
        except ValueError:
            self.reply(400, {"__type": "com.amazon.coral.service#SerializationException",
                             "message": "Malformed JSON"})


def main():
    ap = argparse.ArgumentParser(description="Scripted DynamoDB Streams test server")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--latency-ms", type=float, default=0.0)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    ap.add_argument("--tls-key", help="and this key (PEM)")
    args = ap.parse_args()

    Handler.latency = args.latency_ms / 1000.0
    Handler.verbose = args.verbose
    return serve(Handler, args.port, args.port_file, args.tls_cert, args.tls_key)


if __name__ == "__main__":
    sys.exit(main())
