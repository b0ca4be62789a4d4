#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# run-integration.sh - boot ONE full-mode VM (Debian's kernel, host root over
# 9p) and run every tests/integration/t_*.sh in it with tests/run.sh -l vm;
# prints the guest's lines, its closing line last, and exits with its status.
set -eu
cd "$(dirname "$0")/../.."
vm=tests/vm/vm.sh
# (under tests/run.sh's own 1500 s per item, so that the VM's failure shows)
args=(--mode full --timeout "${VM_TIMEOUT:-1400}")

if ! err=$("$vm" fetch 2>&1 >/dev/null); then
	why=$(echo "$err" | grep -v '^vm: downloading' | sed 's/^vm: //' |
	      paste -sd ';' | sed 's/;/; /g')
	echo "SKIP: vm ($why)"
	echo "vm: 0 passed, 0 failed, 1 skipped"
	exit 0
fi

# The guest starts with a clean environment: pass on what the tests read,
# and share the directories of paths outside the repository (make O=...).
shares=("$PWD")
# A sanitizer build (make check SANITIZE=1) is dynamic: the host's root, which the
# guest runs, has its libraries; the reports go to $SAN_REPORTS, a share.
for k in BPFD_BUILD BPFD BPFD_TESTBPF BPFD_LOG TEST_TIMEOUT BPFD_SANITIZE SAN_REPORTS \
	 ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS; do
	[ -n "${!k:-}" ] || continue
	args+=(--env "$k")
	case $k in BPFD_LOG|TEST_TIMEOUT|BPFD_SANITIZE|*SAN_OPTIONS) continue ;; esac
	d=${!k}
	case $d in /*) ;; *) continue ;; esac
	[ -d "$d" ] || d=$(dirname "$d")
	for s in "${shares[@]}"; do
		case $d/ in "$s"/*) continue 2 ;; esac
	done
	[ -d "$d" ] && shares+=("$d")
done
for s in "${shares[@]}"; do
	args+=(--share "$s")
done
# Keep the guest's logs apart from the host run's.
args+=(--env "TEST_LOGDIR=$(realpath -m "${BPFD_BUILD:-build}")/test-logs-vm")

set +e
# A script whose header has a line "# vm: no (REASON)" tests nothing the kernel version
# changes; emulation is ~10x slower, so it runs on the host only (said here, not hidden).
scripts=()
for t in tests/integration/t_*.sh; do
	why=$(sed -n 's/^# vm: no (\(.*\))$/\1/p' "$t" | head -n 1)
	if [ -n "$why" ]; then
		echo "vm: not run in the VM: $t ($why)"
		continue
	fi
	scripts+=("$t")
done
# bpfd starts many times per test: read it once from the (uncached) work share into the
# guest's tmpfs instead of over 9p at every start.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$vm" run "${args[@]}" -- sh -c 'if [ -n "${BPFD:-}" ] && cp "$BPFD" /tmp/bpfd.vm; then
	BPFD=/tmp/bpfd.vm; export BPFD; fi; exec tests/run.sh -l vm "$@"' sh "${scripts[@]}" |
	tee "$out"
st=${PIPESTATUS[0]}
set -e
case $st in
124|125)
	at=$(sed -n 's/^=== //p' "$out" | tail -n 1)
	echo "FAIL: vm (the VM did not boot or run, exit $st${at:+, while running $at}: see above)"
	echo "vm: 0 passed, 1 failed, 0 skipped"
	exit 1 ;;
esac
exit "$st"
