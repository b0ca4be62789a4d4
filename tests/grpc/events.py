#!/usr/bin/python3
# events.py - readers of bpfd's Events stream for t_events.sh.  Run with /usr/bin/python3.
#
#   events.py SOCKET grpcio N
#       a grpcio client (stubs in $GRPC_STUBS): prints each of N events as a JSON line
#       (flushed), then exits 0; "ERR CODE details" and exit 1 when the call ends first
#   events.py SOCKET never-read READY GO
#       hand-made HTTP/2 (python3-h2) that announces a stream window of 0, calls
#       Events, creates file READY and then reads nothing until file GO exists; then
#       it reads what the daemon sent and prints "status=CODE message=TEXT" of the
#       call's end (exit 0), or "no status: ..." (exit 1)
import json
import os
import socket
import struct
import sys
import time

EVENTS = "/bpfd.v1.Bpfd/Events"


def grpcio_reader(sock, n):
    sys.path.insert(0, os.environ["GRPC_STUBS"])
    import grpc
    from google.protobuf import json_format
    import bpfd_pb2
    import bpfd_pb2_grpc

    stub = bpfd_pb2_grpc.BpfdStub(grpc.insecure_channel("unix:" + sock))
    got = 0
    try:
        for ev in stub.Events(bpfd_pb2.EventsRequest()):
            print(json.dumps(json_format.MessageToDict(ev, preserving_proto_field_name=True)),
                  flush=True)
            got += 1
            if got >= n:
                return 0
    except grpc.RpcError as e:
        print("ERR %s %s" % (e.code().name, e.details()), flush=True)
        return 1
    print("ERR OK the stream ended after %d events" % got, flush=True)
    return 1


def never_read(sock, ready, go):
    import h2.config
    import h2.connection
    import h2.events
    import h2.settings

    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True,
                                                             header_encoding="utf-8"))
    c.initiate_connection()
    c.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
    c.send_headers(1, [(":method", "POST"), (":scheme", "http"), (":authority", "localhost"),
                       (":path", EVENTS), ("content-type", "application/grpc"),
                       ("te", "trailers")])
    c.send_data(1, struct.pack(">BI", 0, 0), end_stream=True)
    s.sendall(c.data_to_send())
    open(ready, "w").close()
    while not os.path.exists(go):
        time.sleep(0.05)
    s.settimeout(10)
    hdrs = {}
    end = time.time() + 20
    while time.time() < end:
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        if not data:
            break
        for ev in c.receive_data(data):
            if isinstance(ev, (h2.events.ResponseReceived, h2.events.TrailersReceived)):
                hdrs.update(dict(ev.headers))
            if isinstance(ev, h2.events.StreamReset):
                print("no status: stream reset, code %s" % ev.error_code)
                return 1
            if isinstance(ev, h2.events.StreamEnded) or "grpc-status" in hdrs:
                print("status=%s message=%s" % (hdrs.get("grpc-status"),
                                                 hdrs.get("grpc-message", "")))
                return 0
        s.sendall(c.data_to_send())
    print("no status: headers %s" % hdrs)
    return 1


def main(argv):
    if argv[1] == "grpcio":
        return grpcio_reader(argv[0], int(argv[2]))
    if argv[1] == "never-read":
        return never_read(argv[0], argv[2], argv[3])
    print("usage: events.py SOCKET grpcio N | never-read READY GO", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
