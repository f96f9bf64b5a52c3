#!/usr/bin/env bash
# Prints the path of the dom0 kernel as a bzImage (built on first use in the cached tree): for the
# boot-time comparison without the hypervisor and for the test that hands the hypervisor a bzImage.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s dom0
kdir=$(cat build/dom0/kdir)
src=$(sed -n 's/^include \(.*\)\/Makefile$/\1/p' "$kdir/Makefile") # the O= tree names its source
[ -f "$kdir/arch/x86/boot/bzImage" ] || make -s -C "$src" O="$kdir" -j"$(nproc)" bzImage >&2
echo "$kdir/arch/x86/boot/bzImage"
