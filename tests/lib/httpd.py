#!/usr/bin/env python3
"""httpd.py -- the loopback HTTP/1.1 server of the integration tests.

Serves the files under --root on 127.0.0.1 (an ephemeral port unless
--port says which, written to PORT_FILE once listening), the way a statistics office's web server would:

  * ETag: the quoted sha1 of the body; Last-Modified: the file's mtime;
  * conditional GET/HEAD: If-None-Match (wins when present), else
    If-Modified-Since -> 304 Not Modified;
  * Content-Type text/csv (application/gzip for *.gz);
  * a missing file is 404.

--script FILE (JSON, re-read on every request, so a test may rewrite it
between runs) overrides what a path gets:

  {"/a.csv":   [{"status": 503, "headers": {"Retry-After": "1"}},
                {"status": 503}],            list: consumed in order, one entry
                                             per request; when empty, normal
                                             serving
   "/gone.csv": {"status": 404},             object: applies forever
   "/slow.csv": {"delay": 3}}                delay only: wait, then serve

An entry may hold: "status" (int; absent = serve the file normally),
"headers" (object; an "ETag" given here is also the one conditional
requests are compared with), "body" (text; default: a one-line reason for errors),
"delay" (seconds, before anything is sent), "drop": true (close the
connection without a response), "truncate": N (announce the whole file but
send only its first N bytes, then close).  A consumed list entry is removed
from the file (rewritten atomically), so the script file is the state.

--log FILE: one JSON object per line and request: method, path,
if_none_match, if_modified_since, status (null when dropped), bytes.

Stops on SIGTERM or SIGINT.  Only the standard library.
"""

import argparse
import email.utils
import hashlib
import json
import os
import posixpath
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE_LOCK = threading.Lock()   # script read-modify-write and the log


def script_take(script_path, path):
    """Return the canned entry for 'path' (consuming it if from a list)."""
    if not script_path:
        return None
    with STATE_LOCK:
        try:
            with open(script_path, encoding="utf-8") as f:
                script = json.load(f)
        except FileNotFoundError:
            return None
        bare = path.split("?", 1)[0]
        key = path if path in script else bare if bare in script else None
        if key is None:
            return None
        entry = script[key]
        if isinstance(entry, dict):
            return entry
        if not isinstance(entry, list) or not entry:
            return None
        first = entry.pop(0)
        tmp = script_path + ".tmp%d" % os.getpid()
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(script, f, ensure_ascii=False, indent=1)
        os.replace(tmp, script_path)
        return first


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ewc-test-httpd/1"

    def log_message(self, fmt, *args):  # quiet: the JSON log is the record
        if self.server.verbose:
            sys.stderr.write("httpd: " + (fmt % args) + "\n")

    def record(self, status, nbytes):
        if not self.server.log_path:
            return
        line = json.dumps({
            "time": round(time.time(), 3),
            "method": self.command,
            "path": self.path,
            "if_none_match": self.headers.get("If-None-Match"),
            "if_modified_since": self.headers.get("If-Modified-Since"),
            "status": status,
            "bytes": nbytes,
        }, ensure_ascii=False)
        with STATE_LOCK:
            with open(self.server.log_path, "a", encoding="utf-8") as f:
                f.write(line + "\n")

    def do_GET(self):
        self.serve()

    def do_HEAD(self):
        self.serve()

    def send(self, status, headers, body):
        """Send a complete response; HEAD gets the headers only."""
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, str(v))
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        sent = 0
        if self.command != "HEAD" and body:
            self.wfile.write(body)
            sent = len(body)
        self.record(status, sent)

    def local_file(self):
        """Map the URL path onto --root; None when it escapes or is no file."""
        path = urllib.parse.unquote(self.path.split("?", 1)[0])
        path = posixpath.normpath(path)
        parts = [p for p in path.split("/") if p and p not in (".", "..")]
        full = os.path.join(self.server.root, *parts)
        if not os.path.isfile(full):
            return None
        return full

    def serve(self):
        entry = script_take(self.server.script_path, self.path) or {}
        if entry.get("delay"):
            time.sleep(float(entry["delay"]))
        if entry.get("drop"):
            self.record(None, 0)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        extra = dict(entry.get("headers") or {})
        if "status" in entry:
            status = int(entry["status"])
            body = entry.get("body")
            if body is None:
                try:
                    body = HTTPStatus(status).phrase + "\n"
                except ValueError:
                    body = "status %d\n" % status
            body = body.encode("utf-8")
            hdrs = {"Content-Type": "text/plain; charset=utf-8"}
            hdrs.update(extra)
            if status == 304 or status < 200:
                body = b""
            self.send(status, hdrs, body)
            return

        full = self.local_file()
        if full is None:
            self.send(404, {"Content-Type": "text/plain; charset=utf-8"},
                      b"Not Found\n")
            return
        with open(full, "rb") as f:
            body = f.read()
        mtime = int(os.stat(full).st_mtime)
        etag = '"%s"' % hashlib.sha1(body).hexdigest()
        hdrs = {
            "Content-Type": "application/gzip" if full.endswith(".gz")
            else "text/csv; charset=utf-8",
            "ETag": etag,
            "Last-Modified": email.utils.formatdate(mtime, usegmt=True),
        }
        hdrs.update(extra)
        etag = hdrs["ETag"]     # a script may override it

        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        not_modified = False
        if inm is not None:
            tags = [t.strip() for t in inm.split(",")]
            tags = [t[2:] if t.startswith("W/") else t for t in tags]
            not_modified = "*" in tags or etag in tags
        elif ims is not None:
            try:
                since = email.utils.parsedate_to_datetime(ims).timestamp()
                not_modified = mtime <= since
            except (TypeError, ValueError, IndexError, OverflowError):
                not_modified = False
        if not_modified:
            self.send(304, {"ETag": etag,
                            "Last-Modified": hdrs["Last-Modified"],
                            "Content-Length": "0"}, b"")
            return

        if "truncate" in entry:
            n = int(entry["truncate"])
            self.send_response(200)
            for k, v in hdrs.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body[:n])
                self.wfile.flush()
            self.record(200, n)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send(200, hdrs, body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A client that timed out or hung up mid-response is expected here.
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError,
                            ConnectionAbortedError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("port_file", help="write the listening port here")
    ap.add_argument("--root", required=True, help="directory to serve")
    ap.add_argument("--script", help="JSON file of canned responses")
    ap.add_argument("--log", help="append one JSON line per request here")
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0,
                    help="port to listen on (default 0: any free one)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    srv = Server((args.bind, args.port), Handler)
    srv.root = os.path.abspath(args.root)
    srv.script_path = os.path.abspath(args.script) if args.script else None
    srv.log_path = os.path.abspath(args.log) if args.log else None
    srv.verbose = args.verbose

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.replace(tmp, args.port_file)
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
