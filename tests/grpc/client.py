#!/usr/bin/python3
# client.py - a grpcio client of bpfd.v1.Bpfd for the tests (stubs generated at test
# time into $GRPC_STUBS).  Run with /usr/bin/python3 (Debian's grpcio).
#
#   client.py TARGET METHOD JSON [--ca F --cert F --key F] [--timeout S]
#       one call; prints the response as JSON, or "ERR <CODE> <details>" (exit 1)
#   client.py TARGET batch
#       one call per stdin line "METHOD JSON", one output line each (as above);
#       exit 0 (saves the interpreter start-up per call, which is slow in the VM)
#   client.py TARGET stress CLIENTS CALLS
#       CLIENTS threads, each with its own channel, CALLS List calls each;
#       prints "ok N" or the first error (exit 1)
import json
import os
import sys
import threading

sys.path.insert(0, os.environ["GRPC_STUBS"])
import grpc  # noqa: E402
from google.protobuf import json_format  # noqa: E402
import bpfd_pb2  # noqa: E402
import bpfd_pb2_grpc  # noqa: E402


def channel(target, ca=None, cert=None, key=None):
    if ca is None:
        return grpc.insecure_channel(target)
    rd = lambda p: open(p, "rb").read() if p else None  # noqa: E731
    creds = grpc.ssl_channel_credentials(rd(ca), rd(key), rd(cert))
    # The daemon's certificate names localhost (and 127.0.0.1 as DNS and IP).
    return grpc.secure_channel(target, creds,
                               options=[("grpc.ssl_target_name_override", "localhost")])


def call(stub, method, body, timeout):
    req = json_format.Parse(body, getattr(bpfd_pb2, method + "Request")())
    try:
        resp = getattr(stub, method)(req, timeout=timeout)
    except grpc.RpcError as e:
        return "ERR %s %s" % (e.code().name, e.details())
    return json.dumps(json_format.MessageToDict(resp, preserving_proto_field_name=True))


def batch(argv):
    stub = bpfd_pb2_grpc.BpfdStub(channel(argv[0]))
    for line in sys.stdin:
        if line.strip():
            method, body = line.strip().split(" ", 1)
            print(call(stub, method, body, 30), flush=True)
    return 0


def one(argv):
    target, method, body = argv[0], argv[1], argv[2]
    opts = {"--ca": None, "--cert": None, "--key": None, "--timeout": "10"}
    rest = argv[3:]
    while rest:
        opts[rest[0]] = rest[1]
        rest = rest[2:]
    ch = channel(target, opts["--ca"], opts["--cert"], opts["--key"])
    out = call(bpfd_pb2_grpc.BpfdStub(ch), method, body, float(opts["--timeout"]))
    print(out)
    return 1 if out.startswith("ERR ") else 0


def stress(argv):
    target, nclients, ncalls = argv[0], int(argv[2]), int(argv[3])
    errors = []
    counts = [0] * nclients

    def work(i):
        ch = channel(target)
        stub = bpfd_pb2_grpc.BpfdStub(ch)
        req = bpfd_pb2.ListRequest()
        for _ in range(ncalls):
            try:
                stub.List(req, timeout=30)
                counts[i] += 1
            except grpc.RpcError as e:
                errors.append("%s %s" % (e.code().name, e.details()))
                return
        ch.close()

    ts = [threading.Thread(target=work, args=(i,)) for i in range(nclients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        print("ERR %d errors, first: %s" % (len(errors), errors[0]))
        return 1
    print("ok %d" % sum(counts))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[2] == "stress":
        sys.exit(stress(sys.argv[1:]))
    if len(sys.argv) > 2 and sys.argv[2] == "batch":
        sys.exit(batch(sys.argv[1:]))
    sys.exit(one(sys.argv[1:]))
