#!/bin/sh
# size.sh - the binary's size budget (issue 14: the stripped static binary, with images,
# metrics and the agent in it, at most 3 MB = 3,000,000 bytes; BPFD_SIZE_BUDGET overrides),
# and no zero-filled constant of 1 KiB or more in our objects' .rodata: GCC 12 builds
# `struct errmsg em = { 0 }` (a struct whose only member is a char array) and some nanopb
# _init_zero initializers by copying a zero constant from .rodata, one per object (4 KiB
# each for errmsg); `{ "" }`, `{ 0 }` of a struct that starts with a scalar, or memset()
# clear the stack instead.  Needs the build: BPFD (the binary) and BPFD_BUILD (objects).
# Prints PASS/FAIL/SKIP lines and the closing `N passed, N failed, N skipped` line.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BPFD_BUILD:-$SRC/build}
BPFD=${BPFD:-$BUILD/bpfd}
BUDGET=${BPFD_SIZE_BUDGET:-3000000}
pass=0 failed=0 skipped=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
skip() { echo "SKIP: $*"; skipped=$((skipped + 1)); }
T=$(mktemp -d /tmp/bpfd-size.XXXXXX)
trap 'rm -rf "$T"' EXIT

# the stripped binary within the budget (a static build only: SAN=1 links dynamically)
if [ ! -f "$BPFD" ]; then
	skip "no binary at $BPFD (make all)"
elif readelf -l "$BPFD" 2>/dev/null | grep -q 'Requesting program interpreter'; then
	skip "$BPFD is linked dynamically (SAN=1 or STATIC=0): the budget is for the static binary"
else
	strip -o "$T/bpfd" "$BPFD"
	size=$(stat -c %s "$T/bpfd")
	[ "$size" -le "$BUDGET" ] && ok "stripped binary $size bytes <= $BUDGET" ||
		bad "stripped binary $size bytes > $BUDGET: see what grew with" \
			"nm --size-sort -S $BPFD, size -A, or a linker map (-Wl,-Map)"
fi

# zero runs of 1 KiB or more in the .rodata sections of our objects
objs=$(find "$BUILD/src" "$BUILD/vendor-obj" "$BUILD/gen" -name '*.o' 2>/dev/null)
if [ -z "$objs" ]; then
	skip "no objects under $BUILD (make all)"
else
	for o in $objs; do
		readelf -S -W "$o" | sed -n 's/^ *\[ *[0-9]*\] \(\.rodata[^ ]*\) *PROGBITS *[0-9a-f]* [0-9a-f]* \([0-9a-f]*\) .*/\1 \2/p' |
		while read -r sec hex; do
			[ $((0x$hex)) -ge 1024 ] || continue
			objcopy -O binary --only-section="$sec" "$o" "$T/sec" 2>/dev/null || continue
			run=$(od -An -v -tu1 -w1 "$T/sec" | awk '$1 == 0 { if (++n > m) m = n; next } { n = 0 } END { print m + 0 }')
			[ "$run" -ge 1024 ] && echo "    ${o#"$BUILD"/} $sec: $run zero bytes"
		done >>"$T/bad"
	done
	if [ ! -s "$T/bad" ]; then
		ok "no zero constant of 1 KiB or more in our objects' .rodata"
	else
		bad "zero constants in .rodata (a local initialized from a copy; use { \"\" } or memset):"
		cat "$T/bad"
	fi
fi
echo "size: $pass passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
