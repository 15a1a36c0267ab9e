#!/usr/bin/python3
"""The items source against DynamoDB's own Scan, item by item.

Run by test/harness check (needs PGHOST, PGPORT and DDB_ENDPOINT), or alone:
test/harness run test/items_diff.py.  It makes five tables on DynamoDB Local,
one per kind of key schema (hash S; hash S + range N; hash N + range S; hash
B + range B; hash S + range S with a global and a local secondary index), with
key attributes named as a Query expression must escape ("order.id", "year",
"name"), and fills each with a few hundred items holding every AttributeValue
type at its edges: empty and non-ASCII strings, 38-digit numbers and
exponents from -130 to +125, bytes 0 to 255, nested maps and lists, the three
sets, and in one table items of 300 kB (pages cut by size).

The truth is a paginated boto3 Scan, read as the raw JSON DynamoDB sent.
  typed    `keys` and `item` must equal that JSON exactly (image_format 'typed')
  plain    they must equal that JSON converted by this file's own reading of
           README's Images table (image_format 'plain'), so that a bug in the
           FDW's typed path cannot hide one in its plain path
Values are compared with their JSON types (true is not 1, "1" is not 1).  Rows
are matched by `keys`; a row missing, extra, repeated or different fails.
Then, on some tables: scan_segments 1, 4 and 16, page_size 7 (with as many
Scan requests as boto3 needed), consistent_read, attribute columns, and key
conditions (the rows must be the truth filtered in Python; where the plan is
certain, EXPLAIN must name the operation).

Prints one line per comparison and a closing "N passed, N failed".
With --self-test it checks itself instead of the FDW: rows made here from
the Scan, stored as jsonb in an ordinary table, must match, and the same rows
with one change each (a row left out, true as 1, the 38th digit, a set's
order...) must not; and DynamoDB Local must order S sort keys by code point,
as PostgreSQL's C collation and Python do.
"""
import base64
import decimal
import json
import random
import re
import sys
from decimal import Decimal

import psycopg2

from scenario import check, connect, drop_database, dynamodb, fresh_database, run

DB = "items_diff"

# What EXPLAIN says, as this file expects it (the C side's names).
EXPLAIN_API = re.compile(r"DynamoDB API: (Scan|Query|GetItem|BatchGetItem)(?: \((\d+) segments?\))?")
REQUESTS = "%s Requests: (\\d+)"     # EXPLAIN ANALYZE, per operation

# ------------------------------------------------------------------ values

NUMBERS = ["0", "-1", "7", "-0.5", "3.14159", "1.50", "100", "12345678901234567890123456789012345678",
           "-12345678901234567890123456789012345678", "9.9999999999999999999999999999999999999E+125",
           "-9.9999999999999999999999999999999999999E+125", "1E-130", "-1E-130", "1.5e-100", "2.5E+7",
           "0.000000000000000000000000000000000000000001"]
STRINGS = ["", "a", "ünïcødé", "中文字符", "𝄞 music", "emoji 🎉👍🏽", "עברית", "e\u0301 combining",
           "line\nbreak\ttab", "quote \" backslash \\ slash /", "\u2028\u2029", "ctl \u0001\u001f",
           "\ufffd replacement", "x" * 1000, "  spaces  ", "{\"S\": \"not a type\"}"]
BINARIES = [b"", b"\x00", bytes(range(256)), b"\xff\xfe\xfd", "ünï".encode(), b"plain ascii"]
NAMES = ["a", "with space", "dotted.name", "dash-name", "#hash", ":colon", "ключ", "名前", "🎉",
         "N", "S", "M", "NULL", "year", "name"]


def scalar(rnd):
    """One AttributeValue of a scalar type."""
    kind = rnd.randrange(6)
    if kind == 0:
        return {"S": rnd.choice(STRINGS)}
    if kind == 1:
        return {"N": rnd.choice(NUMBERS)}
    if kind == 2:
        return {"B": rnd.choice(BINARIES)}
    if kind == 3:
        return {"BOOL": rnd.random() < 0.5}
    if kind == 4:
        return {"NULL": True}
    return {"S": "s%d" % rnd.randrange(1000)}


def value(rnd, depth=0):
    """Any AttributeValue, nested up to 4 levels."""
    kind = rnd.randrange(10 if depth < 4 else 5)
    if kind < 5:
        return scalar(rnd)
    if kind == 5:
        return {"M": {rnd.choice(NAMES): value(rnd, depth + 1) for _ in range(rnd.randrange(4))}}
    if kind == 6:
        return {"L": [value(rnd, depth + 1) for _ in range(rnd.randrange(5))]}
    if kind == 7:
        return {"SS": rnd.sample([s for s in STRINGS if s], rnd.randrange(1, 5))}
    if kind == 8:
        return {"NS": rnd.sample(NUMBERS, rnd.randrange(1, 5))}
    return {"BS": rnd.sample([b for b in BINARIES if b], rnd.randrange(1, 4))}


def every_type():
    """One attribute of each type and edge, for the first items of a table."""
    return {
        "s_empty": {"S": ""}, "s_unicode": {"S": "ünïcødé 中文 𝄞 🎉 עברית"}, "s_escapes": {"S": STRINGS[9]},
        "n_neg": {"N": "-42"}, "n_big": {"N": NUMBERS[7]}, "n_huge": {"N": NUMBERS[9]},
        "n_tiny": {"N": "1E-130"}, "n_tiny_neg": {"N": "-1.5e-100"}, "n_scale": {"N": "1.50"},
        "b": {"B": bytes(range(256))}, "b_empty": {"B": b""},
        "t": {"BOOL": True}, "f": {"BOOL": False}, "nul": {"NULL": True},
        "m_empty": {"M": {}}, "l_empty": {"L": []},
        "m": {"M": {"inner": {"M": {"deeper": {"L": [{"N": "1"}, {"M": {"x": {"SS": ["a", "b"]}}},
                                                        {"NULL": True}, {"BOOL": False}]}}},
                    "dotted.name": {"S": "v"}, "ключ": {"N": "-0.5"}}},
        "l": {"L": [{"L": [{"L": [{"S": ""}, {"B": b"\x00"}]}]}, {"NS": ["1", "-1E-130"]}, {"M": {}}]},
        "ss": {"SS": ["", "ü", "𝄞", "a b"]}, "ns": {"NS": ["0", NUMBERS[7], "1E-130", "-2.5E+7"]},
        "bs": {"BS": [b"\x00", b"\xff", bytes(range(16))]},
        "ünï name": {"S": "attribute name not ASCII"},
    }


def fill(rnd, i, keys):
    """An item: its keys, a few attributes of any type, every type in the
    first items."""
    item = dict(keys)
    item["kind"] = {"S": "k%d" % (i % 7)}
    item["v"] = value(rnd)
    for _ in range(rnd.randrange(4)):
        item[rnd.choice(NAMES)] = value(rnd)
    if i < 3 or i % 50 == 0:
        item.update(every_type())
    item.update(keys)   # "year" and "name" are keys of one table
    return item


# ------------------------------------------------------------------ tables

def s_keys(rnd):
    ids = ["id-%04d" % i for i in range(280)] + [s for s in STRINGS if s] + ["é", "日本", "z" * 1024]
    return [{"id": {"S": k}} for k in ids]


def sn_keys(rnd):
    parts = ["order-%02d" % p for p in range(18)] + ["ünï", "𝄞"]
    sorts = [n for n in NUMBERS if n not in ("1.50", "0.000000000000000000000000000000000000000001")][:14] + ["42"]
    return [{"order.id": {"S": p}, "line-no": {"N": s}} for p in parts for s in sorts]


def ns_keys(rnd):
    years = ["2024", "-5", "0", "3.5", "1E-130", NUMBERS[7], NUMBERS[10], "1999", "2000", "2001", "7e2", "-0.25"]
    names = [s for s in STRINGS if s] + ["a%d" % i for i in range(10)]
    return [{"year": {"N": y}, "name": {"S": n}} for y in years for n in names]


def bb_keys(rnd):
    parts = [bytes([p]) * (1 + p % 3) for p in (0, 1, 2, 127, 128, 200, 254, 255)] + \
            [b"\x00\xff", "ünï".encode(), bytes(range(40)), b"key", b"\xff" * 20, b"k\x00k", b"+/=="]
    sorts = [bytes([s, 255 - s]) for s in range(0, 200, 10)]
    return [{"blob": {"B": p}, "Bsk": {"B": s}} for p in parts for s in sorts]


def idx_keys(rnd):
    return [{"pk": {"S": "p%02d" % (i % 25)}, "sk": {"S": "s%03d" % i}} for i in range(300)]


def idx_extra(rnd, i, item):
    """The index tables' index attributes: two thirds of the items are in
    the GSI, half in the LSI (both sparse)."""
    if i % 3:
        item["gpk"] = {"S": "g%d" % (i % 9)}
        item["gsk"] = {"N": rnd.choice(["-1", "0", "1E-130", "12", NUMBERS[7], str(i)])}
    if i % 2:
        item["lsk"] = {"S": rnd.choice(STRINGS[1:6]) + str(i)}


def big_extra(rnd, i, item):
    """Six items of 300 kB: a Scan's pages are cut by size, not count."""
    if i in (3, 60, 120, 180, 240, 290):
        item["big"] = {"S": ("%03d" % i) * 100000}


TABLES = [
    # name, key schema [(name, type)], key maker, extra filler
    ("ItemsDiffS", [("id", "S")], s_keys, big_extra),
    ("ItemsDiffSN", [("order.id", "S"), ("line-no", "N")], sn_keys, None),
    ("ItemsDiffNS", [("year", "N"), ("name", "S")], ns_keys, None),
    ("ItemsDiffBB", [("blob", "B"), ("Bsk", "B")], bb_keys, None),
    ("ItemsDiffIdx", [("pk", "S"), ("sk", "S")], idx_keys, idx_extra),
]
INDEXES = {"gsi1": [("gpk", "S"), ("gsk", "N")], "lsi1": [("pk", "S"), ("lsk", "S")]}


def create(ddb, name, schema, extra):
    try:
        ddb.delete_table(TableName=name)
    except ddb.exceptions.ResourceNotFoundException:
        pass
    defs = {a: t for a, t in schema}
    kw = {}
    if name == "ItemsDiffIdx":
        defs.update({a: t for ix in INDEXES.values() for a, t in ix})
        kw["GlobalSecondaryIndexes"] = [{"IndexName": "gsi1", "KeySchema": key_schema(INDEXES["gsi1"]),
                                         "Projection": {"ProjectionType": "ALL"}}]
        kw["LocalSecondaryIndexes"] = [{"IndexName": "lsi1", "KeySchema": key_schema(INDEXES["lsi1"]),
                                        "Projection": {"ProjectionType": "ALL"}}]
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=key_schema(schema),
                     AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in defs.items()],
                     **kw)


def key_schema(schema):
    return [{"AttributeName": a, "KeyType": k} for (a, _), k in zip(schema, ("HASH", "RANGE"))]


def load(ddb, name, keymaker, extra):
    rnd = random.Random(name)
    items = []
    for i, keys in enumerate(keymaker(rnd)):
        item = fill(rnd, i, keys)
        if extra:
            extra(rnd, i, item)
        items.append(item)
    for k in range(0, len(items), 25):
        batch = items[k:k + 25]
        # BatchWriteItem's 16 MB: the big items one at a time
        if any("big" in it for it in batch):
            for it in batch:
                ddb.put_item(TableName=name, Item=it)
            continue
        requests = {name: [{"PutRequest": {"Item": it}} for it in batch]}
        while requests:
            requests = ddb.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
    return len(items)


# ------------------------------------------------------------------ truth

class RawScan:
    """boto3's Scan, with each page's items as the JSON DynamoDB sent (boto3
    would turn B into bytes)."""

    def __init__(self):
        self.ddb = dynamodb()
        self.bodies = []
        self.ddb.meta.events.register("after-call.dynamodb.Scan",
                                      lambda http_response, **kw: self.bodies.append(http_response.content))

    def scan(self, table, index=None, limit=None):
        """Every item, and the number of Scan requests it took."""
        kw = {"TableName": table}
        if index:
            kw["IndexName"] = index
        if limit:
            kw["Limit"] = limit
        items, pages = [], 0
        while True:
            resp = self.ddb.scan(**kw)
            pages += 1
            items += loads(self.bodies.pop())["Items"]
            if "LastEvaluatedKey" not in resp:
                return items, pages
            kw["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def loads(text):
    """JSON with every number a Decimal, exactly."""
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


def plain(av):
    """An AttributeValue as README's Images table says image_format 'plain'
    shows it."""
    if not isinstance(av, dict) or len(av) != 1:
        raise ValueError("not an AttributeValue: %r" % (av,))
    (t, v), = av.items()
    if t in ("S", "B"):          # B: the base64 DynamoDB sent
        return v
    if t == "N":
        return Decimal(v)
    if t == "BOOL":
        return bool(v)
    if t == "NULL":
        return None
    if t == "M":
        return {k: plain(x) for k, x in v.items()}
    if t == "L":
        return [plain(x) for x in v]
    if t in ("SS", "BS"):
        return list(v)
    if t == "NS":
        return [Decimal(x) for x in v]
    raise ValueError("unknown type %s" % t)


def plain_image(item):
    return {k: plain(v) for k, v in item.items()}


EXACT = decimal.Context(prec=200)


def canon(keys):
    """A row's keys as a string to match rows by (numbers by value)."""
    return json.dumps(keys, sort_keys=True, ensure_ascii=False,
                      default=lambda d: {"N": str(EXACT.normalize(d))})


def short(x):
    s = json.dumps(x, ensure_ascii=False, default=str)
    return s if len(s) <= 80 else s[:77] + "..."


def difference(a, b, path="$"):
    """Where a and b differ, with their JSON types, or None."""
    if type(a) is not type(b):
        return "%s: %s %s vs %s %s" % (path, type(a).__name__, short(a), type(b).__name__, short(b))
    if isinstance(a, dict):
        if a.keys() != b.keys():
            return "%s: members only in FDW %s, only in Scan %s" % (
                path, short(sorted(a.keys() - b.keys())), short(sorted(b.keys() - a.keys())))
        for k in a:
            d = difference(a[k], b[k], "%s.%s" % (path, k))
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return "%s: %d elements vs %d" % (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = difference(x, y, "%s[%d]" % (path, i))
            if d:
                return d
        return None
    return None if a == b else "%s: %s vs %s" % (path, short(a), short(b))


# ------------------------------------------------------------------ comparisons

def expected_rows(truth, key_names, fmt):
    """The keys and item of each truth item, by canon(keys)."""
    expected = {}
    for it in truth:
        keys = {k: it[k] for k in key_names}
        if fmt == "plain":
            keys, it = plain_image(keys), plain_image(it)
        expected[canon(keys)] = (keys, it)
    return expected


def match(got, truth, key_names, fmt):
    """Rows (keys and item as jsonb text) against truth: (ok, what)."""
    expected = expected_rows(truth, key_names, fmt)
    rows, repeated = {}, 0
    for k, i in got:
        keys, item = loads(k), loads(i)
        c = canon(keys)
        repeated += c in rows
        rows[c] = (keys, item)
    missing = expected.keys() - rows.keys()
    extra = rows.keys() - expected.keys()
    differ = []
    for c in expected.keys() & rows.keys():
        d = difference(rows[c][0], expected[c][0], "keys") or difference(rows[c][1], expected[c][1], "item")
        if d:
            differ.append((c, d))
    ok = not (missing or extra or repeated or differ)
    what = "%d rows" % len(got)
    if not ok:
        what += ", expected %d: %d missing, %d extra, %d repeated, %d different" % (
            len(expected), len(missing), len(extra), repeated, len(differ))
        if differ:
            what += "; first at %s: %s" % (short(differ[0][0]), differ[0][1])
        elif missing:
            what += "; first missing %s" % short(sorted(missing)[0])
        elif extra:
            what += "; first extra %s" % short(sorted(extra)[0])
    return ok, what


class Diff:
    def __init__(self, conn):
        self.conn = conn
        self.n = 0

    def foreign_table(self, table, columns="keys jsonb, item jsonb", **options):
        """A new foreign table over table with these options; its name."""
        self.n += 1
        name = "ft%d" % self.n
        opts = dict(table_name=table, source="items", **options)
        with self.conn.cursor() as cur:
            cur.execute("CREATE FOREIGN TABLE %s (%s) SERVER ddb OPTIONS (%s)"
                        % (name, columns, ", ".join("%s %%s" % k for k in opts)), list(opts.values()))
        return name

    def rows(self, sql, params=()):
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def explain(self, sql, params=(), analyze=False):
        plan = self.rows("EXPLAIN (%sCOSTS OFF) %s" % ("ANALYZE, TIMING OFF, SUMMARY OFF, " if analyze else "",
                                                      sql), params)
        return "\n".join(r[0] for r in plan)

    def compare(self, label, ftable, truth, key_names, fmt, where="", params=()):
        """SELECT keys, item of ftable (with where) against truth (raw Scan
        items): one check; its result, or None when the query failed."""
        try:
            got = self.rows("SELECT keys::text, item::text FROM %s %s" % (ftable, where), params)
        except psycopg2.Error as e:
            check(False, "%s: %s" % (label, str(e).strip().splitlines()[0]))
            return None
        ok, what = match(got, truth, key_names, fmt)
        check(ok, "%s: %s" % (label, what))
        return ok

    def check_explain(self, label, sql, params, api, segments=None, requests=None):
        """EXPLAIN (ANALYZE when requests is given) names api (with segments),
        and ANALYZE counts requests of it."""
        try:
            plan = self.explain(sql, params, analyze=requests is not None)
        except psycopg2.Error as e:
            check(False, "%s: %s" % (label, str(e).strip().splitlines()[0]))
            return
        m = EXPLAIN_API.search(plan)
        # one segment is a plain Scan: "DynamoDB API: Scan"
        shown = int(m.group(2)) if m and m.group(2) else 1
        found = m and m.group(1) == api and (segments is None or shown == segments)
        want = "DynamoDB API: %s%s" % (api, " (%d segments)" % segments if segments and segments > 1 else "")
        if found and requests is not None:
            r = re.search(REQUESTS % api, plan)
            found = r and int(r.group(1)) == requests
            want += ", %s Requests: %d" % (api, requests)
        check(bool(found), "%s: EXPLAIN shows %s%s" % (
            label, want, "" if found else " (it shows: %s)" % " | ".join(
                l.strip() for l in plan.splitlines() if "DynamoDB" in l or "Requests" in l) or "nothing"))


def column_type(t):
    return "numeric" if t == "N" else "text"


def key_value(av):
    """A key attribute as its column (numeric or text) holds it."""
    return plain(av)


def pushdown_cases(schema, truth):
    """Key conditions on the attribute columns h (and r): (what, where,
    params, predicate on (h, r), the operation EXPLAIN must name or None)."""
    hname, htype = schema[0]
    keyvals = [(key_value(it[hname]), key_value(it[schema[1][0]]) if len(schema) > 1 else None)
               for it in truth]
    hs = sorted({h for h, _ in keyvals}, key=str)
    h0 = max(hs, key=lambda h: sum(1 for x, _ in keyvals if x == h))
    missing_h = Decimal("424242") if htype == "N" else base64.b64encode(b"nope").decode() if htype == "B" else "nope"
    cases = []
    if len(schema) == 1:
        some = hs[:150]
        cases += [
            ("h = one key", "h = %s", (h0,), lambda h, r: h == h0, "GetItem"),
            ("h = a missing key", "h = %s", (missing_h,), lambda h, r: False, "GetItem"),
            ("h IN 4 keys, one missing", "h = ANY(%s)", (hs[:3] + [missing_h],),
             lambda h, r: h in hs[:3], "BatchGetItem"),
            ("h IN 150 keys (BatchGetItem's 100 a call)", "h = ANY(%s)", (some,),
             lambda h, r: h in some, "BatchGetItem"),
            ("h > a key (no Query on a hash key)", "h > %s", (hs[len(hs) // 2],),
             lambda h, r: h > hs[len(hs) // 2], "Scan"),
            ("h = one key OR h = another", "h = %s OR h = %s", (hs[0], hs[-1]),
             lambda h, r: h in (hs[0], hs[-1]), None),
        ]
        return cases
    rtype = schema[1][1]
    rs = sorted({r for h, r in keyvals if h == h0}, key=lambda x: x if rtype != "B" else str(x))
    r0, rmid, rhi = rs[0], rs[len(rs) // 2], rs[-2]
    cases += [
        ("h = one partition", "h = %s", (h0,), lambda h, r: h == h0, "Query"),
        ("h = a missing partition", "h = %s", (missing_h,), lambda h, r: False, "Query"),
        ("h = and r = (one item)", "h = %s AND r = %s", (h0, rmid), lambda h, r: h == h0 and r == rmid, "GetItem"),
        ("h IN 3 partitions", "h = ANY(%s)", (hs[:2] + [missing_h],), lambda h, r: h in hs[:2], "Query"),
        ("r = alone (no key condition)", "r = %s", (rmid,), lambda h, r: r == rmid, "Scan"),
        ("h = or h =", "h = %s OR h = %s", (hs[0], hs[-1]), lambda h, r: h in (hs[0], hs[-1]), None),
        ("h = and r IN 2", "h = %s AND r = ANY(%s)", (h0, [r0, rhi]),
         lambda h, r: h == h0 and r in (r0, rhi), None),
    ]
    if rtype != "B":   # order on base64 text is not DynamoDB's byte order
        cases += [
            ("h = and r >", "h = %s AND r > %s", (h0, rmid), lambda h, r: h == h0 and r > rmid, "Query"),
            ("h = and r <=", "h = %s AND r <= %s", (h0, rmid), lambda h, r: h == h0 and r <= rmid, "Query"),
            ("h = and r BETWEEN", "h = %s AND r BETWEEN %s AND %s", (h0, r0, rhi),
             lambda h, r: h == h0 and r0 <= r <= rhi, "Query"),
            ("h = and r >= and r <", "h = %s AND r >= %s AND r < %s", (h0, rmid, rhi),
             lambda h, r: h == h0 and rmid <= r < rhi, "Query"),
        ]
    if rtype == "S":
        prefix = rmid[:1]
        pattern = ("\\" + prefix if prefix in "\\%_" else prefix) + "%"
        cases.append(("h = and r LIKE 'prefix%'", "h = %s AND r LIKE %s", (h0, pattern),
                      lambda h, r: h == h0 and r.startswith(prefix), None))
    return cases


def run_table(diff, raw, name, schema, count):
    key_names = [a for a, _ in schema]
    truth, pages = raw.scan(name)
    check(len(truth) == count, "%s: boto3's Scan reads the %d items written (%d pages)" % (name, count, pages))
    for fmt in ("plain", "typed"):
        ft = diff.foreign_table(name, image_format=fmt)
        diff.compare("%s %s" % (name, fmt), ft, truth, key_names, fmt)
    if name == "ItemsDiffIdx":
        for index in INDEXES:
            itruth, _ = raw.scan(name, index=index)
            for fmt in ("plain", "typed"):
                ft = diff.foreign_table(name, image_format=fmt, index_name=index)
                diff.compare("%s index %s %s" % (name, index, fmt), ft, itruth, key_names, fmt)
    return truth


def run_variants(diff, raw, name, schema, truth):
    """Segments, pages and consistent reads: the same rows."""
    key_names = [a for a, _ in schema]
    for options in ({"scan_segments": "1"}, {"scan_segments": "4"}, {"scan_segments": "16"},
                    {"scan_segments": "1", "page_size": "7"}, {"scan_segments": "4", "page_size": "7"},
                    {"consistent_read": "true"}):
        ft = diff.foreign_table(name, image_format="typed", **options)
        label = "%s %s" % (name, " ".join("%s %s" % kv for kv in options.items()))
        if diff.compare(label, ft, truth, key_names, "typed") is None:
            continue
        if options.get("page_size") == "7" and options["scan_segments"] == "1":
            _, pages = raw.scan(name, limit=7)
            diff.check_explain(label, "SELECT keys, item FROM %s" % ft, (), "Scan", 1, pages)
        elif "page_size" not in options and "scan_segments" in options:
            diff.check_explain(label, "SELECT keys, item FROM %s" % ft, (), "Scan",
                               int(options["scan_segments"]))


def run_attributes(diff, name, schema, truth):
    """Attribute columns of the keys and of "v" (any type), beside keys."""
    cols = ["keys jsonb"] + ["k%d %s OPTIONS (attribute %s)" % (i, column_type(t), quote(a))
                             for i, (a, t) in enumerate(schema)]
    cols += ["ktext%d text OPTIONS (attribute %s)" % (i, quote(a)) for i, (a, _) in enumerate(schema)]
    cols += ["v jsonb OPTIONS (attribute 'v')", "missing text OPTIONS (attribute 'no such attribute')"]
    ft = diff.foreign_table(name, ", ".join(cols))
    try:
        got = diff.rows("SELECT keys::text, %s, v::text, missing FROM %s" % (
            ", ".join("k%d, ktext%d" % (i, i) for i in range(len(schema))), ft))
    except psycopg2.Error as e:
        check(False, "%s attribute columns: %s" % (name, str(e).strip().splitlines()[0]))
        return
    by_keys = {canon(plain_image({a: it[a] for a, _ in schema})): it for it in truth}
    bad = []
    for row in got:
        it = by_keys.get(canon(loads(row[0])))
        if it is None:
            bad.append("row %s not in the Scan" % short(row[0]))
            continue
        for i, (a, t) in enumerate(schema):
            typed_col, text_col = row[1 + 2 * i], row[2 + 2 * i]
            raw = it[a][t]
            want = Decimal(raw) if t == "N" else raw
            if typed_col != want or text_col != raw:   # text: N's digits and B's base64 as sent
                bad.append("%s: %r / %r, expected %r" % (a, typed_col, text_col, raw))
        v, missing = row[-2], row[-1]
        want_v = plain(it["v"]) if "v" in it and "NULL" not in it["v"] else None
        d = difference(loads(v) if v is not None else None, want_v, "v")
        if d:
            bad.append(d)
        if missing is not None:
            bad.append("a missing attribute gave %r" % missing)
    check(not bad and len(got) == len(truth), "%s attribute columns: %d rows%s" % (
        name, len(got), "" if not bad else ", %d wrong, first: %s" % (len(bad), bad[0])))


def run_pushdown(diff, name, schema, truth):
    """Key conditions: the truth filtered here; the operation where certain."""
    key_names = [a for a, _ in schema]
    cols = "keys jsonb, item jsonb, h %s OPTIONS (attribute %s)" % (column_type(schema[0][1]), quote(schema[0][0]))
    if len(schema) > 1:
        cols += ", r %s OPTIONS (attribute %s)" % (column_type(schema[1][1]), quote(schema[1][0]))
    ft = diff.foreign_table(name, cols, image_format="typed")
    for what, where, params, pred, api in pushdown_cases(schema, truth):
        subset = [it for it in truth
                  if pred(key_value(it[schema[0][0]]), key_value(it[schema[1][0]]) if len(schema) > 1 else None)]
        label = "%s WHERE %s" % (name, what)
        ok = diff.compare(label, ft, subset, key_names, "typed", "WHERE " + where, params)
        if ok is not None and api:
            diff.check_explain(label, "SELECT keys, item FROM %s WHERE %s" % (ft, where), params, api)


# ------------------------------------------------------------------ self-test

def dump(x):
    """JSON text of x, numbers (Decimal) exactly as they are."""
    if isinstance(x, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + dump(v) for k, v in x.items()) + "}"
    if isinstance(x, list):
        return "[" + ",".join(dump(v) for v in x) + "]"
    if isinstance(x, Decimal):
        return str(x)
    return json.dumps(x, ensure_ascii=False)


def replace_first(x, pred, new):
    """Replace the first value under x for which pred holds; whether one was."""
    items = x.items() if isinstance(x, dict) else enumerate(x) if isinstance(x, list) else ()
    for k, v in items:
        if pred(v):
            x[k] = new(v)
            return True
        if replace_first(v, pred, new):
            return True
    return False


MUTATIONS = [
    # name, format, change to the rows (a list of [keys, item])
    ("a row left out", None, lambda rows: rows.pop()),
    ("a row twice", None, lambda rows: rows.append(rows[0])),
    ("true as 1", "plain", lambda rows: replace_first(rows, lambda v: v is True, lambda v: Decimal(1))),
    ("the 38th digit", "plain", lambda rows: replace_first(
        rows, lambda v: isinstance(v, Decimal) and len(v.as_tuple().digits) == 38 and v.as_tuple().exponent == 0,
        lambda v: EXACT.add(v, 1))),
    ("1E-130 as 0", "plain", lambda rows: replace_first(rows, lambda v: isinstance(v, Decimal) and 0 < v < Decimal("1E-120"),
                                                        lambda v: Decimal(0))),
    ("\"\" as null", "plain", lambda rows: replace_first(rows, lambda v: v == "", lambda v: None)),
    ("a number as a string", "plain", lambda rows: replace_first(rows, lambda v: isinstance(v, Decimal), str)),
    ("a set in another order", "typed", lambda rows: replace_first(
        rows, lambda v: isinstance(v, dict) and len(v.get("SS", ())) > 1, lambda v: {"SS": v["SS"][::-1]})),
    ("NULL as BOOL", "typed", lambda rows: replace_first(rows, lambda v: v == {"NULL": True}, lambda v: {"BOOL": True})),
]


def self_test(diff, raw, ddb):
    """The comparison itself, on rows made here and stored in PostgreSQL:
    the truth must match, each mutation must not."""
    for name, schema, _, _ in TABLES:
        key_names = [a for a, _ in schema]
        truth, _ = raw.scan(name)
        for fmt in ("plain", "typed"):
            rows = [[k, i] for k, i in expected_rows(truth, key_names, fmt).values()]
            ok, what = match(stored(diff, rows), truth, key_names, fmt)
            check(ok, "self-test %s %s: rows made here, through jsonb: %s" % (name, fmt, what))
            if name != "ItemsDiffS":
                continue
            for what, only, change in MUTATIONS:
                if only not in (None, fmt):
                    continue
                changed = json.loads(dump(rows), parse_float=Decimal, parse_int=Decimal)
                if change(changed) is False:
                    check(False, "self-test: no value to change for %s" % what)
                    continue
                ok, why = match(stored(diff, changed), truth, key_names, fmt)
                check(not ok, "self-test %s: %s is caught (%s)" % (fmt, what, why))
    # DynamoDB Local orders S sort keys as the comparisons here do (by code point)
    truth, _ = raw.scan("ItemsDiffNS")
    year = truth[0]["year"]
    names = sorted(it["name"]["S"] for it in truth if it["year"] == year)
    wrong = []
    for bound in names:
        resp = ddb.query(TableName="ItemsDiffNS", KeyConditionExpression="#h = :h AND #r > :r",
                         ExpressionAttributeNames={"#h": "year", "#r": "name"},
                         ExpressionAttributeValues={":h": year, ":r": {"S": bound}})
        got = [it["name"]["S"] for it in resp["Items"]]
        if got != [n for n in names if n > bound]:
            wrong.append(bound)
    check(not wrong, "self-test: DynamoDB Local's Query orders S sort keys by code point%s"
          % ("" if not wrong else " (not for %s)" % short(wrong)))


def stored(diff, rows):
    """rows (keys and item) through a PostgreSQL table of jsonb, as text."""
    with diff.conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS self_test; CREATE TABLE self_test (keys jsonb, item jsonb)")
        cur.executemany("INSERT INTO self_test VALUES (%s, %s)", [(dump(k), dump(i)) for k, i in rows])
    return diff.rows("SELECT keys::text, item::text FROM self_test")


def quote(s):
    return "'" + s.replace("'", "''") + "'"


def main():
    ddb = dynamodb()
    only_self_test = "--self-test" in sys.argv
    counts = {}
    for name, schema, keymaker, extra in TABLES:
        create(ddb, name, schema, extra)
        counts[name] = load(ddb, name, keymaker, extra)
    conn = fresh_database(DB, "itemskey")
    diff, raw = Diff(conn), RawScan()
    if only_self_test:
        self_test(diff, raw, ddb)
        conn.close()
        drop_database(DB)
        return
    for name, schema, _, _ in TABLES:
        truth = run_table(diff, raw, name, schema, counts[name])
        if name in ("ItemsDiffS", "ItemsDiffNS"):
            run_variants(diff, raw, name, schema, truth)
        run_attributes(diff, name, schema, truth)
        run_pushdown(diff, name, schema, truth)
    conn.close()
    drop_database(DB)


if __name__ == "__main__":
    run(main, "items differential test")
