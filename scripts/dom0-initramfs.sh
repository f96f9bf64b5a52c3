#!/usr/bin/env bash
# Builds dom0's initramfs (an uncompressed cpio: fastest to unpack in Bochs) from busybox-static,
# guests/dom0/init, the test scripts in guests/dom0/tests and any extra files given as
# SRC:DEST arguments (test programs, modules; a directory SRC is copied whole to DEST).
# Usage: scripts/dom0-initramfs.sh OUT.cpio [SRC:DEST]...
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$1
shift
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,tests,lib/modules}
cp /bin/busybox "$stage/bin/busybox"
for app in $("$stage/bin/busybox" --list-full); do
	[ -e "$stage/$app" ] || ln -s /bin/busybox "$stage/$app"
done
cp "$root/guests/dom0/init" "$stage/init"
cp "$root"/guests/dom0/tests/*.sh "$stage/tests/"
for pair in "$@"; do
	mkdir -p "$stage/$(dirname "${pair#*:}")"
	cp -r "${pair%%:*}" "$stage/${pair#*:}"
done
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) >"$out.tmp"
mv "$out.tmp" "$out"
