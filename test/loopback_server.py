"""Serving a test HTTP handler on 127.0.0.1, shared by the test servers."""
import argparse
import os
import sys
import threading
from http.server import ThreadingHTTPServer


def listed_shard(shard, seq):
    """A scripted shard as DescribeStream lists it: id, parent, sequence range
    (seq turns the script's record numbers into sequence numbers)."""
    item = {"ShardId": shard["id"], "SequenceNumberRange": {"StartingSequenceNumber": seq(shard["start"])}}
    if shard["parent"]:
        item["ParentShardId"] = shard["parent"]
    if shard["end"] is not None:
        item["SequenceNumberRange"]["EndingSequenceNumber"] = seq(shard["end"])
    return item


def serve(handler, port, port_file=None, tls_cert=None, tls_key=None):
    """Serve handler on 127.0.0.1:port (0: any free port) until interrupted,
    over TLS with the given certificate and key files when they are given.

    The chosen port is written to port_file through a rename, so a reader
    never sees a partial file, and printed as "listening on 127.0.0.1:PORT".
    """
    class Server(ThreadingHTTPServer):
        # socketserver's default backlog of 5 drops connections when a scan
        # opens many at once (max_concurrency), and the client waits 1 s
        # and more for the SYN to be sent again
        request_queue_size = 128

    server = Server(("127.0.0.1", port), handler)
    if tls_cert:
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls_cert, tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    server.local = threading.local()
    port = server.server_address[1]
    if port_file:
        with open(port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(port_file + ".tmp", port_file)
    print("listening on 127.0.0.1:%d" % port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def main(handler, description):
    """The command line of a test server with no options of its own:
    --port (0: any free port) and --port-file, as serve() takes them."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    args = ap.parse_args()
    sys.exit(serve(handler, args.port, args.port_file))
