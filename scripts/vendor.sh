#!/bin/sh
# vendor.sh - fetch a pinned Debian source package, verify its checksums, extract the
# files we compile into OUTDIR.  Usage: scripts/vendor.sh vendor/NAME OUTDIR
set -eu
up="$1/UPSTREAM"
out="$2"
[ -r "$up" ] || { echo "vendor.sh: cannot read '$up'" >&2; exit 1; }
pkg=$(sed -n 's/^package=//p' "$up")
ver=$(sed -n 's/^version=//p' "$up")
files=$(sed -n 's/^files=//p' "$up")
dl="$out.dl"
rm -rf "$dl" "$out.tmp"
mkdir -p "$dl"
cd "$dl"
if ! apt-get source --download-only -qq "$pkg=$ver" >apt.log 2>&1; then
	cat apt.log >&2
	echo "vendor.sh: cannot fetch Debian source package $pkg=$ver." >&2
	echo "  Is a deb-src entry configured? Run 'make deps' (it adds one)." >&2
	echo "  If the archive no longer serves $ver, update $up (version and sha256 lines)." >&2
	exit 1
fi
cd - >/dev/null
grep '^sha256 ' "$up" | while read -r _ f sum; do
	got=$(sha256sum "$dl/$f" | cut -d' ' -f1)
	if [ "$got" != "$sum" ]; then
		echo "vendor.sh: checksum mismatch for $f: got $got, want $sum" >&2
		exit 1
	fi
done
dsc=$(ls "$dl"/*.dsc)
(cd "$dl" && dpkg-source --no-check -x "$(basename "$dsc")" src >/dev/null)
mkdir -p "$out.tmp"
for f in $files; do
	cp "$dl/src/$f" "$out.tmp/$f"
done
cp "$up" "$out.tmp/UPSTREAM"
rm -rf "$out" "$dl"
mv "$out.tmp" "$out"
