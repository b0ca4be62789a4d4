#!/usr/bin/python3
# peer.py - the comparison peer of the List benchmark: a python grpcio server on a unix
# socket answering /bpfd.v1.Bpfd/List with a fixed, pre-encoded ListResponse (the bytes
# bpfd answered in the same run).  Usage: peer.py SOCKET RESPONSE_FILE
import sys
import time
from concurrent import futures

import grpc

sock, resp_file = sys.argv[1], sys.argv[2]
resp = open(resp_file, "rb").read()

# No (de)serializers: requests and the response stay raw bytes.
handler = grpc.method_handlers_generic_handler("bpfd.v1.Bpfd", {
    "List": grpc.unary_unary_rpc_method_handler(lambda req, ctx: resp),
})
server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
server.add_generic_rpc_handlers((handler,))
server.add_insecure_port("unix:" + sock)
server.start()
print("ready", flush=True)
try:
    while True:
        time.sleep(3600)
except KeyboardInterrupt:
    pass
