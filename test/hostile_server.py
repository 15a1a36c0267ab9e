#!/usr/bin/python3
"""A scripted DynamoDB endpoint that answers as a hostile one would.

Whoever owns a foreign server chooses its endpoint, so any answer may be
wrong on purpose.  sql/hostile_endpoint.sql points a server here and checks
that every answer below ends in the right rows or a clean ERROR, never a
crash, a wrong row or a backend that grows without bound.  Standard library
only; listens on 127.0.0.1.

    test/hostile_server.py --port 0 --port-file PATH

Each table (DescribeTable) has a stream whose ARN names it; what the
stream's DescribeStream and GetRecords answer depends on the table:

  Chain         150,000 shards, each the parent of the next, listed deepest
                first, 100 a DescribeStream page; the root holds 3 records,
                the open tip 2, the others none.  Their IDs sort tip first
                (shardId-000000 is the tip, shardId-149999 the root).
  Cycle         150,000 shards whose parents go round in a cycle, 100 a page
  Wide          one DescribeStream page of 101 shards (100 were asked for)
  FreshTokens   DescribeStream pages of 100 new shards each, with a new
                LastEvaluatedShardId every time: a listing that never ends
  ShardLoop     LastEvaluatedShardId alternates a, b, a, b, ...
  Twice         one shard listed twice
  HugeDeclared  GetRecords: Content-Length 200 MB
  HugeStreamed  GetRecords: 200 MB of spaces inside a JSON string, chunked
  Dense         GetRecords: 15 MB of "0,0,0,..." (7.8 million values)
  Big           GetRecords: a valid page of about 100 kB
  TooMany       GetRecords: one record more than the Limit asked for
  RawNul        eventID "abc<NUL>def", a raw NUL byte (after a valid record)
  RawNulNumber  an N value "12<NUL>3"
  RawNulSeq     a SequenceNumber cut short by a raw NUL
  RawControl    a raw 0x01 inside a string
  RawBetween    a raw 0x01 between two tokens
  Escaped       \\" \\\\ \\n \\u00e9 and a string ending in \\\\: valid, one row
  Deep          an attribute of lists nested 100,000 deep
  Nested        an attribute of maps nested 400 deep (about 800 JSON levels:
                valid, one row)
  SizeHuge, SizeNegative, SizeInfinite, SizeFraction, SizeBig
                SizeBytes 1e300, -1e30, 1e999, 1.5, 3000000000
  ErrorNul      GetRecords: HTTP 400 whose __type holds a raw NUL byte
  Budget        16 closed shards, each a GetRecords page of about 12 MB
                (valid, under max_response_bytes): 192 MB at once
  Backwards     a page whose sequence numbers go 5, 3, 3
  OutOfRange    a record numbered past its closed shard's end
  ClosedEmpty   a closed shard that answers empty pages, each with a new
                next iterator, forever
  DupNames      a record naming eventID twice
  LoneSurrogate an eventID with \\ud800 and no low half after it
  Surrogates    an eventID with a whole pair \\ud83d\\ude00: valid, one row

ListTables (IMPORT FOREIGN SCHEMA) answers LastEvaluatedTableName
alternating a, b, a, b, ...

Tables read as items (source 'items'), key id:S, no stream; what Scan,
Query, GetItem and BatchGetItem answer depends on the table:

  ItemsLoop          LastEvaluatedKey is the ExclusiveStartKey sent
  ItemsCycle         LastEvaluatedKey goes a, b, a, b, ...
  ItemsNotArray      "Items" is an object
  ItemsNotObject     an item is a number
  ItemsMember        an item's attribute is a string, not an AttributeValue
  ItemsTooMany       one item more than the Limit asked for
  ItemsCapacity      ConsumedCapacity.CapacityUnits is -1
  ItemsOtherKey      GetItem, BatchGetItem and Query return an item of a
                     key not asked for
  ItemsTwice         BatchGetItem returns an item twice
  ItemsUnprocessed   BatchGetItem returns every key unprocessed, forever
  ItemsOddUnprocessed  UnprocessedKeys lists a key not asked for
  ItemsNoHash, ItemsNoDefinition, ItemsBadType, ItemsThreeKeys
                     DescribeTable: a key schema of one RANGE key, a key
                     without definition, a key of type SS, three keys
"""
import base64
import json
from http.server import BaseHTTPRequestHandler

from loopback_server import listed_shard, main

REGION = "us-east-1"
CHAIN_LENGTH = 150000
HUGE = 200 * 1024 * 1024
NUL, CTL, DEEP = "@@NUL@@", "@@CTL@@", "@@DEEP@@"  # placeholders in a body


def seq(n):
    return "%021d" % (10 ** 20 + n)


def arn(table):
    return "arn:aws:dynamodb:%s:000000000000:table/%s/stream/2024-01-01T00:00:00.000" % (REGION, table)


def shard(shard_id, parent, first, end, records):
    """A shard: its range starts at first, ends at end (None: open)."""
    return {"id": shard_id, "parent": parent, "start": first, "end": end, "records": records}


def chain_id(i):
    """The ID of the shard i generations below the root: IDs sort tip first,
    so a walk of the lineage in ID order starts 150,000 generations deep."""
    return "shardId-%06d" % (CHAIN_LENGTH - 1 - i)


def chain(cycle):
    """CHAIN_LENGTH shards, shard i the parent of shard i + 1, deepest first."""
    shards = []
    for i in range(CHAIN_LENGTH):
        first = 1000 + 10 * i
        if i == 0:
            parent = chain_id(CHAIN_LENGTH - 1) if cycle else "shardId-trimmed"
        else:
            parent = chain_id(i - 1)
        tip = i == CHAIN_LENGTH - 1
        records = [first, first + 1, first + 2] if i == 0 else [first, first + 1] if tip else []
        shards.append(shard(chain_id(i), parent, first, None if tip and not cycle else first + 9, records))
    shards.reverse()
    return shards


def one_shard(records=(1, 2)):
    return [shard("shardId-one", None, 1, 9, list(records))]


STREAMS = {
    "Chain": {"page": 100, "shards": chain(cycle=False)},
    "Cycle": {"page": 100, "shards": chain(cycle=True)},
    "Wide": {"page": 101, "shards": [shard("w%03d" % i, None, 1, 9, []) for i in range(101)]},
    "FreshTokens": {"page": 100, "shards": [], "fresh": True},
    "Budget": {"page": 100, "shards": [shard("b%02d" % i, None, 1, 9, [1]) for i in range(16)]},
    "ClosedEmpty": {"page": 100, "shards": [shard("shardId-one", None, 1, 9, [])], "endless": True},
    "ShardLoop": {"page": 1, "shards": [shard("a", None, 1, 1, []), shard("b", None, 2, 2, [])], "loop": True},
    "Twice": {"page": 100, "shards": one_shard() + one_shard()},
}
for name in ("HugeDeclared", "HugeStreamed", "Dense", "Big", "TooMany", "RawNul", "RawNulNumber", "RawNulSeq",
             "RawControl", "RawBetween", "Escaped", "Deep", "Nested", "SizeHuge", "SizeNegative", "SizeInfinite",
             "SizeFraction", "SizeBig", "ErrorNul", "Backwards", "OutOfRange", "DupNames",
             "LoneSurrogate", "Surrogates"):
    STREAMS[name] = {"page": 100, "shards": one_shard()}
ARNS = {arn(t): t for t in STREAMS}
INDEX = {t: {s["id"]: i for i, s in enumerate(STREAMS[t]["shards"])} for t in STREAMS}


class AwsError(Exception):
    def __init__(self, kind, message):
        super().__init__(message)
        self.kind, self.message = kind, message


def stream_of(body):
    table = ARNS.get(body.get("StreamArn"))
    if table is None:
        raise AwsError("com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", "Stream not found")
    return table


def describe_table(body):
    name = body.get("TableName")
    if name in ITEMS_TABLES:
        return describe_items_table(name)
    if name not in STREAMS:
        raise AwsError("com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
                       "Cannot do operations on a non-existent table")
    return {"Table": {"TableName": name, "TableStatus": "ACTIVE", "LatestStreamArn": arn(name),
                      "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}}}


ITEMS_TABLES = ("ItemsLoop", "ItemsCycle", "ItemsNotArray", "ItemsNotObject", "ItemsMember", "ItemsTooMany",
                "ItemsCapacity", "ItemsOtherKey", "ItemsTwice", "ItemsUnprocessed",
                "ItemsOddUnprocessed", "ItemsNoHash", "ItemsNoDefinition", "ItemsBadType",
                "ItemsThreeKeys")


def describe_items_table(name):
    """DescribeTable of an items table: key id:S, unless the table's
    name says otherwise."""
    schema = [{"AttributeName": "id", "KeyType": "HASH"}]
    definitions = [{"AttributeName": "id", "AttributeType": "S"}]
    if name == "ItemsNoHash":
        schema = [{"AttributeName": "id", "KeyType": "RANGE"}]
    elif name == "ItemsNoDefinition":
        definitions = []
    elif name == "ItemsBadType":
        definitions = [{"AttributeName": "id", "AttributeType": "SS"}]
    elif name == "ItemsThreeKeys":
        schema = schema + [{"AttributeName": "b", "KeyType": "RANGE"}, {"AttributeName": "c", "KeyType": "RANGE"}]
        definitions = definitions + [{"AttributeName": "b", "AttributeType": "S"},
                                     {"AttributeName": "c", "AttributeType": "S"}]
    return {"Table": {"TableName": name, "TableStatus": "ACTIVE", "KeySchema": schema,
                      "AttributeDefinitions": definitions}}


def item_of(key):
    return {"id": {"S": key}, "v": {"N": "1"}}


def read_items(op, body):
    """Scan, Query, GetItem or BatchGetItem of an items table."""
    if op == "BatchGetItem":
        table, request = next(iter(body.get("RequestItems", {}).items()))
    else:
        table = body.get("TableName")
    if table not in ITEMS_TABLES:
        raise AwsError("com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
                       "Requested resource not found")
    capacity = {"TableName": table, "CapacityUnits": -1 if table == "ItemsCapacity" else 0.5}
    if op == "GetItem":
        key = body["Key"]["id"]["S"]
        return {"Item": item_of(key + "-other" if table == "ItemsOtherKey" else key),
                "ConsumedCapacity": capacity}
    if op == "BatchGetItem":
        keys = [k["id"]["S"] for k in request["Keys"]]
        items = [item_of(k) for k in keys]
        answer = {"Responses": {table: items}, "UnprocessedKeys": {}, "ConsumedCapacity": [capacity]}
        if table == "ItemsOtherKey":
            items.append(item_of("not-asked"))
        elif table == "ItemsTwice":
            items.append(item_of(keys[0]))
        elif table == "ItemsUnprocessed":
            answer["Responses"] = {table: []}
            answer["UnprocessedKeys"] = {table: {"Keys": request["Keys"]}}
        elif table == "ItemsOddUnprocessed":
            answer["UnprocessedKeys"] = {table: {"Keys": [{"id": {"S": "not-asked"}}]}}
        return answer
    if op == "Query":
        # the key is id alone: a partition holds one item
        key = next(iter(body["ExpressionAttributeValues"].values()))["S"]
        items = [item_of(key + "-other" if table == "ItemsOtherKey" else key)]
        return {"Items": items, "Count": 1, "ConsumedCapacity": capacity}
    # Scan: pages of 2 items (or Limit), 3 pages in all
    start = body.get("ExclusiveStartKey")
    page = int(start["id"]["S"].split("-")[1]) + 1 if start else 0
    limit = body.get("Limit", 2)
    items = [item_of("s-%d-%d" % (page, i)) for i in range(min(limit, 2))]
    answer = {"Items": items, "Count": len(items), "ConsumedCapacity": capacity}
    if page < 2:
        answer["LastEvaluatedKey"] = {"id": {"S": "s-%d" % page}}
    if table == "ItemsLoop" and start:
        answer["LastEvaluatedKey"] = start
    elif table == "ItemsCycle":
        answer["LastEvaluatedKey"] = {"id": {"S": "s-%d" % (page % 2)}}
    elif table == "ItemsNotArray":
        answer["Items"] = {}
    elif table == "ItemsNotObject":
        answer["Items"] = [1]
    elif table == "ItemsMember":
        answer["Items"] = [{"id": "plain"}]
    elif table == "ItemsTooMany":
        answer["Items"] = [item_of("x-%d" % i) for i in range(limit + 1)]
    return answer


def list_tables(body):
    # a, b, a, b, ...: a listing that would never end
    after = body.get("ExclusiveStartTableName")
    return {"TableNames": ["Chain"], "LastEvaluatedTableName": "b" if after == "a" else "a"}


def describe_stream(body):
    table = stream_of(body)
    stream = STREAMS[table]
    shards = stream["shards"]
    if stream.get("fresh"):
        # 100 shards never seen before, and a token to go on after them
        n = int(body.get("ExclusiveStartShardId", "f-0").split("-")[1])
        listed = [{"ShardId": "f-%d" % (n + i + 1),
                   "SequenceNumberRange": {"StartingSequenceNumber": seq(1), "EndingSequenceNumber": seq(9)}}
                  for i in range(100)]
        return {"StreamDescription": {"StreamArn": arn(table), "StreamStatus": "ENABLED",
                                      "StreamViewType": "NEW_AND_OLD_IMAGES", "TableName": table,
                                      "Shards": listed, "LastEvaluatedShardId": listed[-1]["ShardId"]}}
    start = 0
    if body.get("ExclusiveStartShardId"):
        start = INDEX[table].get(body["ExclusiveStartShardId"], -1) + 1
        if start == 0:
            raise AwsError("com.amazon.coral.validate#ValidationException", "Invalid ExclusiveStartShardId")
    page = shards[start:start + stream["page"]]
    listed = [listed_shard(sh, seq) for sh in page]
    desc = {"StreamArn": arn(table), "StreamStatus": "ENABLED", "StreamViewType": "NEW_AND_OLD_IMAGES",
            "TableName": table, "Shards": listed}
    if stream.get("loop"):
        desc["LastEvaluatedShardId"] = "b" if body.get("ExclusiveStartShardId") == "a" else "a"
    elif start + len(page) < len(shards):
        desc["LastEvaluatedShardId"] = listed[-1]["ShardId"]
    return {"StreamDescription": desc}


def iterator(table, shard_id, index):
    return base64.urlsafe_b64encode(json.dumps([table, shard_id, index]).encode()).decode()


def get_shard_iterator(body):
    table = stream_of(body)
    i = INDEX[table].get(body.get("ShardId"))
    if i is None:
        raise AwsError("com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", "Shard not found")
    sh = STREAMS[table]["shards"][i]
    kind = body.get("ShardIteratorType")
    index = 0
    if kind == "LATEST":
        index = len(sh["records"])
    elif kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        n = int(body.get("SequenceNumber", "0")) - 10 ** 20
        if n < sh["start"]:
            raise AwsError("com.amazon.coral.validate#ValidationException", "Invalid SequenceNumber for the shard")
        index = sum(1 for r in sh["records"] if r < n or (kind == "AFTER_SEQUENCE_NUMBER" and r == n))
    return {"ShardIterator": iterator(table, sh["id"], index)}


def record(table, n, event_id=None, size=25, attrs=None):
    image = {"pk": {"S": "k%d" % n}}
    image.update(attrs or {})
    return {"eventID": event_id or "%s-%d" % (table.lower(), n), "eventName": "INSERT", "eventVersion": "1.1",
            "eventSource": "aws:dynamodb", "awsRegion": REGION,
            "dynamodb": {"ApproximateCreationDateTime": 1700000000, "Keys": {"pk": {"S": "k%d" % n}},
                         "NewImage": image, "SequenceNumber": seq(n), "SizeBytes": size,
                         "StreamViewType": "NEW_AND_OLD_IMAGES"}}


def raw(payload):
    """JSON text with the placeholders turned into raw bytes."""
    return json.dumps(payload).replace(NUL, "\x00").replace(CTL, "\x01").encode("utf-8")


SIZES = {"SizeHuge": "1e300", "SizeNegative": "-1e30", "SizeInfinite": "1e999", "SizeFraction": "1.5",
         "SizeBig": "3000000000"}


def page_body(table, sh, index, limit):
    """The raw body of a GetRecords answer, or a (status, body) pair."""
    records = [record(table, n) for n in sh["records"][index:index + limit]]
    nxt = None if sh["end"] is not None else iterator(table, sh["id"], index + len(records))
    if STREAMS[table].get("endless"):
        nxt = iterator(table, sh["id"], index + 1)
    page = {"Records": records}
    if nxt:
        page["NextShardIterator"] = nxt
    if table == "TooMany":
        page["Records"] = [record(table, n) for n in range(1, limit + 2)]
    elif table == "Dense":
        n = 15 * 1024 * 1024 // 2
        return b'{"Records":[],"x":[' + b"0," * (n - 1) + b"0]}"
    elif table == "Budget":
        page["Records"] = [record(table, 1, attrs={"blob": {"S": "x" * (12 * 1024 * 1024)}})]
    elif table == "Backwards":
        page["Records"] = [record(table, 5), record(table, 3), record(table, 3, event_id="again")]
    elif table == "OutOfRange":
        page["Records"] = [record(table, 1), record(table, 12)]
    elif table == "Big":
        page["Records"] = [record(table, 1, attrs={"blob": {"S": "x" * 100000}})]
    elif table == "RawNul":
        page["Records"] = [record(table, 1), record(table, 2, event_id="abc%sdef" % NUL)]
    elif table == "RawNulNumber":
        page["Records"] = [record(table, 1, attrs={"n": {"N": "12%s3" % NUL}})]
    elif table == "RawNulSeq":
        page["Records"] = [record(table, 1)]
        page["Records"][0]["dynamodb"]["SequenceNumber"] = seq(1)[:-1] + NUL + "7"
    elif table == "RawControl":
        page["Records"] = [record(table, 1, attrs={"s": {"S": "a%sb" % CTL}})]
    elif table == "Escaped":
        page["Records"] = [record(table, 1, event_id='q"uote\\', attrs={"s": {"S": 'line\nnext "\u00e9" \\'}})]
    elif table in ("Deep", "Nested"):
        n, kind = (100000, "L") if table == "Deep" else (400, "M")
        nest = ('{"L":[' if kind == "L" else '{"M":{"a":') * n + '{"S":"bottom"}' + (']}' if kind == "L" else '}}') * n
        page["Records"] = [record(table, 1, attrs={"deep": {"S": DEEP}})]
        return raw(page).replace(b'{"S": "' + DEEP.encode() + b'"}', nest.encode())
    elif table in SIZES:
        page["Records"] = [record(table, 1, size=12345)]
        return raw(page).replace(b'"SizeBytes": 12345', b'"SizeBytes": ' + SIZES[table].encode())
    body = raw(page)
    if table in ("LoneSurrogate", "Surrogates"):
        escape = b"\\ud800x" if table == "LoneSurrogate" else b"\\ud83d\\ude00"
        body = body.replace(b'"eventID": "', b'"eventID": "' + escape, 1)
    if table == "DupNames":
        body = body.replace(b'"eventID": "', b'"eventID": "first", "eventID": "', 1)
    if table == "RawBetween":
        body = body.replace(b'"Records": [', b'"Records":\x01[')
    return body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, data, ctype="application/x-amz-json-1.0"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def huge(self, declared):
        """200 MB: a body the client must stop reading long before its end."""
        chunk = b" " * (1024 * 1024)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        if declared:
            self.send_header("Content-Length", str(HUGE))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.close_connection = True
        try:
            head = b'{"Records":[],"NextShardIterator":"'
            sent = 0
            while sent < HUGE:
                data = head if sent == 0 else chunk
                self.wfile.write(data if declared else b"%x\r\n%s\r\n" % (len(data), data))
                sent += len(data)
            if not declared:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def get_records(self, body):
        try:
            table, shard_id, index = json.loads(base64.urlsafe_b64decode(body.get("ShardIterator", "")))
        except Exception:
            raise AwsError("com.amazon.coral.validate#ValidationException", "Invalid ShardIterator")
        if table in ("HugeDeclared", "HugeStreamed"):
            return self.huge(table == "HugeDeclared")
        if table == "ErrorNul":
            return self.reply(400, b'{"__type":"com.amazon.coral#Valid\x00Hidden","message":"m"}')
        sh = STREAMS[table]["shards"][INDEX[table][shard_id]]
        self.reply(200, page_body(table, sh, int(index), int(body.get("Limit", 1000))))

    def do_POST(self):
        raw_body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        op = self.headers.get("X-Amz-Target", "").split(".")[-1]
        handlers = {"DescribeTable": describe_table, "ListTables": list_tables,
                    "DescribeStream": describe_stream, "GetShardIterator": get_shard_iterator}
        try:
            body = json.loads(raw_body or b"{}")
            if op == "GetRecords":
                return self.get_records(body)
            if op in ("Scan", "Query", "GetItem", "BatchGetItem"):
                return self.reply(200, json.dumps(read_items(op, body)).encode())
            if op not in handlers:
                raise AwsError("com.amazon.coral.service#UnknownOperationException", "Unknown operation")
            self.reply(200, json.dumps(handlers[op](body)).encode())
        except AwsError as e:
            self.reply(400, json.dumps({"__type": e.kind, "message": e.message}).encode())


if __name__ == "__main__":
    main(Handler, "Scripted hostile DynamoDB endpoint")
