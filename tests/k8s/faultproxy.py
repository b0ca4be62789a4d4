#!/usr/bin/python3
# faultproxy.py - a TCP proxy on 127.0.0.1 between bpfd-agent and the API server of the
# test bed, for the fault tests (tests/integration/t_k8s_faults.sh): TLS passes through
# untouched (the server certificate names IP:127.0.0.1), and the test can make the API
# server unreachable for the agent alone while the test itself still writes to it.
#
#   faultproxy.py LISTEN_PORT TARGET_PORT STATE_FILE
#
# SIGUSR1: "down": every open connection is closed (a watch breaks as when the server
# dies) and the listening socket is closed (new connections are refused).
# SIGUSR2: "up": listen again.  STATE_FILE holds "up" or "down" once the change is
# done (the test waits for it).  A connection the server refuses is closed at once.
import os
import selectors
import signal
import socket
import sys


def main():
    listen_port, target_port, state_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    sel = selectors.DefaultSelector()
    peers = {}
    want = ["up"]
    have = None
    lsock = None

    def on_signal(signum, frame):
        want[0] = "down" if signum == signal.SIGUSR1 else "up"

    signal.signal(signal.SIGUSR1, on_signal)
    signal.signal(signal.SIGUSR2, on_signal)

    def close(s):
        p = peers.pop(s, None)
        for x in (s, p):
            if x is None:
                continue
            peers.pop(x, None)
            try:
                sel.unregister(x)
            except (KeyError, ValueError):
                pass
            x.close()

    while True:
        if want[0] != have:
            if want[0] == "down":
                if lsock is not None:
                    sel.unregister(lsock)
                    lsock.close()
                    lsock = None
                for s in list(peers):
                    close(s)
            else:
                lsock = socket.socket()
                lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                lsock.bind(("127.0.0.1", listen_port))
                lsock.listen(64)
                sel.register(lsock, selectors.EVENT_READ)
            have = want[0]
            with open(state_file + ".new", "w") as f:
                f.write(have + "\n")
            os.replace(state_file + ".new", state_file)
        for key, _ in sel.select(0.05):
            s = key.fileobj
            if s is lsock:
                c, _ = lsock.accept()
                try:
                    u = socket.create_connection(("127.0.0.1", target_port), timeout=2)
                    u.settimeout(None)
                except OSError:
                    c.close()
                    continue
                peers[c] = u
                peers[u] = c
                sel.register(c, selectors.EVENT_READ)
                sel.register(u, selectors.EVENT_READ)
                continue
            if s not in peers:
                continue
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:
                close(s)
                continue
            try:
                peers[s].sendall(data)
            except OSError:
                close(s)


if __name__ == "__main__":
    main()
