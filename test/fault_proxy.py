#!/usr/bin/python3
"""A fault-injecting HTTP proxy between ddbstream_fdw and DynamoDB Local.

    test/fault_proxy.py --upstream http://127.0.0.1:PORT --port 0 --port-file PATH

Requests are forwarded to the upstream unchanged, except that scripted faults
are applied to the next `times` requests of a given operation (the
X-Amz-Target suffix, or "*" for any), after letting `after` of them through.  Tests script it with test/fault:

    POST /fault   {"op": "GetRecords", "times": 2, "action": "status",
                   "status": 500, "type": "InternalServerError"}
    POST /reset   drop all faults and counters
    GET  /stats   requests seen and faults injected, per operation

Actions:
    status    answer HTTP `status` with an AWS error of `type`
    reset     close the connection without an answer (TCP reset)
    truncate  answer 200 with a body cut short of its Content-Length
    delay     wait `ms` milliseconds, then forward
    hang      never answer (until the client gives up)
    body      answer 200 with `body` (a string) as is
    redirect  answer `status` (default 307) with a Location header: `location`
    upstream  forward, then replace `find` by `replace` in the response body

Standard library only; listens on 127.0.0.1.
"""
import argparse
import http.client
import json
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from loopback_server import serve

LOCK = threading.Lock()
FAULTS = []          # dicts with "op", "times" left, "action", ...
STATS = {"requests": {}, "faults": {}}
UPSTREAM = None


def take_fault(op):
    with LOCK:
        STATS["requests"][op] = STATS["requests"].get(op, 0) + 1
        for fault in FAULTS:
            if fault["op"] in (op, "*") and fault["times"] > 0:
                if fault.get("after", 0) > 0:
                    fault["after"] -= 1     # let this many through first
                    continue
                fault["times"] -= 1
                key = "%s %s" % (op, fault["action"])
                STATS["faults"][key] = STATS["faults"].get(key, 0) + 1
                return dict(fault)
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def send_body(self, status, data, content_type="application/x-amz-json-1.0", length=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data) if length is None else length))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def do_GET(self):
        if self.path == "/stats":
            with LOCK:
                self.send_body(200, json.dumps(STATS, sort_keys=True).encode())
            return
        self.send_body(404, b"{}")

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/fault":
            fault = json.loads(raw)
            fault.setdefault("op", "*")
            fault.setdefault("times", 1)
            fault["after"] = int(fault.get("after", 0))
            with LOCK:
                FAULTS.append(fault)
            return self.send_body(200, b"{}")
        if self.path == "/reset":
            with LOCK:
                FAULTS.clear()
                STATS["requests"].clear()
                STATS["faults"].clear()
            return self.send_body(200, b"{}")

        target = self.headers.get("X-Amz-Target", "")
        op = target.rsplit(".", 1)[-1]
        fault = take_fault(op)
        action = fault["action"] if fault else None

        if action == "status":
            body = {"__type": "com.amazonaws.dynamodb.v20120810#" + fault.get("type", "InternalServerError"),
                    "message": fault.get("message", "injected fault")}
            return self.send_body(int(fault.get("status", 500)), json.dumps(body).encode())
        if action == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if action == "truncate":
            data = b'{"Records": [{"eventID": "cut'
            self.send_body(200, data, length=len(data) + 100)
            self.close_connection = True
            return
        if action == "hang":
            time.sleep(float(fault.get("seconds", 30)))
            self.close_connection = True
            return
        if action == "body":
            return self.send_body(int(fault.get("status", 200)), fault["body"].encode("utf-8", "surrogateescape"))
        if action == "redirect":
            data = b'{"message": "moved"}'
            self.send_response(int(fault.get("status", 307)))
            self.send_header("Location", fault["location"])
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if action == "delay":
            time.sleep(float(fault.get("ms", 100)) / 1000.0)

        status, headers, data = self.forward(raw)
        if action == "upstream":
            data = data.replace(fault["find"].encode(), fault["replace"].encode("utf-8", "surrogateescape"))
        self.send_body(status, data, headers.get("Content-Type", "application/x-amz-json-1.0"))

    def forward(self, raw):
        conn = getattr(self.server.local, "conn", None)
        for attempt in range(2):
            if conn is None:
                conn = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=60)
                self.server.local.conn = conn
            try:
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("connection", "keep-alive", "content-length")}
                conn.request("POST", self.path, body=raw, headers=headers)
                resp = conn.getresponse()
                return resp.status, dict(resp.getheaders()), resp.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = None
                self.server.local.conn = None
                if attempt:
                    raise
        raise RuntimeError("unreachable")


def main():
    global UPSTREAM
    ap = argparse.ArgumentParser(description="fault-injecting proxy for DynamoDB Local")
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    args = ap.parse_args()
    UPSTREAM = urllib.parse.urlparse(args.upstream)

    return serve(Handler, args.port, args.port_file)


if __name__ == "__main__":
    sys.exit(main())
