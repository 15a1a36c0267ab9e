#!/usr/bin/python3
"""A stand-in for the EC2 instance metadata service, IMDSv2 only.

    test/imds_server.py --port 0 --port-file PATH

PUT /latest/api/token (with X-aws-ec2-metadata-token-ttl-seconds) returns a
session token; GET /latest/meta-data/iam/security-credentials/ returns the
role's name and GET .../<role> its keys, valid for an hour, and both refuse
a request without that token (401), as an IMDSv2-only instance does.
GET /stats reports how many of each request were served; /reset zeroes them
and answers normally again.  GET /hang makes every later request (but
/stats, /reset and /hang) wait 30 s without an answer, as an instance
metadata service behind a black-holed route would.
Standard library only; listens on 127.0.0.1.
"""
import datetime
import json
import threading
import time
from http.server import BaseHTTPRequestHandler

from loopback_server import main

ROLE = "ddbstream-test-role"
TOKEN = "imds-session-token-1"
LOCK = threading.Lock()
STATS = {"token": 0, "role": 0, "keys": 0, "refused": 0}
MODE = {"hang": False}
HANG_SECONDS = 30


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, content_type="text/plain"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def count(self, what):
        with LOCK:
            STATS[what] += 1

    def hang(self):
        """In hang mode, keep the request waiting without an answer."""
        with LOCK:
            hanging = MODE["hang"]
        if hanging:
            time.sleep(HANG_SECONDS)
            self.close_connection = True
        return hanging

    def do_PUT(self):
        if self.hang():
            return
        if self.path == "/latest/api/token" and \
                self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            self.count("token")
            return self.reply(200, TOKEN)
        self.reply(400, "bad request")

    def do_GET(self):
        if self.path == "/stats":
            with LOCK:
                return self.reply(200, json.dumps(STATS), "application/json")
        if self.path == "/reset":
            with LOCK:
                for k in STATS:
                    STATS[k] = 0
                MODE["hang"] = False
            return self.reply(200, "{}", "application/json")
        if self.path == "/hang":
            with LOCK:
                MODE["hang"] = True
            return self.reply(200, "{}", "application/json")
        if self.hang():
            return
        if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
            self.count("refused")
            return self.reply(401, "Unauthorized")
        base = "/latest/meta-data/iam/security-credentials/"
        if self.path == base:
            self.count("role")
            return self.reply(200, ROLE)
        if self.path == base + ROLE:
            self.count("keys")
            expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
            return self.reply(200, json.dumps({
                "Code": "Success",
                "Type": "AWS-HMAC",
                "AccessKeyId": "imdskey",
                "SecretAccessKey": "imdssecret",
                "Token": "imdssessiontoken",
                "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }), "application/json")
        self.reply(404, "Not Found")


if __name__ == "__main__":
    main(Handler, "IMDSv2 stand-in for tests")
