#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# run-minimal.sh - boot the minimal VM (busybox + $BPFD only) and run
# tests/vm/minimal/suite.sh in it; prints its PASS/FAIL lines and closing line.
set -eu
cd "$(dirname "$0")/../.."
vm=tests/vm/vm.sh

if [ "${BPFD_SANITIZE:-0}" = 1 ]; then
	echo "SKIP: minimal VM (a sanitizer build is linked dynamically, and the busybox-only" \
		"VM has no C library or libasan to run it)"
	echo "minimal: 0 passed, 0 failed, 1 skipped"
	exit 0
fi
if ! err=$("$vm" fetch 2>&1 >/dev/null); then
	why=$(echo "$err" | grep -v '^vm: downloading' | sed 's/^vm: //' |
	      paste -sd ';' | sed 's/;/; /g')
	echo "SKIP: minimal VM ($why)"
	echo "minimal: 0 passed, 0 failed, 1 skipped"
	exit 0
fi
# the test program the restart check loads (built by make into $BPFD_TESTBPF)
set --
prog=${BPFD_TESTBPF:-build/tests/bpf}/prog_counter.bpf.o
[ ! -f "$prog" ] || set -- --file "$prog"
set +e
"$vm" run --mode minimal --timeout "${VM_TIMEOUT:-600}" "$@" \
	-- tests/vm/minimal/suite.sh
st=$?
set -e
case $st in
124|125)
	echo "FAIL: minimal VM (did not boot or run, exit $st: see above)"
	echo "minimal: 0 passed, 1 failed, 0 skipped"
	exit 1 ;;
esac
exit "$st"
