#!/bin/sh
# t_xdp_chain_kernel.sh - the chain API's C tests (tests/unit/test_chain_kernel.c)
# wherever integration tests run: on the host (no freplace: fallback, TCX, dispatcher
# logic) and in the VM (chains, libxdp interop, restart, concurrency).
. "$(dirname "$0")/lib.sh"
bin=${BPFD_BUILD:-build}/tests/unit/test_chain_kernel
if [ ! -x "$bin" ]; then
	echo "FAIL: test_chain_kernel ($bin not built: make O=... tests/unit/test_chain_kernel)"
	echo "chain_kernel: 0 passed, 1 failed, 0 skipped"
	exit 1
fi
exec "$bin"
