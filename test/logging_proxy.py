#!/usr/bin/python3
"""A forward HTTP proxy that logs what it carries, for the transport tests.

    test/logging_proxy.py --port 0 --port-file PATH

Requests in absolute form ("POST http://127.0.0.1:8000/ HTTP/1.1") are
forwarded to their target and answered with the target's answer; CONNECT
host:port opens a tunnel (for https).  Each is counted by method, target and
X-Amz-Target operation.  Requests in origin form are the proxy's own:

    GET /stats    what was carried, as JSON {"METHOD target op": count}
    GET /reset    forget it

The harness starts PostgreSQL with http_proxy, https_proxy and ALL_PROXY
naming this proxy, to show that ddbstream_fdw ignores them; a server with
option proxy sends its requests here.  Standard library only; listens on
127.0.0.1.
"""
import http.client
import json
import select
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler

from loopback_server import main

LOCK = threading.Lock()
CARRIED = {}
HOP_HEADERS = {"connection", "keep-alive", "proxy-connection", "proxy-authorization",
               "te", "trailers", "transfer-encoding", "upgrade", "content-length"}


def count(key):
    with LOCK:
        CARRIED[key] = CARRIED.get(key, 0) + 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, data, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def own_request(self):
        if self.path == "/stats":
            with LOCK:
                return self.reply(200, json.dumps(CARRIED, sort_keys=True).encode())
        if self.path == "/reset":
            with LOCK:
                CARRIED.clear()
            return self.reply(200, b"{}")
        self.reply(404, b"{}")

    def forward(self):
        if not self.path.startswith("http://"):
            return self.own_request()
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        target = urllib.parse.urlsplit(self.path)
        op = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1] or "-"
        count("%s %s://%s/ %s" % (self.command, target.scheme, target.netloc, op))
        conn = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
        try:
            conn.request(self.command, target.path or "/", body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except OSError as e:
            return self.reply(502, ('{"proxy": "%s"}' % e).encode())
        finally:
            conn.close()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in HOP_HEADERS:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = forward

    def do_CONNECT(self):
        count("CONNECT %s -" % self.path)
        host, _, port = self.path.rpartition(":")
        try:
            upstream = socket.create_connection((host, int(port)), timeout=60)
        except OSError:
            return self.reply(502, b"{}")
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        self.tunnel(self.connection, upstream)
        self.close_connection = True

    @staticmethod
    def tunnel(a, b):
        socks = [a, b]
        try:
            while True:
                readable, _, _ = select.select(socks, [], [], 60)
                if not readable:
                    return
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        except OSError:
            return
        finally:
            b.close()


if __name__ == "__main__":
    main(Handler, "logging forward proxy for tests")
