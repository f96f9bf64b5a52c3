#!/usr/bin/env bash
# make boottime: Bochs time from power-on to dom0's marker for (a) the dom0 kernel booted by GRUB
# alone (bzImage) and (b) the same kernel under the hypervisor (vmlinux, PVH), and their ratio.
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
	--module build/dom0/vmlinux "$args" --module build/dom0/initramfs.cpio initrd
a=$(ticks "$out/native") b=$(ticks "$out/hv")
for r in native hv; do
	grep -q "dom0: test bootmark: PASS" "$out/$r/serial.log" || { echo "boottime: $r run did not reach the marker" >&2; exit 1; }
done
[ -n "$a" ] && [ -n "$b" ] || { echo "boottime: a run did not power off" >&2; exit 1; }
awk -v a="$a" -v b="$b" 'BEGIN {
	printf "boot_native %.2f s\nboot_hv %.2f s\nboot_ratio %.3f\n", a / 5e7, b / 5e7, b / a }'
