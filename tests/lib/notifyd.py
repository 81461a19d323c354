#!/usr/bin/env python3
"""notifyd.py -- a stand-in for systemd's notify socket, for the tests.

    notifyd.py SOCKET OUT

Binds a unix datagram socket at the path SOCKET (what NOTIFY_SOCKET names)
and appends every datagram it receives to OUT, one assignment per line, in
the order received ("READY=1", "STATUS=...", "RELOADING=1", ...), flushed
at once so a test can poll the file.  A datagram holding several lines
("READY=1\\nSTATUS=x") gives several lines.  Creates OUT (empty) once the
socket is bound, so a test waits for OUT to exist before starting the
program under test.  Stops on SIGTERM or SIGINT and removes SOCKET.
Only the standard library.
"""

import os
import signal
import socket
import sys


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: notifyd.py SOCKET OUT\n")
        return 2
    path, out = sys.argv[1], sys.argv[2]
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        with open(out, "a", encoding="utf-8") as f:
            f.flush()
            while True:
                data = sock.recv(65536)
                text = data.decode("utf-8", "replace")
                for line in text.split("\n"):
                    if line:
                        f.write(line + "\n")
                f.flush()
    finally:
        sock.close()
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
