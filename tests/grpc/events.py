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
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import h2.settings
    import rawh2

    s, c = rawh2.session(sock)
    c.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
    rawh2.send_call(c, 1, rawh2.headers(EVENTS))
    s.sendall(c.data_to_send())
    open(ready, "w").close()
    while not os.path.exists(go):
        time.sleep(0.05)
    hdrs, _, reset = rawh2.collect(s, c, 1, until=20)
    if "grpc-status" not in hdrs:
        print("no status: headers %s, reset %s" % (hdrs, reset))
        return 1
    print("status=%s message=%s" % (hdrs["grpc-status"], hdrs.get("grpc-message", "")))
    return 0


def main(argv):
    if argv[1] == "grpcio":
        return grpcio_reader(argv[0], int(argv[2]))
    if argv[1] == "never-read":
        return never_read(argv[0], argv[2], argv[3])
    print("usage: events.py SOCKET grpcio N | never-read READY GO", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
