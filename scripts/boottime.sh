#!/usr/bin/env bash
# make boottime: Bochs time from power-on to dom0's marker for (a) the dom0 kernel's bzImage booted
# by GRUB alone and (b) the same bzImage and initrd booted by GRUB through the hypervisor (the
# same path: the kernel decompresses itself both times), and their ratio; then (c) the same
# kernel as the PVH vmlinux under the hypervisor, for comparison.
# Both runs power off right after the marker; Bochs logs the power-off with its instruction
# count, and ips=50000000 turns that into seconds of emulated time (host load does not matter).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD out=build/boottime model=${MODEL:-corei7_skylake_x}
args="console=ttyS0,115200 quiet panic=-1 tsc=reliable no_timer_check nowatchdog dom0test=bootmark"
make -s all dom0 || exit 1
bz=$(scripts/dom0-bzimage.sh) || exit 1
mkdir -p "$out"
scripts/native-iso.sh "$out/native.iso" "$bz" build/dom0/initramfs.cpio "$args" || exit 1

ticks() { # $1: run dir; prints the instruction count at the power-off, or nothing
	sed -n 's/^\([0-9]*\)[a-z]\[ACPI *\].*soft power off.*/\1/p' "$1/bochs.log" | head -1
}
tests/system/boot.sh --out "$out/native" --iso "$out/native.iso" --model "$model" --timeout 300
tests/system/boot.sh --out "$out/hv" --model "$model" --timeout 300 --cmdline "poweroff loglevel=warn" \
	--module "$bz" "$args" --module build/dom0/initramfs.cpio initrd
tests/system/boot.sh --out "$out/pvh" --model "$model" --timeout 300 --cmdline "poweroff loglevel=warn" \
	--module build/dom0/vmlinux "$args" --module build/dom0/initramfs.cpio initrd
a=$(ticks "$out/native") b=$(ticks "$out/hv") c=$(ticks "$out/pvh")
for r in native hv pvh; do
	grep -q "dom0: test bootmark: PASS" "$out/$r/serial.log" || { echo "boottime: $r run did not reach the marker" >&2; exit 1; }
done
[ -n "$a" ] && [ -n "$b" ] && [ -n "$c" ] || { echo "boottime: a run did not power off" >&2; exit 1; }
awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN {
	printf "boot_native %.2f s\nboot_hv %.2f s\nboot_ratio %.3f\n", a / 5e7, b / 5e7, b / a
	printf "boot_hv_pvh %.2f s\nboot_ratio_pvh %.3f\n", c / 5e7, c / a }'
